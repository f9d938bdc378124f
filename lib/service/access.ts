/**
 * Who holds what now, and why (GET /access, `npm run access:report`): the reconciler's access
 * inventory (what it saw in Identity Center, with when) joined with the live holders in the
 * table (what this system holds for which grants, until when). Access a holder created is
 * `jit`; anything else is `permanent` (access this system did not create, even while a grant
 * also relies on it). A grant activated since the inventory last looked is answered from its
 * holder. Admins and auditors only.
 */
import { assignmentKey, type Grant, type Target } from '../domain/grant.ts';
import type { Holder } from '../domain/holder.ts';
import { ValidationError } from '../errors.ts';
import { GrantAuthorization } from '../policy/authorization.ts';
import type { Caller, PolicyEngine } from '../policy/engine.ts';
import type { Directory, GrantStore, HolderStore, InventoryEntry, InventoryFilter, InventoryStore, PassProgress } from '../ports/index.ts';

export interface AccessQuery {
  account?: string;
  /** Email or user name. */
  user?: string;
  /** Permission set name. */
  permissionSet?: string;
  /** Group display name. */
  group?: string;
}

export interface AccessItem {
  why: 'jit' | 'permanent';
  principal: { type: 'USER' | 'GROUP'; id: string; name?: string };
  account?: { id: string; name?: string };
  permissionSet?: string;
  group?: { id: string; name?: string };
  /** Live grants holding it, with when each ends. */
  grants: { id: string; status: string; until?: string }[];
  /** When the reconciler last saw it in Identity Center (absent: activated since it last looked). */
  lastSeen?: string;
  /** The group is provisioned by SCIM from this identity provider: the IdP's next push may undo a membership added here. */
  scimIssuer?: string;
}

export interface AccessFreshness {
  /** The last finished pass: the inventory is at least this fresh. */
  lastPass?: Pick<PassProgress, 'passId' | 'strategy' | 'startedAt' | 'calls' | 'drift' | 'runs'> & { finishedAt: string };
  /** The pass under way, if any: how far it has come. */
  currentPass?: Pick<PassProgress, 'passId' | 'strategy' | 'startedAt' | 'unitsDone' | 'unitsTotal' | 'runs'>;
}

export interface AccessAnswer {
  freshness: AccessFreshness;
  items: AccessItem[];
}

/** Per account and permission set (or group): how many principals hold it permanently and through JIT. */
export interface StandingAccessRow {
  target: string;
  permanent: number;
  jit: number;
}

export interface AccessServiceDeps {
  inventory: InventoryStore;
  store: GrantStore & HolderStore;
  directory: Directory;
  policy: PolicyEngine;
}

const LIVE = new Set(['ACTIVATING', 'ACTIVE', 'REVOKING']);

export class AccessService {
  private readonly authorization: GrantAuthorization;

  constructor(private readonly deps: AccessServiceDeps) {
    this.authorization = new GrantAuthorization(deps.policy);
  }

  async access(caller: Caller, query: AccessQuery): Promise<AccessAnswer> {
    await this.authorization.authorize(caller, 'audit');
    const filter = await this.resolve(query);
    const [entries, holders, cursor, lastPass, names] = await Promise.all([
      this.deps.inventory.find(filter),
      this.holdersMatching(filter),
      this.deps.inventory.cursor(),
      this.deps.inventory.lastPass(),
      this.names(),
    ]);
    const byKey = new Map(holders.map((h) => [h.key, h]));
    const items: AccessItem[] = [];
    const userNames = new Map<string, string | undefined>();
    const userName = async (id: string) => {
      if (!userNames.has(id)) userNames.set(id, (await this.deps.directory.describeUser(id))?.userName);
      return userNames.get(id);
    };
    const seenKeys = new Set<string>();
    for (const e of entries) {
      const key = e.kind === 'assignment' ? (e.principalType === 'USER' ? assignmentKey({ userId: e.principalId }, accountTarget(e.accountId, e.permissionSetArn)) : undefined) : assignmentKey({ userId: e.userId }, groupTarget(e.groupId));
      const holder = key ? byKey.get(key) : undefined;
      if (key) seenKeys.add(key);
      items.push(await this.item(e, holder, names, userName));
    }
    // Grants activated since the inventory last looked: their holders say so.
    for (const holder of holders) {
      if (seenKeys.has(holder.key) || holder.state !== 'PRESENT') continue;
      const t = holder.target;
      const entry: InventoryEntry =
        t.type === 'account'
          ? { kind: 'assignment', accountId: t.accountId, permissionSetArn: t.permissionSetArn, principalType: 'USER', principalId: holder.principalId, passId: '', lastSeen: '' }
          : { kind: 'membership', groupId: t.groupId, userId: holder.principalId, passId: '', lastSeen: '' };
      const item = await this.item(entry, holder, names, userName);
      delete item.lastSeen;
      items.push(item);
    }
    const freshness: AccessFreshness = {};
    if (lastPass) freshness.lastPass = { passId: lastPass.passId, strategy: lastPass.strategy, startedAt: lastPass.startedAt, finishedAt: lastPass.finishedAt, calls: lastPass.calls, drift: lastPass.drift, runs: lastPass.runs };
    if (cursor) freshness.currentPass = { passId: cursor.passId, strategy: cursor.strategy, startedAt: cursor.startedAt, unitsDone: cursor.unitsDone, unitsTotal: cursor.unitsTotal, runs: cursor.runs };
    return { freshness, items: items.sort(byTarget) };
  }

