/**
 * The grant workflow's two Lambda tasks (statemachines/grant.asl.json):
 *
 *  prepareActivation  APPROVED/SCHEDULED → ACTIVATING with the expiry fixed (now + duration) and
 *                     its revocation scheduled before any access exists, so a grant's clock never
 *                     depends on this execution surviving; then takes a holder on the assignment key
 *                     and decides whether Identity Center must create anything. For an account
 *                     target whose answer needs Identity Center (ListAccountAssignments), it
 *                     first takes a slot, or joins the line of waiters (activations after
 *                     revocations, first come first served) and the state machine waits,
 *                     at no cost, until a releaser hands it a slot and wakes it; then this
 *                     task runs again on that slot. So the checks, like the creates, run at
 *                     most one per slot: a storm of grants cannot flood the 20 TPS that every
 *                     caller of Identity Center shares.
 *  completeActivation gives the slot back (handing it to the next waiter) as soon as the
 *                     create's status is terminal, then ACTIVE (activatedAt = now, the expiry as
 *                     fixed) + the revocation schedule, or FAILED with a reason the requester can
 *                     act on, the holder released and the schedule deleted.
 *
 * The slots keep the system within Identity Center's quota of outstanding assignment
 * operations (lib/table/keys.ts SLOT_COUNT); the create and the status polling run in the
 * state machine (SDK integrations): a slot is held from just before the check until the
 * create's status is terminal.
 * Both tasks are idempotent: a re-run after a crash or a Retry finds its own earlier
 * writes and carries on.
 */
import { addDuration } from '../domain/duration.ts';
import { assignmentKey, SYSTEM_ACTORS, type Grant, type GrantStatus } from '../domain/grant.ts';
import { ConflictError } from '../errors.ts';
import { logger } from '../logger.ts';
import { canJoin, joinNeedsCheck, type Holder } from '../domain/holder.ts';
import { slotKey } from '../table/keys.ts';
import { accessPlan, type AccessPlan, type InstanceIds } from './access-plan.ts';
import { HolderBusy, SlotsBusy } from './errors.ts';
import { describeActivationFailure } from './failure-reason.ts';
import { leaveHolder, onConflictRetry, sleeper } from './holders.ts';
import type { SlotLease, SlotLeaseRequest, WorkflowDeps } from '../ports/index.ts';

/**
 * How long a slot is leased: the create's throttling retries and its 15 min of status polling,
 * with room. A waiter handed a slot renews the lease when it runs again. A holder that dies is
 * found by the sweeper within a minute or two (its workflow no longer runs), not by this lease.
 */
export const SLOT_LEASE_MS = 60 * 60_000;
/** How long an in-process caller (the reconciler) waits for a free slot before giving up with SlotsBusy. */
export const SLOT_WAIT_MS = 8_000;

export type ActivationAction = 'stop' | 'activate' | 'waitForSlot' | 'createAssignment' | 'createMembership';

export interface ActivationInput {
  grantId: string;
}

/** What the state machine needs; every field a path reads is present on that path. */
export interface ActivationPlan extends AccessPlan {
  action: ActivationAction;
  groupId: string;
  coveredByExistingAccess: boolean;
  /** waitForSlot: this grant's place in the line of waiters (the sort key of its waiter item). */
  waiter?: { sk: string };
  /** createAssignment: the slot this task holds for the create. */
  leasedSlot?: { pk: string };
}

export type ActivationOutcome = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ERROR';

export interface ActivationResult {
  outcome: ActivationOutcome;
  failureReason?: string;
  /** The operation status as Identity Center returned it (FAILED carries FailureReason). */
  status?: { Status?: string; FailureReason?: string };
  membershipId?: string;
  /** Step Functions error name and cause, for ERROR. */
  error?: string;
  cause?: string;
}

export interface CompleteActivationInput {
  grantId: string;
  plan?: Partial<ActivationPlan>;
  result: ActivationResult;
}

export interface CompleteActivationOutput {
  grantId: string;
  status: GrantStatus;
  expiresAt?: string;
}

const ACTIVATABLE: readonly GrantStatus[] = ['APPROVED', 'SCHEDULED'];

