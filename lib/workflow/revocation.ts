/**
 * The revoke workflow's one Lambda task (statemachines/revoke.asl.json), begun a few
 * seconds ahead of the expiry (or at once for an early revoke or a sweep):
 *
 *  - re-read the grant: ended → stop; ACTIVE with a later expiresAt (extended) → stop,
 *    a newer schedule exists; ACTIVE → wait for the exact expiry (the reads and the
 *    invocation are done by then), then REVOKING;
 *  - leave the holder: other holders remain → no delete (invariant 2); last holder of
 *    pre-existing access → holder forgotten, no delete (invariant 3); last holder of
 *    access the system created → holder DELETING; with a slot (tried for from half a second
 *    before the expiry, and once more beside the REVOKING write) this task starts the
 *    delete itself, otherwise it takes a place in the line and
 *    the state machine deletes once handed a slot; the state machine checks the deletion
 *    and gives the slot back;
 *  - no delete: the terminal write (EXPIRED, or REVOKED for an early revoke) happens
 *    here; with a delete it is prepared here and written by the state machine once
 *    Identity Center confirms the deletion.
 *
 * Idempotent: a second run (double fire, sweeper, retry) that finds REVOKING finishes
 * the job; the holder is left at most once because leaving reads the holder first.
 */
import { assignmentKey, isTerminal, SYSTEM_ACTORS, type Grant, type GrantStatus } from '../domain/grant.ts';
import { ConflictError } from '../errors.ts';
import type { Holder } from '../domain/holder.ts';
import type { PreparedWrite, SlotLease, SlotLeaseRequest, TransitionRequest, WorkflowDeps } from '../ports/index.ts';
import { slotKey } from '../table/keys.ts';
import { accessPlan, type AccessPlan, type InstanceIds } from './access-plan.ts';
import { SLOT_LEASE_MS, slotLeaseRequest } from './activation.ts';
import { ActivationInProgress } from './errors.ts';
import { leaveHolder, onConflictRetry, sleeper, type LeaveOutcome } from './holders.ts';

export type RevocationMode = 'expiry' | 'early' | 'sweep';

export interface RevocationInput {
  grantId: string;
  /** The expiry this execution enforces; a grant extended past it is left alone. */
  expiresAt?: string;
  mode?: RevocationMode;
}

export type RevocationAction = 'stop' | 'done' | 'deleteAssignment' | 'deleteMembership';

export interface RevocationPlan extends AccessPlan {
  action: RevocationAction;
  membershipId: string;
  holderKey: string;
  /** Who holds the slot for the delete (deleteAssignment only): the state machine gives it back as this owner. */
  slotLease?: SlotLeaseRequest;
  /** The slot this task took, so the delete goes out at once; absent → `waiter`. */
  slot?: { pk: string };
  /** The delete this task started itself (it held a slot): the state machine goes straight to its status checks. */
  deletion?: { requestId: string };
  /** Every slot was busy: this revocation's place in the line (ahead of every activation); WaitForDeleteSlot waits to be handed one. */
  waiter?: { sk: string };
  /** The writes to make once the access is gone (delete actions): RemoveHolder, then FinishGrant. */
  removeHolder?: PreparedWrite;
  finishGrant?: PreparedWrite;
  status?: GrantStatus;
}

const MAX_ROUNDS = 5;

/**
 * How long this task keeps trying to start the delete itself. Its short pauses win a throttled
 * quota's next token where the state machine's Retry (a second or more) would come late; past this,
 * the state machine's DeleteAssignment takes over.
 */
export const PROMPT_DELETE_MS = 5_000;

/**
 * How long before the expiry an expiry's run starts trying for the slot its delete will need, and
 * the pause between its tries: at the expiry the slot is already held (or tried once more beside
 * the REVOKING write), so a loaded table or a slot freed a moment late does not delay the delete.
 * The slots are kept free of new activations for expiries this close (lib/adapters/dynamo-slots.ts).
 */
const SLOT_AHEAD_MS = 500;
const SLOT_AHEAD_PAUSE_MS = 100;

function finalStatusOf(grant: Grant): 'EXPIRED' | 'REVOKED' {
  return grant.revokeReason !== undefined ? 'REVOKED' : 'EXPIRED';
}

function terminalTransition(grant: Grant, at: string, detail: string): TransitionRequest {
  const to = finalStatusOf(grant);
  return {
    current: grant,
    to,
    set: { endedAt: at },
    entry: { at, actor: SYSTEM_ACTORS.revoker, action: to === 'REVOKED' ? 'revoked' : 'expired', detail },
  };
}

/** The run's mode: an input without one is an expiry (the schedules' input). */
const modeOf = (input: RevocationInput): RevocationMode => input.mode ?? 'expiry';

/** Until `at` (a past instant: at once). */
function sleepUntil(deps: WorkflowDeps, at: number): Promise<void> {
  const ms = at - deps.clock.now().getTime();
  if (!(ms > 0)) return Promise.resolve();
  return sleeper(deps)(ms);
}

