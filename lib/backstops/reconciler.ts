/**
 * The reconciler (hourly): compares Identity Center with the holders table for the
 * accounts × permission sets and groups the policy covers (plus every target a holder
 * or an ACTIVE grant names, so a policy change does not hide what the system holds).
 *
 *  1. Holders. A grant id whose grant has ended (or is gone) is dropped from its holder,
 *     by the holder protocol (conditional leave). When that leaves a managed holder with
 *     no live grant, the access is an orphan the system created: it is deleted here, the
 *     holder DELETING while it happens (a grant activating meanwhile waits: HolderBusy),
 *     then removed. A DELETING holder that no live grant is working on is finished the
 *     same way. Why not the revoke workflow: it is driven by one grant's status
 *     (ACTIVE/REVOKING), and an orphan by definition has no such grant.
 *  2. Inventory: ListAccountAssignments per account × permission set, ListGroupMemberships
 *     per group, every call paced (Identity Center's 20 TPS quota is shared).
 *  3. ACTIVE grants whose access is missing: checked again directly, then marked with a
 *     history entry (ACTIVE → ACTIVE; no edge fits a status change), logged at ERROR with
 *     a metric field; the Slack worker hears the marked grant on the table's stream, as any change.
 *  4. Access in the policy's scope that no holder tracks (the system did not create it):
 *     reported; removed only with `reconcile.removeUnmanaged: true` and only when no live
 *     grant needs it, under a DELETING holder so no activation can slip in between.
 *
 * The report (counts + items) is what the function logs and returns.
 */
import { assignmentKey, describeTarget, SYSTEM_ACTORS, type Grant, type GrantStatus, type Target } from '../domain/grant.ts';
import { ConflictError } from '../errors.ts';
import type { AccessInventory, AccountInfo, BackstopLog, Directory, Holder, WorkflowDeps } from '../ports/index.ts';
import { selectorMatches } from '../policy/engine.ts';
import type { PolicyDocument } from '../policy/schema.ts';
import { acquireSlot } from '../workflow/activation.ts';
import { leaveHolder } from '../workflow/holders.ts';
import type { Pacer } from './pacer.ts';

/** Statuses in which a grant legitimately holds (or is about to hold, or is releasing) access. */
const LIVE: ReadonlySet<GrantStatus> = new Set(['ACTIVATING', 'ACTIVE', 'REVOKING']);

export const ACCESS_MISSING_ACTION = 'access missing';

export interface ReconcilerDeps {
  /** The workflow tasks' dependencies: store (grants + holders), Identity Center calls, slots. */
  workflow: WorkflowDeps;
  inventory: AccessInventory;
  directory: Directory;
  policy: PolicyDocument;
  /** Running as delegated administrator: the management account is out of reach. */
  delegatedAdmin: boolean;
  pacer: Pacer;
  log: BackstopLog;
}

export interface ReconcilerSettings {
  /** Default: the policy's reconcile.removeUnmanaged. */
  removeUnmanaged?: boolean;
  pageSize?: number;
}

export type ReconcileKind =
  | 'orphan-removed'
  | 'stale-holder-entry'
  | 'deletion-in-flight'
  | 'active-access-missing'
  | 'unmanaged'
  | 'unmanaged-removed'
  | 'error';

export interface ReconcileItem {
  kind: ReconcileKind;
  /** The assignment key (account#<id>#<permission set ARN>#<user> or group#<id>#<user>). */
  key: string;
  target: string;
  principalId: string;
  grantIds?: string[];
  detail?: string;
}

export interface ReconcileReport {
  startedAt: string;
  finishedAt: string;
  /** False when the run stopped before listing every target (time budget). */
  complete: boolean;
  removeUnmanaged: boolean;
  counts: {
    targets: number;
    targetsListed: number;
    accessSeen: number;
    holders: number;
    activeGrants: number;
    managedOk: number;
  } & Record<ReconcileKind, number>;
  items: ReconcileItem[];
}