/** Leases a slot in-process, waiting up to `waitMs`, else SlotsBusy. Only for rare callers (the reconciler); the workflows lease slots in their state machines. */
export async function acquireSlot(deps: WorkflowDeps, owner: string, waitMs = SLOT_WAIT_MS): Promise<SlotLease> {
  const sleep = sleeper(deps);
  const random = deps.random ?? Math.random;
  const deadline = deps.clock.now().getTime() + waitMs;
  for (;;) {
    const lease = await deps.slots.tryAcquire(owner, SLOT_LEASE_MS);
    if (lease) return lease;
    if (deps.clock.now().getTime() >= deadline) {
      throw new SlotsBusy('every slot for Identity Center assignment operations is in use; retrying');
    }
    await sleep(200 + Math.floor(random() * 600));
  }
}

/** Who holds a slot for this grant's activation (the same in this task and in the state machine's lease). */
const slotOwner = (grantId: string) => `activate#${grantId}`;

/** The lease a slot is taken with for `owner`. */
export function slotLeaseRequest(deps: WorkflowDeps, owner: string): SlotLeaseRequest {
  return { owner, expiresAt: new Date(deps.clock.now().getTime() + SLOT_LEASE_MS).toISOString() };
}

/** An activation's place in the line of waiters: when it began (the same on every run of this task, so a re-run keeps its place). */
function activationPlace(grant: Grant): string {
  for (let i = grant.history.length - 1; i >= 0; i--) {
    const entry = grant.history[i]!;
    if (entry.to === 'ACTIVATING') return entry.at;
  }
  return grant.requestedAt;
}

function basePlan(grantId: string, ids: InstanceIds, grant?: Grant): ActivationPlan {
  const t = grant?.target;
  return { ...accessPlan(grantId, ids, grant), action: 'stop', groupId: t?.type === 'group' ? t.groupId : '', coveredByExistingAccess: false };
}

async function accessExists(deps: WorkflowDeps, grant: Grant): Promise<{ exists: boolean; membershipId?: string }> {
  const t = grant.target;
  if (t.type === 'account') {
    return { exists: await deps.identityCenter.assignmentExists(grant.principal.userId, t.accountId, t.permissionSetArn) };
  }
  const membershipId = await deps.identityCenter.membershipId(t.groupId, grant.principal.userId);
  return membershipId ? { exists: true, membershipId } : { exists: false };
}

const holderBusy = (key: string) => new HolderBusy(`the access for ${key} is being removed after another grant ended; waiting for that to finish`);

/**
 * Whether this grant's holder step will have to ask Identity Center (no holder yet, or a managed
 * one whose create may still be in flight); an unmanaged holder is joined without asking.
 * Holder DELETING → HolderBusy (retried until the deletion is done).
 */
async function holderNeedsCheck(deps: WorkflowDeps, key: string): Promise<boolean> {
  const holder = await deps.store.getHolder(key);
  if (holder && !canJoin(holder)) throw holderBusy(key);
  return joinNeedsCheck(holder);
}

/**
 * Takes (or finds) this grant's place in the holder and says whether Identity Center
 * must create the access. Holder DELETING → HolderBusy (retried until the deletion is done).
 */
async function takeHolder(deps: WorkflowDeps, grant: Grant): Promise<{ needsCreate: boolean; covered: boolean }> {
  const key = assignmentKey(grant.principal, grant.target);
  return onConflictRetry(deps, async () => {
    let holder: Holder | undefined = await deps.store.getHolder(key);
    if (!holder) {
      // First holder: access that exists now was not created by this system (invariant 3).
      const found = await accessExists(deps, grant);
      await deps.store.createHolder({
        key,
        target: grant.target,
        principalId: grant.principal.userId,
        grantIds: [grant.id],
        managed: !found.exists,
        state: 'PRESENT',
        ...(found.membershipId ? { membershipId: found.membershipId } : {}),
      });
      return { needsCreate: !found.exists, covered: found.exists };
    }
    if (!canJoin(holder)) throw holderBusy(key);
    if (!holder.grantIds.includes(grant.id)) holder = await deps.store.joinHolder(holder, grant.id);
    if (!holder.managed) return { needsCreate: false, covered: true };
    // A managed holder's create may still be in flight (or may have failed): make sure the access
    // exists. Creating an existing assignment is harmless; AWS answers with a request that SUCCEEDS.
    const found = await accessExists(deps, grant);
    return { needsCreate: !found.exists, covered: false };
  });
}