/**
 * Moves the grant to REVOKING when this run is entitled to; returns the reason to stop otherwise.
 * `ahead` is called once the grant read ahead of its expiry is to be written at it (before the wait);
 * `beside` is called with the grant read, at or after the expiry, right before its REVOKING write,
 * so work that does not depend on that write goes out with it.
 */
async function enterRevoking(deps: WorkflowDeps, input: RevocationInput, ahead: (grant: Grant, due: number) => void, beside: (grant: Grant) => void): Promise<Grant | string> {
  // An expiry run begins ahead of the instant it enforces; nothing is written before that instant.
  const due = modeOf(input) === 'expiry' && input.expiresAt ? Date.parse(input.expiresAt) : Number.NaN;
  for (let round = 0; ; round++) {
    const grant = await deps.store.get(input.grantId);
    if (!grant) return 'grant does not exist';
    if (isTerminal(grant.status)) return `grant is already ${grant.status}`;
    if (grant.status === 'REVOKING') {
      beside(grant);
      return grant;
    }
    if (grant.status === 'ACTIVATING' && due > deps.clock.now().getTime()) {
      // Still activating ahead of its expiry: decide at the expiry, as the rule below does.
      await sleepUntil(deps, due);
      continue;
    }
    if (grant.status === 'ACTIVATING' && input.mode !== 'early' && grant.expiresAt && Date.parse(grant.expiresAt) <= deps.clock.now().getTime()) {
      // Its expiry came while its activation is still under way (it waited long for a slot, or its
      // execution died and is being resumed): retried until it is ACTIVE (then revoked) or FAILED.
      throw new ActivationInProgress(`grant ${grant.id} expired at ${grant.expiresAt} while its activation is still under way; revoking once it is active`);
    }
    if (grant.status !== 'ACTIVE') return `grant is ${grant.status}, not active`;

    const mode = modeOf(input);
    const now = deps.clock.now();
    if (mode !== 'early') {
      const current = grant.expiresAt ? Date.parse(grant.expiresAt) : Number.NaN;
      const enforced = input.expiresAt ? Date.parse(input.expiresAt) : now.getTime();
      // Extended after this run was scheduled: the extension's own schedule will end it (no early removal).
      if (current > enforced) return `grant was extended to ${grant.expiresAt}; a newer schedule ends it`;
    }
    // The access lasts until the expiry: the grant read ahead of it is written at it (an extension or
    // an early revoke meanwhile makes the write lose its race, and the next round decides anew).
    if (due > now.getTime()) ahead(grant, due);
    await sleepUntil(deps, due);
    const at = deps.clock.now();
    beside(grant);
    try {
      return await deps.store.transition({
        current: grant,
        to: 'REVOKING',
        ...(mode === 'early' ? { set: { revokeReason: 'revoked early' } } : {}),
        entry: {
          at: at.toISOString(),
          actor: mode === 'sweep' ? SYSTEM_ACTORS.sweeper : SYSTEM_ACTORS.revoker,
          action: mode === 'early' ? 'revoke requested' : 'expiry reached',
          detail: mode === 'sweep' ? `expired at ${grant.expiresAt}; its scheduled revocation did not run` : `expired at ${grant.expiresAt}`,
        },
      });
    } catch (err) {
      // An extension or an early revoke won the race: read again and decide anew.
      if (!(err instanceof ConflictError) || round + 1 >= MAX_ROUNDS) throw err;
    }
  }
}

/** Tries for a slot from `SLOT_AHEAD_MS` before `due` until one is held or the last pause before `due` (the try beside the REVOKING write comes then). */
async function slotAhead(deps: WorkflowDeps, owner: string, due: number): Promise<SlotLease | undefined> {
  await sleepUntil(deps, due - SLOT_AHEAD_MS);
  for (;;) {
    const lease = await deps.slots.tryAcquire(owner, SLOT_LEASE_MS);
    if (lease) return lease;
    if (due - deps.clock.now().getTime() <= SLOT_AHEAD_PAUSE_MS) return undefined;
    await sleeper(deps)(SLOT_AHEAD_PAUSE_MS);
  }
}