export interface ReconcileRunOptions {
  timeLeftMs?: () => number;
}

interface ScopeTarget {
  target: Target;
  /** Covered by a policy rule (unmanaged access is only reported for these). */
  inPolicy: boolean;
}

interface PresentAccess {
  target: Target;
  principalId: string;
  membershipId?: string;
}

export function targetKey(target: Target): string {
  return target.type === 'account' ? `account#${target.accountId}#${target.permissionSetArn}` : `group#${target.groupId}`;
}

/** Every account × permission set and group the policy's rules cover, resolved through the Directory. */
export async function coveredTargets(policy: PolicyDocument, directory: Directory, delegatedAdmin: boolean): Promise<Target[]> {
  const out = new Map<string, Target>();
  const accountRules = policy.rules.filter((r) => r.targets.type === 'account');
  let accounts: AccountInfo[] = [];
  if (accountRules.length > 0) {
    const management = delegatedAdmin ? await directory.managementAccountId() : undefined;
    accounts = (await directory.listAccounts()).filter((a) => a.id !== management);
  }
  const arns = new Map<string, string | undefined>();
  for (const rule of policy.rules) {
    const t = rule.targets;
    if (t.type === 'group') {
      for (const group of t.groups) {
        const groupId = await directory.findGroupId(group);
        if (groupId) out.set(`group#${groupId}`, { type: 'group', group, groupId });
      }
      continue;
    }
    for (const name of t.permissionSets) {
      if (!arns.has(name)) arns.set(name, await directory.findPermissionSetArn(name));
      const permissionSetArn = arns.get(name);
      if (!permissionSetArn) continue;
      for (const account of accounts) {
        if (!selectorMatches(t.accounts, account)) continue;
        const target: Target = { type: 'account', accountId: account.id, accountName: account.name, permissionSet: name, permissionSetArn };
        out.set(targetKey(target), target);
      }
    }
  }
  return [...out.values()];
}