export async function prepareActivation(deps: WorkflowDeps, input: ActivationInput): Promise<ActivationPlan> {
  const ids = await deps.identityCenter.instance();
  const owner = slotOwner(input.grantId);
  // A slot handed to this grant while it waited is given back on every path that needs none.
  const giveBackSlots = () => deps.slots.releaseOwnedBy(owner);
  let grant = await deps.store.get(input.grantId);
  if (!grant) {
    await giveBackSlots();
    return { ...basePlan(input.grantId, ids), reason: 'grant does not exist' };
  }
  if (!ACTIVATABLE.includes(grant.status) && grant.status !== 'ACTIVATING') {
    // Cancelled before it started (or while it waited), or already active/ended: a re-run is a no-op.
    await giveBackSlots();
    return { ...basePlan(grant.id, ids, grant), reason: `grant is ${grant.status}` };
  }

  const plan = basePlan(grant.id, ids, grant);
  let slot: SlotLease | undefined;
  try {
    if (grant.status !== 'ACTIVATING') {
      const current = grant;
      // The requested duration counts from now: whatever happens to this execution, the access it
      // creates ends by then (the schedule below, or the sweeper, revokes it).
      const at = deps.clock.now().toISOString();
      const expiresAt = addDuration(at, current.duration);
      grant = await deps.store.transition({
        current,
        to: 'ACTIVATING',
        set: { expiresAt },
        entry: { at, actor: SYSTEM_ACTORS.workflow, action: 'activation started', detail: `access until ${expiresAt} at the latest` },
      });
    }
    const isAccount = grant.target.type === 'account';
    // Also the first look for a holder being deleted (HolderBusy), before anything is scheduled.
    const needsCheck = (await holderNeedsCheck(deps, assignmentKey(grant.principal, grant.target))) && isAccount;
    // Scheduled before any access is created (and before any slot is held); an upsert, so a re-run
    // after a crash makes sure of it.
    if (grant.expiresAt) await deps.workflows.scheduleRevocation(grant);
    if (needsCheck) {
      // The check (and the create after it) runs on a slot: one now, or a place in the line.
      const admission = await deps.slots.acquireOrQueue(owner, { kind: 'activate', place: activationPlace(grant) }, SLOT_LEASE_MS);
      if ('queued' in admission) return { ...plan, action: 'waitForSlot', waiter: admission.queued };
      slot = admission.lease;
    }
    const { needsCreate, covered } = await takeHolder(deps, grant);
    plan.coveredByExistingAccess = covered;
    if (!needsCreate) {
      await giveBackSlots();
      return { ...plan, action: 'activate' };
    }
    if (!isAccount) return { ...plan, action: 'createMembership' };
    if (!slot) {
      // The holder changed between the look and the join (its access vanished): wait for a slot like any check.
      const admission = await deps.slots.acquireOrQueue(owner, { kind: 'activate', place: activationPlace(grant) }, SLOT_LEASE_MS);
      if ('queued' in admission) return { ...plan, action: 'waitForSlot', waiter: admission.queued };
      slot = admission.lease;
    }
    // The slot is held from here to a terminal creation status (completeActivation gives it back).
    return { ...plan, action: 'createAssignment', leasedSlot: { pk: slotKey(slot.slot).pk } };
  } catch (err) {
    // A Retry of this task waits with its backoff: not on a slot others could use (it takes one again when it runs).
    await giveBackSlots().catch(() => undefined);
    // The grant may have been cancelled between the read and the transition.
    if (err instanceof ConflictError) {
      const fresh = await deps.store.get(input.grantId);
      if (fresh && !ACTIVATABLE.includes(fresh.status) && fresh.status !== 'ACTIVATING') {
        return { ...basePlan(fresh.id, ids, fresh), reason: `grant is ${fresh.status}` };
      }
    }
    throw err;
  }
}

