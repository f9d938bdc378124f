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
 *  2. Inventory: a pass over the organisation in units (lib/backstops/reconcile-pass.ts: per
 *     account or per principal, whichever costs fewer calls, then each covered group's members),
 *     every call paced (Identity Center's 20 TPS quota is shared). A cursor in the table keeps the
 *     last unit done, so each run carries on where the previous one stopped and successive runs
 *     cover everything. What a unit saw is saved in the access inventory; when the pass ends,
 *     what it did not see is removed and the pass is recorded (calls, drift, how long).
 *  3. ACTIVE grants whose access is missing: checked again directly, then marked with a
 *     history entry (ACTIVE → ACTIVE; no edge fits a status change), logged at ERROR with
 *     a metric field; the Slack worker hears the marked grant on the table's stream, as any change.
 *  4. Access in the policy's scope that no holder tracks (the system did not create it):
 *     reported; removed only with `reconcile.removeUnmanaged: true` and only when no live
 *     grant needs it, under a DELETING holder so no activation can slip in between.
 *
 * The report (counts + items) is what the function logs and returns.
 */
import { randomUUID } from 'node:crypto';
import { assignmentKey, describeTarget, SYSTEM_ACTORS, type Grant, type GrantStatus, type Target } from '../domain/grant.ts';
import { ConflictError } from '../errors.ts';
import type { AccessInventory, AccountInfo, BackstopLog, Directory, DirectoryGroupRow, Holder, InventoryEntry, InventoryStore, ReconcileCursor, ReconcileStrategy, WorkflowDeps } from '../ports/index.ts';
import { selectorMatches } from '../policy/engine.ts';
import type { PolicyDocument } from '../policy/schema.ts';
import { acquireSlot } from '../workflow/activation.ts';
import { leaveHolder } from '../workflow/holders.ts';
import type { Pacer } from './pacer.ts';
import { cheaper, estimate, PassLister, scopeOf, type PassEstimate, type PassUnit, type Principals, type SeenAccess } from './reconcile-pass.ts';

/** Statuses in which a grant legitimately holds (or is about to hold, or is releasing) access. */
const LIVE: ReadonlySet<GrantStatus> = new Set(['ACTIVATING', 'ACTIVE', 'REVOKING']);

export const ACCESS_MISSING_ACTION = 'access missing';

export interface ReconcilerDeps {
  /** The workflow tasks' dependencies: store (grants + holders), Identity Center calls, slots. */
  workflow: WorkflowDeps;
  inventory: AccessInventory;
  /** The cursor, the finished passes and the access inventory (in the table). */
  passes: InventoryStore;
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
  /** How a pass lists; `auto` (default) counts the calls each way when a pass starts. */
  strategy?: ReconcileStrategy | 'auto';
}

export type ReconcileKind =
  | 'orphan-removed'
  | 'stale-holder-entry'
  | 'deletion-in-flight'
  | 'active-access-missing'
  | 'unmanaged'
  | 'unmanaged-removed'
  | 'scim-group'
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

/** Where the pass stands after this run. */
export interface PassReport {
  passId: string;
  strategy: ReconcileStrategy;
  /** True when this run finished the pass. */
  finished: boolean;
  unitsDone: number;
  unitsTotal: number;
  /** Identity Center calls this run and the pass so far. */
  callsThisRun: number;
  calls: number;
  /** The counts the strategy was chosen by (when this run started the pass). */
  estimate?: PassEstimate;
  /** Inventory entries the finished pass no longer saw, removed. */
  removed?: number;
}

export interface ReconcileReport {
  startedAt: string;
  finishedAt: string;
  /** True when this run finished a pass (every unit of the organisation listed); false when the time budget stopped it and the next run carries on. */
  complete: boolean;
  pass: PassReport;
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
    'scim-group': 0,
    error: 0,
  };
}

/** What counts as drift in a pass's record. */
const DRIFT_KINDS: readonly ReconcileKind[] = ['orphan-removed', 'stale-holder-entry', 'active-access-missing', 'unmanaged', 'unmanaged-removed'];

/** The cursor with what the pass counted when it started (kept for the pass's record). */
type PassCursor = ReconcileCursor & { principals?: number; provisionedPairs?: number; listingErrors?: number };

/** The warning for a group target an identity provider provisions by SCIM. */
export function scimAdvice(group: DirectoryGroupRow): string {
  const issuers = group.externalIds.map((e) => e.issuer).join(', ');
  return `${group.displayName} is provisioned by SCIM from ${issuers}: a membership this system adds is not synced back and the IdP's next push can undo it; use a group created in Identity Center for JIT`;
}

/** What a unit lists, for an error item. */
const unitTarget = (unit: PassUnit): string =>
  unit.kind === 'members' ? `members of group ${unit.id}` : unit.kind === 'account' ? `account ${unit.id}` : `assignments of ${unit.principalType ?? 'USER'} ${unit.id}`;

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
    const record = (kind: ReconcileKind, key: string, target: Target | string, principalId: string, extra: { grantIds?: string[]; detail?: string } = {}) => {
      counts[kind]++;
      items.push({ kind, key, target: typeof target === 'string' ? target : describeTarget(target), principalId, ...extra });
    };

    // Scope: the policy's targets, plus whatever holders and ACTIVE grants name.
    const scope = new Map<string, ScopeTarget>();
    for (const target of await coveredTargets(this.deps.policy, this.deps.directory, this.deps.delegatedAdmin)) scope.set(targetKey(target), { target, inPolicy: true });
    const holders = await this.allHolders();
    const active = await this.allActive();
    counts.holders = holders.length;
    const heldBy = new Map(holders.map((h) => [h.key, h]));
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

    // 2. Inventory: this run's share of the pass, paced.
    const callsBefore = this.deps.pacer.calls;
    const pass = await this.passUnits(scope);
    const { cursor, units } = pass;
    const present = new Map<string, PresentAccess>();
    const covered = { accounts: new Set<string>(), principals: new Set<string>(), groups: new Set<string>() };
    const scimGroups = new Map<string, DirectoryGroupRow>();
    let passDone = true;
    let listingErrors = 0;
    const now = () => this.deps.workflow.clock.now().toISOString();
    for (const unit of units) {
      if (cursor.after !== undefined && unit.key <= cursor.after) continue;
      if (timeLeft() <= 0) {
        passDone = false;
        break;
      }
      let seen: SeenAccess[];
      try {
        seen = await unit.list();
      } catch (err) {
        listingErrors++;
        record('error', unit.key, unitTarget(unit), '', { detail: `could not list access: ${message(err)}` });
        this.deps.log.error('reconciler could not list access', { unit: unit.key, error: message(err) });
        cursor.after = unit.key;
        cursor.unitsDone++;
        continue;
      }
      const lastSeen = now();
      const entries: InventoryEntry[] = [];
      for (const access of seen) {
        if (access.kind === 'assignment') {
          entries.push({ ...access, passId: cursor.passId, lastSeen });
          const inScope = scope.get(`account#${access.accountId}#${access.permissionSetArn}`);
          // Assignments to groups are how permanent access is usually given; this system only assigns users.
          if (inScope && access.principalType === 'USER') present.set(assignmentKey({ userId: access.principalId }, inScope.target), { target: inScope.target, principalId: access.principalId });
        } else {
          const scim = access.group.externalIds[0];
          entries.push({ kind: 'membership', groupId: access.groupId, userId: access.userId, ...(scim ? { scimIssuer: scim.issuer } : {}), passId: cursor.passId, lastSeen });
          const inScope = scope.get(`group#${access.groupId}`);
          if (inScope) present.set(assignmentKey({ userId: access.userId }, inScope.target), { target: inScope.target, principalId: access.userId, membershipId: access.membershipId });
        }
      }
      if (unit.kind === 'members') {
        covered.groups.add(unit.id);
        const group = await this.scimGroup(unit.id, seen);
        if (group) {
          scimGroups.set(unit.id, group);
          const target = scope.get(`group#${unit.id}`)?.target;
          const detail = scimAdvice(group);
          record('scim-group', `group#${unit.id}`, target ?? { type: 'group', group: group.displayName, groupId: unit.id }, '', { detail });
          this.deps.log.warn('a group target is provisioned by SCIM from an identity provider', { groupId: unit.id, group: group.displayName, issuer: group.externalIds[0]?.issuer, detail });
        }
      } else if (unit.kind === 'account') covered.accounts.add(unit.id);
      else covered.principals.add(unit.id);
      await this.deps.passes.saveSeen(entries);
      cursor.after = unit.key;
      cursor.unitsDone++;
      cursor.accessSeen += entries.length;
    }
    const listed = (target: Target, principalId?: string): boolean =>
      target.type === 'group'
        ? covered.groups.has(target.groupId)
        : covered.accounts.has(target.accountId) || (principalId !== undefined && covered.principals.has(principalId));
    const allPrincipalsThisRun = cursor.strategy === 'per-principal' && units.every((u) => u.kind !== 'principal' || covered.principals.has(u.id));
    counts.targetsListed = [...scope.values()].filter(({ target }) => listed(target) || (target.type === 'account' && allPrincipalsThisRun)).length;
    counts.accessSeen = present.size;
    let complete = passDone;

    // 3. ACTIVE grants whose access is missing.
    const activeKeys = new Set<string>();
    for (const grant of active) {
      const key = assignmentKey(grant.principal, grant.target);
      activeKeys.add(key);
      if (!listed(grant.target, grant.principal.userId) || present.has(key)) continue;
      try {
        await this.flagIfMissing(grant, key, record, grant.target.type === 'group' ? scimGroups.get(grant.target.groupId) : undefined);
      } catch (err) {
        record('error', key, grant.target, grant.principal.userId, { grantIds: [grant.id], detail: message(err) });
      }
    }

    // 4. Access nobody in this system holds.
    for (const [key, access] of present) {
      if (!scope.get(targetKey(access.target))?.inPolicy) continue;
      try {
        // The holders read at the start: one created since is caught by removeUnmanaged's conditional put.
        const holder = heldBy.get(key);
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

    // The pass: carried on by the next run, or finished and recorded.
    const callsThisRun = this.deps.pacer.calls - callsBefore + pass.callsBeforeUnits;
    cursor.calls += callsThisRun;
    cursor.runs++;
    cursor.errors += counts.error;
    cursor.listingErrors = (cursor.listingErrors ?? 0) + listingErrors;
    if (cursor.strategy === 'per-account') cursor.provisionedPairs = (cursor.provisionedPairs ?? 0) + pass.lister.provisionedPairs;
    cursor.drift += DRIFT_KINDS.reduce((n, kind) => n + counts[kind], 0);
    const passReport: PassReport = { passId: cursor.passId, strategy: cursor.strategy, finished: passDone, unitsDone: cursor.unitsDone, unitsTotal: cursor.unitsTotal, callsThisRun, calls: cursor.calls, ...(pass.estimate ? { estimate: pass.estimate } : {}) };
    if (passDone) {
      // A unit that could not be listed saw nothing: keep what the inventory knew of it rather than drop it.
      const removed = cursor.listingErrors === 0 ? await this.deps.passes.removeUnseen(cursor.passId) : 0;
      const { after: _after, listingErrors: _listingErrors, principals: _principals, provisionedPairs, ...progress } = cursor;
      await this.deps.passes.finishPass({
        ...progress,
        finishedAt: now(),
        removed,
        estimate: { accounts: pass.scopeAccounts, principals: cursor.principals ?? 0, ...(provisionedPairs !== undefined ? { provisionedPairs } : {}) },
      });
      passReport.removed = removed;
      this.deps.log.info('reconcile pass finished', { passId: cursor.passId, strategy: cursor.strategy, runs: cursor.runs, calls: cursor.calls, drift: cursor.drift, errors: cursor.errors, removed, startedAt: cursor.startedAt });
    } else {
      await this.deps.passes.saveCursor(cursor);
    }

    const report: ReconcileReport = { startedAt, finishedAt: now(), complete, pass: passReport, removeUnmanaged, counts, items };
    return report;
  }

  /**
   * The pass this run works on: the one the cursor holds, or a new one whose strategy is
   * chosen by counting (lib/backstops/reconcile-pass.ts), and its units in order.
   */
  private async passUnits(scope: Map<string, ScopeTarget>): Promise<{ cursor: PassCursor; units: PassUnit[]; lister: PassLister; estimate?: PassEstimate; callsBeforeUnits: number; scopeAccounts: number }> {
    const lister = new PassLister(this.deps.inventory, this.deps.pacer);
    const passScope = scopeOf([...scope.values()].map((s) => s.target));
    const before = this.deps.pacer.calls;
    let cursor = (await this.deps.passes.cursor()) as PassCursor | undefined;
    let principals: Principals | undefined;
    let chosen: PassEstimate | undefined;
    if (!cursor) {
      const wanted = this.settings.strategy ?? 'auto';
      if (wanted !== 'per-account') principals = await lister.principals();
      const last = wanted === 'auto' ? await this.deps.passes.lastPass() : undefined;
      chosen = estimate(passScope, last, principals ? principals.users.length + principals.groups.length : undefined);
      const strategy = wanted === 'auto' ? cheaper(chosen) : wanted;
      cursor = { passId: randomUUID(), strategy, startedAt: this.deps.workflow.clock.now().toISOString(), runs: 0, calls: 0, unitsDone: 0, unitsTotal: 0, accessSeen: 0, drift: 0, errors: 0, listingErrors: 0 };
      if (principals) cursor.principals = principals.users.length + principals.groups.length;
    }
    if (cursor.strategy === 'per-principal' && !principals) principals = await lister.principals();
    const units = lister.units(cursor.strategy, passScope, principals);
    cursor.unitsTotal = units.length;
    return { cursor, units, lister, ...(chosen ? { estimate: chosen } : {}), callsBeforeUnits: this.deps.pacer.calls - before, scopeAccounts: passScope.accounts.size };
  }

  /** The group a members unit listed, when an identity provider provisions it by SCIM. */
  private async scimGroup(groupId: string, seen: SeenAccess[]): Promise<DirectoryGroupRow | undefined> {
    const listedGroup = seen.find((a): a is Extract<SeenAccess, { kind: 'membership' }> => a.kind === 'membership')?.group;
    const group = listedGroup ?? (await this.deps.pacer.paced(() => this.deps.inventory.describeGroup(groupId)));
    return group.externalIds.length > 0 ? group : undefined;
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

  private async accessExists(grant: Grant): Promise<boolean> {
    const t = grant.target;
    if (t.type === 'account') return this.deps.pacer.paced(() => this.idc.assignmentExists(grant.principal.userId, t.accountId, t.permissionSetArn));
    return (await this.deps.pacer.paced(() => this.idc.membershipId(t.groupId, grant.principal.userId))) !== undefined;
  }

  private async flagIfMissing(
    grant: Grant,
    key: string,
    record: (kind: ReconcileKind, key: string, target: Target, principalId: string, extra?: { grantIds?: string[]; detail?: string }) => void,
    scim?: DirectoryGroupRow,
  ): Promise<void> {
    // The listing took a while: look again before raising an alarm.
    const fresh = await this.store.get(grant.id);
    if (!fresh || fresh.status !== 'ACTIVE') return;
    if (await this.accessExists(fresh)) return;
    const cause = scim
      ? `: ${scim.displayName} is provisioned by SCIM from ${scim.externalIds.map((e) => e.issuer).join(', ')}, whose last push most likely removed the membership (the IdP does not know of it; use a group created in Identity Center for JIT)`
      : ': it was removed outside this system';
    const detail = `Identity Center has no ${describeTarget(fresh.target)} for ${fresh.principal.userName}${cause} while the grant is ACTIVE (until ${fresh.expiresAt})`;
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
