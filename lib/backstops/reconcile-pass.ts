/**
 * What one reconcile pass lists, as units of work in a stable order (a run carries on after
 * the last unit its predecessor finished), and how it chooses between the two ways of listing:
 *
 *  - per account: ListPermissionSetsProvisionedToAccount, then ListAccountAssignments for each
 *    provisioned permission set the scope covers (a set not provisioned there cannot hold an
 *    assignment: it is never listed). Calls ≈ accounts + provisioned pairs in scope.
 *  - per principal: ListUsers and ListGroups (100 a page), then ListAccountAssignmentsForPrincipal
 *    for each user and group. Calls ≈ principals + principals / 100, whatever the number of accounts.
 *
 * Both end with ListGroupMemberships for each group target in scope (and DescribeGroup, which
 * says whether an identity provider provisions it by SCIM). Every call goes through the pacer.
 */
import type { Target } from '../domain/grant.ts';
import type { AccessInventory, DirectoryGroupRow, ListPage, ReconcilePass, ReconcileStrategy } from '../ports/index.ts';
import type { Pacer } from './pacer.ts';

/** Rows per page of every Identity Center list call the reconciler makes. */
export const IDC_PAGE_SIZE = 100;

export type SeenAccess =
  | { kind: 'assignment'; accountId: string; permissionSetArn: string; principalType: 'USER' | 'GROUP'; principalId: string }
  | { kind: 'membership'; groupId: string; userId: string; membershipId: string; group: DirectoryGroupRow };

/** One unit of a pass: an account, a principal or a group's members. */
export interface PassUnit {
  /** Sorts the units of a pass; the cursor keeps the last one done. */
  key: string;
  kind: 'account' | 'principal' | 'members';
  /** The account, the principal or the group. */
  id: string;
  principalType?: 'USER' | 'GROUP';
  list(): Promise<SeenAccess[]>;
}

export interface Principals {
  users: string[];
  groups: string[];
}

export interface PassEstimate {
  accounts: number;
  principals?: number;
  provisionedPairs?: number;
  /** Calls each way; `perAccount` is an upper bound until a pass has counted the provisioned pairs. */
  perAccount: number;
  perPrincipal?: number;
}

/** The permission sets the scope covers in each account, and the groups it covers. */
export interface Scope {
  accounts: Map<string, Set<string>>;
  groups: string[];
}

export function scopeOf(targets: Iterable<Target>): Scope {
  const accounts = new Map<string, Set<string>>();
  const groups = new Set<string>();
  for (const t of targets) {
    if (t.type === 'group') groups.add(t.groupId);
    else {
      const sets = accounts.get(t.accountId) ?? new Set<string>();
      sets.add(t.permissionSetArn);
      accounts.set(t.accountId, sets);
    }
  }
  return { accounts, groups: [...groups] };
}

const pairsIn = (scope: Scope) => [...scope.accounts.values()].reduce((n, sets) => n + sets.size, 0);

/**
 * Calls each way, counted from the scope and what the last pass counted (provisioned pairs,
 * principals). Per account needs no count beforehand: its bound is the pairs in scope.
 */
export function estimate(scope: Scope, last: ReconcilePass | undefined, principals: number | undefined): PassEstimate {
  const accounts = scope.accounts.size;
  const provisionedPairs = last?.estimate.provisionedPairs;
  const out: PassEstimate = { accounts, perAccount: accounts + Math.min(provisionedPairs ?? Number.POSITIVE_INFINITY, pairsIn(scope)) };
  if (provisionedPairs !== undefined) out.provisionedPairs = provisionedPairs;
  if (principals !== undefined) {
    out.principals = principals;
    out.perPrincipal = principals + Math.ceil(principals / IDC_PAGE_SIZE);
  }
  return out;
}

export function cheaper(e: PassEstimate): ReconcileStrategy {
  return e.perPrincipal !== undefined && e.perPrincipal < e.perAccount ? 'per-principal' : 'per-account';
}

export class PassLister {
  /** Provisioned account × permission set pairs in scope that per-account units found. */
  provisionedPairs = 0;

  constructor(
    private readonly inventory: AccessInventory,
    private readonly pacer: Pacer,
  ) {}

  /** Every page of a paced list call. */
  async all<T>(call: (token?: string) => Promise<ListPage<T>>): Promise<T[]> {
    const out: T[] = [];
    let token: string | undefined;
    do {
      const page = await this.pacer.paced(() => call(token));
      out.push(...page.items);
      token = page.nextToken;
    } while (token);
    return out;
  }

  async principals(): Promise<Principals> {
    const users = await this.all((t) => this.inventory.listUsers(t));
    const groups = await this.all((t) => this.inventory.listGroups(t));
    return { users: users.map((u) => u.userId), groups: groups.map((g) => g.groupId) };
  }

  /** The pass's units in key order (accounts or principals first, then the groups' members). */
  units(strategy: ReconcileStrategy, scope: Scope, principals?: Principals): PassUnit[] {
    const units: PassUnit[] = [];
    if (strategy === 'per-account') {
      for (const accountId of scope.accounts.keys()) units.push({ key: `A#${accountId}`, kind: 'account', id: accountId, list: () => this.listAccount(accountId, scope) });
    } else {
      if (!principals) throw new Error('a per-principal pass needs the list of principals');
      for (const userId of principals.users) units.push({ key: `P#USER#${userId}`, kind: 'principal', id: userId, principalType: 'USER', list: () => this.listPrincipal('USER', userId, scope) });
      for (const groupId of principals.groups) units.push({ key: `P#GROUP#${groupId}`, kind: 'principal', id: groupId, principalType: 'GROUP', list: () => this.listPrincipal('GROUP', groupId, scope) });
    }
    for (const groupId of scope.groups) units.push({ key: `M#${groupId}`, kind: 'members', id: groupId, list: () => this.listMembers(groupId) });
    return units.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  private async listAccount(accountId: string, scope: Scope): Promise<SeenAccess[]> {
    const covered = scope.accounts.get(accountId) ?? new Set<string>();
    const provisioned = await this.all((t) => this.inventory.listProvisionedPermissionSets(accountId, t));
    const out: SeenAccess[] = [];
    for (const permissionSetArn of provisioned) {
      if (!covered.has(permissionSetArn)) continue;
      this.provisionedPairs++;
      for (const row of await this.all((t) => this.inventory.listAssignments(accountId, permissionSetArn, t))) {
        out.push({ kind: 'assignment', accountId, permissionSetArn, principalType: row.principalType, principalId: row.principalId });
      }
    }
    return out;
  }

  private async listPrincipal(principalType: 'USER' | 'GROUP', principalId: string, scope: Scope): Promise<SeenAccess[]> {
    const rows = await this.all((t) => this.inventory.listAssignmentsForPrincipal(principalType, principalId, t));
    return rows
      .filter((r) => scope.accounts.get(r.accountId)?.has(r.permissionSetArn))
      .map((r) => ({ kind: 'assignment', accountId: r.accountId, permissionSetArn: r.permissionSetArn, principalType, principalId }));
  }

  private async listMembers(groupId: string): Promise<SeenAccess[]> {
    const group = await this.pacer.paced(() => this.inventory.describeGroup(groupId));
    const rows = await this.all((t) => this.inventory.listMemberships(groupId, t));
    return rows.flatMap((m) => (m.userId ? [{ kind: 'membership' as const, groupId, userId: m.userId, membershipId: m.membershipId, group }] : []));
  }
}