/**
 * What a releaser wakes an activation with after handing it a slot: the plan its prepare task
 * would make on that slot (the pre-existence check runs here, on the slot), so the woken grant
 * goes straight to its create without running the task again. Undefined whenever the grant
 * has anything else to do (it is no longer activating, its access exists, its holder is busy,
 * a call failed): it is then woken with the slot's key alone and its prepare task decides.
 */
export async function planOnHandedSlot(deps: WorkflowDeps, owner: string, slot: { pk: string }): Promise<ActivationPlan | undefined> {
  if (!owner.startsWith(slotOwner(''))) return undefined;
  const grantId = owner.slice(slotOwner('').length);
  try {
    const grant = await deps.store.get(grantId);
    if (!grant || grant.status !== 'ACTIVATING' || grant.target.type !== 'account') return undefined;
    if (!(await holderNeedsCheck(deps, assignmentKey(grant.principal, grant.target)))) return undefined;
    // The slot was handed over with a full lease; its hand-over marks stay until the waiter is
    // woken, so a wake-up that does not go out is found by the sweeper's repair.
    const { needsCreate, covered } = await takeHolder(deps, grant);
    if (!needsCreate) return undefined;
    const plan = basePlan(grant.id, await deps.identityCenter.instance(), grant);
    return { ...plan, coveredByExistingAccess: covered, action: 'createAssignment', leasedSlot: { pk: slot.pk } };
  } catch (err) {
    logger.warn('could not plan the activation of a woken waiter; it plans on its own', { grantId, error: err instanceof Error ? err.message : String(err) });
    return undefined;
  }
}

/** Last holder of access the system created, after a failed or unknown create: remove whatever exists, then the holder. */
async function cleanUpAfterFailure(deps: WorkflowDeps, grant: Grant, holder: Holder): Promise<void> {
  const t = grant.target;
  if (t.type === 'account') {
    // A timed-out or errored create may still have succeeded: look before forgetting the holder.
    if (await deps.identityCenter.assignmentExists(grant.principal.userId, t.accountId, t.permissionSetArn)) {
      const op = await deps.identityCenter.deleteAssignment({ principalId: grant.principal.userId, accountId: t.accountId, permissionSetArn: t.permissionSetArn });
      if (op && op.status === 'IN_PROGRESS') await deps.identityCenter.waitForAssignment('delete', op.requestId);
    }
  } else {
    const membershipId = holder.membershipId ?? (await deps.identityCenter.membershipId(t.groupId, grant.principal.userId));
    if (membershipId) await deps.identityCenter.removeMembership(membershipId);
  }
  await deps.store.removeDeletedHolder(holder.key);
}

async function failActivation(deps: WorkflowDeps, grant: Grant, result: ActivationResult): Promise<CompleteActivationOutput> {
  // A PrepareActivation that timed out (or kept failing) after taking a slot cannot give it back itself.
  await deps.slots.releaseOwnedBy(slotOwner(grant.id));
  const key = assignmentKey(grant.principal, grant.target);
  const left = await leaveHolder(deps, key, grant.id);
  if (left.kind === 'delete') await cleanUpAfterFailure(deps, grant, left.holder);

  const kind = result.outcome === 'TIMED_OUT' ? 'timeout' : result.outcome === 'FAILED' ? 'failed' : 'error';
  const identityCenterReason = result.failureReason ?? result.status?.FailureReason;
  const { reason: failureReason, detail } = describeActivationFailure({
    kind,
    ...(identityCenterReason ? { failureReason: identityCenterReason } : {}),
    ...(result.error ? { error: result.error } : {}),
    ...(result.cause ? { cause: result.cause } : {}),
  });
  // The raw error (a Lambda error's stack, an SDK message) is for operators only.
  const log = kind === 'failed' ? logger.warn.bind(logger) : logger.error.bind(logger);
  log('activation failed', { grantId: grant.id, outcome: result.outcome, error: result.error, cause: result.cause, identityCenterReason, failureReason });
  const at = deps.clock.now().toISOString();
  const failed = await onConflictRetry(deps, async () => {
    const current = await deps.store.get(grant.id);
    if (!current || !(ACTIVATABLE.includes(current.status) || current.status === 'ACTIVATING')) return current;
    return deps.store.transition({
      current,
      to: 'FAILED',
      set: { failureReason, endedAt: at },
      entry: { at, actor: SYSTEM_ACTORS.workflow, action: 'activation failed', detail: detail ? `${failureReason} (${detail})` : failureReason },
    });
  });
  // The revocation scheduled when the activation began has nothing to do.
  await deps.workflows.deleteSchedules(grant).catch((err: unknown) => {
    logger.warn('could not delete the schedules of a failed activation (they find nothing to do)', { grantId: grant.id, error: err instanceof Error ? err.message : String(err) });
  });
  return { grantId: grant.id, status: failed?.status ?? 'FAILED' };
}