  /** The standing-access summary: per target, permanent vs JIT holders, most permanent first. */
  static standingAccess(items: AccessItem[]): StandingAccessRow[] {
    const rows = new Map<string, StandingAccessRow>();
    for (const item of items) {
      const target = describe(item);
      const row = rows.get(target) ?? { target, permanent: 0, jit: 0 };
      row[item.why]++;
      rows.set(target, row);
    }
    return [...rows.values()].sort((a, b) => b.permanent - a.permanent || b.jit - a.jit || a.target.localeCompare(b.target));
  }

  private async item(e: InventoryEntry, holder: Holder | undefined, names: Names, userName: (id: string) => Promise<string | undefined>): Promise<AccessItem> {
    const grants = holder ? await this.liveGrants(holder) : [];
    const principalId = e.kind === 'assignment' ? e.principalId : e.userId;
    const principalType = e.kind === 'assignment' ? e.principalType : 'USER';
    const name = principalType === 'USER' ? await userName(principalId) : names.groups.get(principalId);
    const item: AccessItem = {
      why: holder?.managed ? 'jit' : 'permanent',
      principal: { type: principalType, id: principalId, ...(name ? { name } : {}) },
      grants,
      lastSeen: e.lastSeen,
    };
    if (e.kind === 'assignment') {
      const accountName = names.accounts.get(e.accountId);
      item.account = { id: e.accountId, ...(accountName ? { name: accountName } : {}) };
      item.permissionSet = names.permissionSets.get(e.permissionSetArn) ?? e.permissionSetArn;
    } else {
      const groupName = names.groups.get(e.groupId);
      item.group = { id: e.groupId, ...(groupName ? { name: groupName } : {}) };
      if (e.scimIssuer) item.scimIssuer = e.scimIssuer;
    }
    return item;
  }

  private async liveGrants(holder: Holder): Promise<AccessItem['grants']> {
    const grants = await Promise.all(holder.grantIds.map((id) => this.deps.store.get(id)));
    return grants.filter((g): g is Grant => !!g && LIVE.has(g.status)).map((g) => ({ id: g.id, status: g.status, ...(g.expiresAt ? { until: g.expiresAt } : {}) }));
  }

  /** Names to ids; a name the directory does not know is the caller's mistake (400). */
  private async resolve(q: AccessQuery): Promise<InventoryFilter> {
    const filter: InventoryFilter = {};
    if (q.account) filter.accountId = q.account;
    if (q.user) {
      const user = q.user.includes('@') ? await this.deps.directory.findUserByEmail(q.user) : await this.deps.directory.findUserByUserName(q.user);
      if (!user) throw new ValidationError(`user: no user ${q.user} in Identity Center`);
      filter.principalId = user.userId;
    }
    if (q.permissionSet) {
      const arn = await this.deps.directory.findPermissionSetArn(q.permissionSet);
      if (!arn) throw new ValidationError(`permissionSet: no permission set named ${q.permissionSet} in Identity Center`);
      filter.permissionSetArn = arn;
    }
    if (q.group) {
      const groupId = await this.deps.directory.findGroupId(q.group);
      if (!groupId) throw new ValidationError(`group: no group named ${q.group} in Identity Center`);
      filter.groupId = groupId;
    }
    return filter;
  }

  private async holdersMatching(f: InventoryFilter): Promise<Holder[]> {
    const out: Holder[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.deps.store.listHolders({ limit: 100, ...(cursor ? { cursor } : {}) });
      for (const h of page.items) {
        const t = h.target;
        if (f.principalId && h.principalId !== f.principalId) continue;
        if (f.groupId && (t.type !== 'group' || t.groupId !== f.groupId)) continue;
        if (f.accountId && (t.type !== 'account' || t.accountId !== f.accountId)) continue;
        if (f.permissionSetArn && (t.type !== 'account' || t.permissionSetArn !== f.permissionSetArn)) continue;
        out.push(h);
      }
      cursor = page.cursor;
    } while (cursor);
    return out;
  }

  /** Display names of the accounts, and of the permission sets and groups the policy names. */
  private async names(): Promise<Names> {
    const doc = this.deps.policy.document;
    const accounts = new Map((await this.deps.directory.listAccounts()).map((a) => [a.id, a.name]));
    const permissionSets = new Map<string, string>();
    const groups = new Map<string, string>();
    const groupNames = new Set<string>([...(doc.admins?.groups ?? []), ...(doc.auditors?.groups ?? [])]);
    for (const rule of doc.rules) {
      if (rule.targets.type === 'group') rule.targets.groups.forEach((g) => groupNames.add(g));
      else {
        for (const name of rule.targets.permissionSets) {
          const arn = await this.deps.directory.findPermissionSetArn(name);
          if (arn) permissionSets.set(arn, name);
        }
      }
      rule.requesters.groups?.forEach((g) => groupNames.add(g));
    }
    for (const name of groupNames) {
      const id = await this.deps.directory.findGroupId(name);
      if (id) groups.set(id, name);
    }
    return { accounts, permissionSets, groups };
  }
}

interface Names {
  accounts: Map<string, string>;
  permissionSets: Map<string, string>;
  groups: Map<string, string>;
}

const accountTarget = (accountId: string, permissionSetArn: string): Target => ({ type: 'account', accountId, permissionSet: '', permissionSetArn });
const groupTarget = (groupId: string): Target => ({ type: 'group', group: '', groupId });

const describe = (i: AccessItem) =>
  i.account ? `${i.permissionSet} on ${i.account.name ? `${i.account.name} (${i.account.id})` : i.account.id}` : `member of ${i.group?.name ?? i.group?.id}`;

const byTarget = (a: AccessItem, b: AccessItem) => describe(a).localeCompare(describe(b)) || (a.principal.name ?? a.principal.id).localeCompare(b.principal.name ?? b.principal.id);