export async function beginRevocation(deps: WorkflowDeps, input: RevocationInput): Promise<RevocationPlan> {
  // Every step after expiresAt delays the delete: the reads are done ahead of it, and the rest goes
  // out beside the writes it does not depend on.
  const slotLease = slotLeaseRequest(deps, `revoke#${input.grantId}`);
  let holderRead: Promise<Holder | undefined> | undefined;
  let slotTried: Promise<SlotLease | undefined> | undefined;
  let triedBeside = false;
  const giveBackSlot = async () => {
    const taken = await slotTried?.catch(() => undefined);
    if (taken) await deps.slots.release(taken);
  };
  let ids: InstanceIds;
  let entered: Grant | string;
  try {
    [ids, entered] = await Promise.all([
      deps.identityCenter.instance(),
      enterRevoking(
        deps,
        input,
        (read, due) => {
          // The slot for an assignment's delete is tried for from shortly before the expiry.
          if (read.target.type === 'account' && !slotTried) {
            slotTried = slotAhead(deps, slotLease.owner, due);
            slotTried.catch(() => undefined);
          }
        },
        (read) => {
          // Each round reads the holder afresh beside its own write: a read from a lost round may be stale.
          holderRead = deps.store.getHolder(assignmentKey(read.principal, read.target));
          holderRead.catch(() => undefined);
          // Not held yet: tried (once more) beside the REVOKING write. The last holder (the usual
          // case) deletes at once; any other outcome gives it straight back.
          if (read.target.type === 'account' && !triedBeside) {
            triedBeside = true;
            const earlier = slotTried?.catch(() => undefined);
            slotTried = earlier ? earlier.then((held) => held ?? deps.slots.tryAcquire(slotLease.owner, SLOT_LEASE_MS)) : deps.slots.tryAcquire(slotLease.owner, SLOT_LEASE_MS);
            slotTried.catch(() => undefined);
          }
        },
      ),
    ]);
  } catch (err) {
    await giveBackSlot();
    throw err;
  }
  if (typeof entered === 'string') {
    await giveBackSlot();
    return { ...accessPlan(input.grantId, ids), action: 'stop', reason: entered, membershipId: '', holderKey: '' };
  }
  const grant = entered;
  const key = assignmentKey(grant.principal, grant.target);
  // REVOKING: no schedule of this grant can do anything useful any more; they go while the holder is
  // left. An expiry's run has none left: its own schedule started it and the Scheduler deleted it
  // after it fired (ActionAfterCompletion DELETE), or it was started directly, with none.
  const schedulesGone = modeOf(input) === 'expiry' ? Promise.resolve() : deps.workflows.deleteSchedules(grant);
  schedulesGone.catch(() => undefined);
  try {
    const [leaving, taking] = await Promise.allSettled([leaveHolder(deps, key, grant.id, holderRead), slotTried]);
    const taken = taking.status === 'fulfilled' ? taking.value : undefined;
    // A slot not needed for a delete (or taken by a run that could not leave the holder) goes straight back.
    if (taken && !(leaving.status === 'fulfilled' && leaving.value.kind === 'delete')) await deps.slots.release(taken);
    if (leaving.status === 'rejected') throw leaving.reason;
    const left = leaving.value;
    return await planRemoval(deps, grant, key, left, ids, slotLease, left.kind === 'delete' ? taken : undefined);
  } finally {
    await schedulesGone;
  }
}

async function planRemoval(deps: WorkflowDeps, grant: Grant, key: string, left: LeaveOutcome, ids: InstanceIds, slotLease: SlotLeaseRequest, taken?: SlotLease): Promise<RevocationPlan> {
  const t = grant.target;
  const plan: RevocationPlan = { ...accessPlan(grant.id, ids, grant), action: 'done', membershipId: '', holderKey: key };
  const at = deps.clock.now().toISOString();

  if (left.kind === 'delete') {
    const finish = {
      finishGrant: deps.revocationWrites.finishGrant(terminalTransition(grant, at, 'access removed from Identity Center')),
      removeHolder: deps.revocationWrites.removeHolder(key),
    };
    if (t.type === 'account') {
      // Expiry is the deadline that matters: a slot now, or a place in the line ahead of every
      // activation, served earliest expiry first.
      const admission = taken ? { lease: taken } : await deps.slots.acquireOrQueue(slotLease.owner, { kind: 'revoke', place: grant.expiresAt ?? at }, SLOT_LEASE_MS);
      if (!('lease' in admission)) return { ...plan, action: 'deleteAssignment', slotLease, waiter: admission.queued, ...finish };
      // With a slot, the delete goes out from here: no hand-off to the state machine in between.
      const started = await deps.identityCenter.startDeletionPromptly({ principalId: grant.principal.userId, accountId: t.accountId, permissionSetArn: t.permissionSetArn }, PROMPT_DELETE_MS);
      const deletion = started ? { deletion: { requestId: started.requestId } } : {};
      return { ...plan, action: 'deleteAssignment', slotLease, slot: { pk: slotKey(admission.lease.slot).pk }, ...deletion, ...finish };
    }
    const membershipId = left.holder.membershipId ?? (await deps.identityCenter.membershipId(t.groupId, grant.principal.userId));
    if (membershipId) return { ...plan, action: 'deleteMembership', membershipId, ...finish };
    // The membership is already gone: nothing left to delete.
    await deps.store.removeDeletedHolder(key);
  }

  const detail =
    left.kind === 'others-remain'
      ? `access kept: ${left.holder.grantIds.length} other grant(s) still hold it`
      : left.kind === 'keep-unmanaged'
        ? 'access kept: it existed before this grant and is not removed by the system'
        : 'access removed from Identity Center';
  const ended = await onConflictRetry(deps, async () => {
    const current = await deps.store.get(grant.id);
    if (!current || current.status !== 'REVOKING') return current;
    return deps.store.transition(terminalTransition(current, at, detail));
  });
  return { ...plan, action: 'done', ...(ended ? { status: ended.status } : {}) };
}