export async function completeActivation(deps: WorkflowDeps, input: CompleteActivationInput): Promise<CompleteActivationOutput> {
  // The create's status is terminal (or unknowable): its slot goes to the next waiter at once,
  // while this grant's own writes go on (the hand-over may plan that waiter's create).
  const slotBack = input.plan?.leasedSlot ? deps.slots.releaseOwnedBy(slotOwner(input.grantId)) : Promise.resolve();
  slotBack.catch(() => undefined);
  try {
    return await finishActivation(deps, input);
  } finally {
    await slotBack;
  }
}

async function finishActivation(deps: WorkflowDeps, input: CompleteActivationInput): Promise<CompleteActivationOutput> {
  const grant = await deps.store.get(input.grantId);
  if (!grant) return { grantId: input.grantId, status: 'FAILED' };

  if (input.result.outcome !== 'SUCCEEDED') {
    if (!(ACTIVATABLE.includes(grant.status) || grant.status === 'ACTIVATING')) return { grantId: grant.id, status: grant.status };
    return failActivation(deps, grant, input.result);
  }

  if (grant.status === 'ACTIVE') {
    // A re-run after the ACTIVE write: the schedule may be what failed; creating it again is an upsert.
    await deps.workflows.scheduleRevocation(grant);
    return { grantId: grant.id, status: grant.status, ...(grant.expiresAt ? { expiresAt: grant.expiresAt } : {}) };
  }
  if (grant.status !== 'ACTIVATING') return { grantId: grant.id, status: grant.status };

  const membershipId = input.result.membershipId;
  if (grant.target.type === 'group' && membershipId) {
    const key = assignmentKey(grant.principal, grant.target);
    try {
      await onConflictRetry(deps, async () => {
        const holder = await deps.store.getHolder(key);
        if (holder && !holder.membershipId) await deps.store.setMembershipId(key, membershipId, holder.version);
      });
    } catch (err) {
      // Only saves a lookup: the revocation finds the membership id with GetGroupMembershipId when it is missing.
      logger.warn('could not record the membership id on the holder', { grantId: grant.id, error: err instanceof Error ? err.message : String(err) });
    }
  }

  // Access began when Identity Center said SUCCEEDED, which is now (the poll that saw it just ended);
  // it ends at the expiry fixed when the activation began.
  const activatedAt = deps.clock.now().toISOString();
  const expiresAt = grant.expiresAt ?? addDuration(activatedAt, grant.duration);
  const covered = input.plan?.coveredByExistingAccess === true;
  const active = await deps.store.transition({
    current: grant,
    to: 'ACTIVE',
    set: { activatedAt, expiresAt, ...(covered ? { coveredByExistingAccess: true } : {}) },
    entry: {
      at: activatedAt,
      actor: SYSTEM_ACTORS.workflow,
      action: 'activated',
      detail: covered ? `until ${expiresAt}; the access already existed without this system and will not be removed at expiry` : `until ${expiresAt}`,
    },
  });
  // The revocation was scheduled when the activation began, with this expiry; a grant that began
  // activating without one is scheduled now.
  if (!grant.expiresAt) await deps.workflows.scheduleRevocation(active);
  return { grantId: active.id, status: active.status, expiresAt };
}