function emptyCounts(): ReconcileReport['counts'] {
  return {
    targets: 0,
    targetsListed: 0,
    accessSeen: 0,
    holders: 0,
    activeGrants: 0,
    managedOk: 0,
    'orphan-removed': 0,
    'stale-holder-entry': 0,
    'deletion-in-flight': 0,
    'active-access-missing': 0,
    unmanaged: 0,
    'unmanaged-removed': 0,
    error: 0,
  };
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export class Reconciler {
  private readonly pageSize: number;

  constructor(
    private readonly deps: ReconcilerDeps,
    private readonly settings: ReconcilerSettings = {},
  ) {
    this.pageSize = settings.pageSize ?? 100;
  }

  private get store() {
    return this.deps.workflow.store;
  }

  private get idc() {
    return this.deps.workflow.identityCenter;
  }

  async run(options: ReconcileRunOptions = {}): Promise<ReconcileReport> {
    const timeLeft = options.timeLeftMs ?? (() => Number.POSITIVE_INFINITY);
    const startedAt = this.deps.workflow.clock.now().toISOString();
    const removeUnmanaged = this.settings.removeUnmanaged ?? this.deps.policy.reconcile.removeUnmanaged;
    const counts = emptyCounts();
    const items: ReconcileItem[] = [];
    const record = (kind: ReconcileKind, key: string, target: Target, principalId: string, extra: { grantIds?: string[]; detail?: string } = {}) => {
      counts[kind]++;
      items.push({ kind, key, target: describeTarget(target), principalId, ...extra });
    };

    // Scope: the policy's targets, plus whatever holders and ACTIVE grants name.
    const scope = new Map<string, ScopeTarget>();
    for (const target of await coveredTargets(this.deps.policy, this.deps.directory, this.deps.delegatedAdmin)) scope.set(targetKey(target), { target, inPolicy: true });
    const holders = await this.allHolders();
    const active = await this.allActive();
    counts.holders = holders.length;
    counts.activeGrants = active.length;
    for (const t of [...holders.map((h) => h.target), ...active.map((g) => g.target)]) {
      if (!scope.has(targetKey(t))) scope.set(targetKey(t), { target: t, inPolicy: false });
    }
    counts.targets = scope.size;

    // 1. Holders.
    for (const holder of holders) {
      try {
        await this.checkHolder(holder, record);
      } catch (err) {
        record('error', holder.key, holder.target, holder.principalId, { grantIds: holder.grantIds, detail: message(err) });
        this.deps.log.error('reconciler could not settle a holder', { key: holder.key, error: message(err) });
      }
    }

    // 2. Inventory, paced.
    const present = new Map<string, PresentAccess>();
    const listed = new Set<string>();
    let complete = true;
    for (const [key, { target }] of scope) {
      if (timeLeft() <= 0) {
        complete = false;
        break;
      }
      try {
        for (const access of await this.listAccess(target)) present.set(assignmentKey({ userId: access.principalId }, target), access);
        listed.add(key);
      } catch (err) {
        complete = false;
        record('error', key, target, '', { detail: `could not list access: ${message(err)}` });
        this.deps.log.error('reconciler could not list access', { target: key, error: message(err) });
      }
    }
    counts.targetsListed = listed.size;
    counts.accessSeen = present.size;

    // 3. ACTIVE grants whose access is missing.
    const activeKeys = new Set<string>();
    for (const grant of active) {
      const key = assignmentKey(grant.principal, grant.target);
      activeKeys.add(key);
      if (!listed.has(targetKey(grant.target)) || present.has(key)) continue;
      try {
        await this.flagIfMissing(grant, key, record);
      } catch (err) {
        record('error', key, grant.target, grant.principal.userId, { grantIds: [grant.id], detail: message(err) });
      }
    }

    // 4. Access nobody in this system holds.
    for (const [key, access] of present) {
      if (!scope.get(targetKey(access.target))?.inPolicy) continue;
      try {
        const holder = await this.store.getHolder(key);
        if (holder) {
          if (holder.managed) counts.managedOk++;
          else record('unmanaged', key, access.target, access.principalId, { grantIds: holder.grantIds, detail: 'existed before the grants that hold it; never removed while a grant holds it' });
          continue;
        }
        if (activeKeys.has(key) || !removeUnmanaged) {
          record('unmanaged', key, access.target, access.principalId, { detail: activeKeys.has(key) ? 'an ACTIVE grant relies on it but no holder tracks it' : 'not created by this system; reported only (reconcile.removeUnmanaged is false)' });
          continue;
        }
        if (timeLeft() <= 0) {
          complete = false;
          break;
        }
        await this.removeUnmanaged(key, access, record);
      } catch (err) {
        record('error', key, access.target, access.principalId, { detail: message(err) });
        this.deps.log.error('reconciler could not handle unmanaged access', { key, error: message(err) });
      }
    }

    const report: ReconcileReport = { startedAt, finishedAt: this.deps.workflow.clock.now().toISOString(), complete, removeUnmanaged, counts, items };
    return report;
  }

  private async allHolders(): Promise<Holder[]> {
    const out: Holder[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.listHolders({ limit: this.pageSize, ...(cursor ? { cursor } : {}) });
      out.push(...page.items);
      cursor = page.cursor;
    } while (cursor);
    return out;
  }

  private async allActive(): Promise<Grant[]> {
    const out: Grant[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.listByStatus('ACTIVE', { limit: this.pageSize, ...(cursor ? { cursor } : {}) });
      out.push(...page.items);
      cursor = page.cursor;
    } while (cursor);
    return out;
  }

  /** Live grants of the holder's principal on the holder's key (a DELETING holder lists none itself). */
  private async liveGrantsOn(holder: Holder): Promise<Grant[]> {
    const out: Grant[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.listByPrincipal(holder.principalId, { limit: this.pageSize, ...(cursor ? { cursor } : {}) });
      out.push(...page.items.filter((g) => LIVE.has(g.status) && assignmentKey(g.principal, g.target) === holder.key));
      cursor = page.cursor;
    } while (cursor);
    return out;
  }

  private async checkHolder(holder: Holder, record: (kind: ReconcileKind, key: string, target: Target, principalId: string, extra?: { grantIds?: string[]; detail?: string }) => void): Promise<void> {
    const { key, target, principalId } = holder;
    if (holder.state === 'DELETING') {
      const live = await this.liveGrantsOn(holder);
      if (live.length > 0) {
        record('deletion-in-flight', key, target, principalId, { grantIds: live.map((g) => g.id), detail: 'a grant workflow is removing or re-creating it' });
        return;
      }
      await this.removeManagedAccess(holder);
      record('orphan-removed', key, target, principalId, { detail: 'left DELETING by an interrupted revocation; removed' });
      this.deps.log.warn('reconciler removed access the system created and no grant holds', { key, metric: 'OrphanedAccessRemoved', value: 1 });
      return;
    }

    const grants = await Promise.all(holder.grantIds.map((id) => this.store.get(id)));
    const dead = holder.grantIds.filter((_, i) => !grants[i] || !LIVE.has(grants[i]!.status));
    if (dead.length === 0) return;
    let outcome: Awaited<ReturnType<typeof leaveHolder>> | undefined;
    for (const grantId of dead) outcome = await leaveHolder(this.deps.workflow, key, grantId);
    const ended = dead.map((id) => `${id} (${grants[holder.grantIds.indexOf(id)]?.status ?? 'gone'})`).join(', ');
    if (outcome?.kind === 'delete') {
      await this.removeManagedAccess(outcome.holder);
      record('orphan-removed', key, target, principalId, { grantIds: dead, detail: `held only by ended grants: ${ended}` });
      this.deps.log.warn('reconciler removed access the system created and no grant holds', { key, grantIds: dead, metric: 'OrphanedAccessRemoved', value: 1 });
    } else {
      record('stale-holder-entry', key, target, principalId, {
        grantIds: dead,
        detail: outcome?.kind === 'keep-unmanaged' ? `ended grants forgotten (${ended}); the access pre-existed and stays` : `ended grants forgotten (${ended}); live grants still hold the access`,
      });
    }
  }

  /** Deletes access a DELETING holder stands for, then the holder (the same steps as the revoke workflow). */
  private async removeManagedAccess(holder: Holder): Promise<void> {
    const t = holder.target;
    if (t.type === 'account') {
      const ref = { principalId: holder.principalId, accountId: t.accountId, permissionSetArn: t.permissionSetArn };
      // Deletions count against the 10 outstanding async operations like creations.
      const lease = await acquireSlot(this.deps.workflow, `reconcile#${holder.key}`);
      try {
        const op = await this.deps.pacer.paced(() => this.idc.deleteAssignment(ref));
        if (op) {
          const done: { status: string; failureReason?: string } = op.status === 'IN_PROGRESS' ? await this.idc.waitForAssignment('delete', op.requestId) : op;
          if (done.status !== 'SUCCEEDED') {
            throw new Error(`Identity Center did not confirm the deletion (${done.status}${done.failureReason ? `: ${done.failureReason}` : ''}); the holder stays DELETING and the next run tries again`);
          }
        }
      } finally {
        await this.deps.workflow.slots.release(lease);
      }
    } else {
      const membershipId = holder.membershipId ?? (await this.deps.pacer.paced(() => this.idc.membershipId(t.groupId, holder.principalId)));
      if (membershipId) await this.deps.pacer.paced(() => this.idc.removeMembership(membershipId));
    }
    await this.store.removeDeletedHolder(holder.key);
  }

  private async listAccess(target: Target): Promise<PresentAccess[]> {
    const out: PresentAccess[] = [];
    let token: string | undefined;
    do {
      if (target.type === 'account') {
        const page = await this.deps.pacer.paced(() => this.deps.inventory.listAssignments(target.accountId, target.permissionSetArn, token));
        // Assignments to groups are how permanent access is usually given; this system only assigns users.
        for (const row of page.items) if (row.principalType === 'USER') out.push({ target, principalId: row.principalId });
        token = page.nextToken;
      } else {
        const page = await this.deps.pacer.paced(() => this.deps.inventory.listMemberships(target.groupId, token));
        for (const row of page.items) if (row.userId) out.push({ target, principalId: row.userId, membershipId: row.membershipId });
        token = page.nextToken;
      }
    } while (token);
    return out;
  }

  private async accessExists(grant: Grant): Promise<boolean> {
    const t = grant.target;
    if (t.type === 'account') return this.deps.pacer.paced(() => this.idc.assignmentExists(grant.principal.userId, t.accountId, t.permissionSetArn));
    return (await this.deps.pacer.paced(() => this.idc.membershipId(t.groupId, grant.principal.userId))) !== undefined;
  }

  private async flagIfMissing(grant: Grant, key: string, record: (kind: ReconcileKind, key: string, target: Target, principalId: string, extra?: { grantIds?: string[]; detail?: string }) => void): Promise<void> {
    // The listing took a while: look again before raising an alarm.
    const fresh = await this.store.get(grant.id);
    if (!fresh || fresh.status !== 'ACTIVE') return;
    if (await this.accessExists(fresh)) return;
    const detail = `Identity Center has no ${describeTarget(fresh.target)} for ${fresh.principal.userName}: it was removed outside this system while the grant is ACTIVE (until ${fresh.expiresAt})`;
    const last = fresh.history.at(-1);
    const alreadyMarked = last?.actor.id === SYSTEM_ACTORS.reconciler.id && last.action === ACCESS_MISSING_ACTION;
    if (!alreadyMarked) {
      try {
        await this.store.transition({
          current: fresh,
          to: 'ACTIVE',
          entry: { at: this.deps.workflow.clock.now().toISOString(), actor: SYSTEM_ACTORS.reconciler, action: ACCESS_MISSING_ACTION, detail },
        });
      } catch (err) {
        // Extended or revoked meanwhile: the next run looks again.
        if (err instanceof ConflictError) return;
        throw err;
      }
    }
    record('active-access-missing', key, fresh.target, fresh.principal.userId, { grantIds: [fresh.id], detail });
    this.deps.log.error('ACTIVE grant has lost its access in Identity Center', { grantId: fresh.id, key, expiresAt: fresh.expiresAt, metric: 'ActiveGrantAccessMissing', value: 1, firstSeen: !alreadyMarked });
  }

  private async removeUnmanaged(key: string, access: PresentAccess, record: (kind: ReconcileKind, key: string, target: Target, principalId: string, extra?: { grantIds?: string[]; detail?: string }) => void): Promise<void> {
    // A DELETING holder first: an activation for this key now waits (HolderBusy) instead of
    // counting the access as pre-existing and losing it a moment later.
    let holder: Holder;
    try {
      holder = await this.store.createHolder({
        key,
        target: access.target,
        principalId: access.principalId,
        grantIds: [],
        managed: true,
        state: 'DELETING',
        ...(access.membershipId ? { membershipId: access.membershipId } : {}),
      });
    } catch (err) {
      if (err instanceof ConflictError) return; // a grant took it just now: it is held, not unmanaged
      throw err;
    }
    await this.removeManagedAccess(holder);
    record('unmanaged-removed', key, access.target, access.principalId, { detail: 'not created by this system; removed because reconcile.removeUnmanaged is true' });
    this.deps.log.warn('reconciler removed access this system did not create (reconcile.removeUnmanaged)', { key, metric: 'UnmanagedAccessRemoved', value: 1 });
  }
}
