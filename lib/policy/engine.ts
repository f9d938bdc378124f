/**
 * Evaluates the policy against Identity Center data: who may request what, for
 * how long, and whom a rule names as requester, approver or admin. Which of
 * those may act on a grant is decided in authorization.ts. Names in the policy
 * (groups, permission sets) resolve to ids through the Directory port, cached
 * per engine (that is, per Lambda container) with a TTL. Group membership of a
 * caller is never cached here: approval-time eligibility must see the
 * directory as it is now.
 */
import { durationMs, parseDuration } from '../domain/duration.ts';
import { describeTarget, type Principal, type Target, type TargetRequest } from '../domain/grant.ts';
import { ForbiddenError, UnprocessableError, ValidationError } from '../errors.ts';
import { systemClock, type AccountInfo, type Clock, type Directory, type IdentityUser } from '../ports/index.ts';
import { TtlCache } from '../ttl-cache.ts';
import type { AccountSelector, DurationBounds, PolicyDocument, PolicyRule, Principals } from './schema.ts';

/**
 * The person acting, as policy sees them. groupIds are Identity Store group ids, present when read
 * for the decision at hand (withCurrentGroups); without them policy asks the directory (its short
 * cache) only when a rule names a group, so a requester reading their own grants costs Identity
 * Center nothing, in a storm when its 20 TPS are spoken for.
 */
export type Caller = {
  userId: string;
  userName: string;
  email: string;
  groupIds?: string[];
};

export interface RuleMatch {
  rule: PolicyRule;
  target: Target;
}

export interface EligibilityEntry {
  ruleId: string;
  description?: string;
  /** Concrete targets: accounts × permission sets, or groups. */
  targets: Target[];
  duration: DurationBounds;
  approvalRequired: boolean;
  /** Distinct approvals needed; 0 when auto-approved. */
  quorum: number;
  allowSelfApproval: boolean;
  /** Who may approve, as the policy names them (users and groups); empty when auto-approved. */
  approvers: Principals;
}

export interface ApprovalRequirement {
  autoApprove: boolean;
  /** Distinct approvals needed; 0 means auto-approved. */
  quorum: number;
  allowSelfApproval: boolean;
}

export interface PolicyEngineOptions {
  /** True when running in Identity Center's delegated-administrator account: the management account is then off limits. */
  delegatedAdmin: boolean;
  /** How long resolved names (groups, permission sets, accounts) are kept. Default 5 minutes. */
  cacheTtlMs?: number;
  clock?: Clock;
}

const DEFAULT_CACHE_TTL_MS = 5 * 60_000;

export class PolicyEngine {
  readonly document: PolicyDocument;
  private readonly directory: Directory;
  private readonly delegatedAdmin: boolean;
  private readonly rulesById: Map<string, PolicyRule>;
  private readonly groupIds: TtlCache<string | undefined>;
  private readonly permissionSetArns: TtlCache<string | undefined>;
  private readonly accounts: TtlCache<AccountInfo | undefined>;
  private readonly accountList: TtlCache<AccountInfo[]>;
  private readonly managementAccount: TtlCache<string | undefined>;

  constructor(doc: PolicyDocument, directory: Directory, options: PolicyEngineOptions) {
    this.document = doc;
    this.directory = directory;
    this.delegatedAdmin = options.delegatedAdmin;
    this.rulesById = new Map(doc.rules.map((r) => [r.id, r]));
    const clock = options.clock ?? systemClock;
    // Misses are kept too: each evaluation resolves every name a rule gives, and a name the directory
    // does not know would otherwise be asked for again on every request.
    const cacheOptions = { ttlMs: options.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS, now: () => clock.now().getTime(), keepUndefined: true };
    this.groupIds = new TtlCache(cacheOptions);
    this.permissionSetArns = new TtlCache(cacheOptions);
    this.accounts = new TtlCache(cacheOptions);
    this.accountList = new TtlCache(cacheOptions);
    this.managementAccount = new TtlCache(cacheOptions);
  }

  get rules(): readonly PolicyRule[] {
    return this.document.rules;
  }

  rule(id: string): PolicyRule | undefined {
    return this.rulesById.get(id);
  }

  approvalFor(rule: PolicyRule): ApprovalRequirement {
    return {
      autoApprove: rule.approval.autoApprove,
      quorum: rule.approval.autoApprove ? 0 : rule.approval.quorum,
      allowSelfApproval: rule.approval.allowSelfApproval,
    };
  }

  pendingExpiryFor(rule: PolicyRule): string {
    return rule.pendingExpiry;
  }

  /** Cap on a grant's total time including extensions. */
  maxTotalFor(rule: PolicyRule): string {
    return rule.duration.maxTotal;
  }

  callerFromUser(user: IdentityUser): Caller {
    return { userId: user.userId, userName: user.userName, email: user.email };
  }

  async isAdmin(caller: Caller): Promise<boolean> {
    return this.isIn(caller, this.document.admins);
  }

  async isAuditor(caller: Caller): Promise<boolean> {
    return this.isIn(caller, this.document.auditors);
  }

  /**
   * The first rule, in file order, whose requesters include the caller, whose
   * targets include the target and whose duration bounds admit the duration.
   */
  async matchRequest(caller: Caller, req: TargetRequest, duration: string): Promise<RuleMatch> {
    const ms = parseDuration(duration);
    if (ms === undefined || ms <= 0) {
      throw new ValidationError(`duration "${duration}" is not an ISO 8601 duration such as PT30M or PT8H`, [
        { field: 'duration', message: 'must be an ISO 8601 duration such as PT30M or PT8H' },
      ]);
    }
    const resolved = await this.resolveRequest(req);
    const { target } = resolved;

    const covering: PolicyRule[] = [];
    for (const rule of this.document.rules) {
      if ((await this.coversResolved(rule, resolved)) && (await this.isIn(caller, rule.requesters))) covering.push(rule);
    }
    if (covering.length === 0) throw new ForbiddenError(`no policy rule lets you request ${describeTarget(target)}`);

    for (const rule of covering) {
      if (ms >= durationMs(rule.duration.min) && ms <= durationMs(rule.duration.max)) {
        return { rule, target: canonicalTarget(rule, target) };
      }
    }
    const bounds = covering.map((r) => `${r.duration.min} to ${r.duration.max} (rule ${r.id})`).join('; ');
    throw new UnprocessableError(`duration ${duration} is outside what policy allows for ${describeTarget(target)}: ${bounds}`, [
      { field: 'duration', message: `must be within ${bounds}` },
    ]);
  }

  /** What the caller may request, one entry per rule that names them and resolves to at least one target. */
  async eligibility(caller: Caller): Promise<EligibilityEntry[]> {
    const entries: EligibilityEntry[] = [];
    for (const rule of this.document.rules) {
      if (!(await this.isIn(caller, rule.requesters))) continue;
      const targets = await this.targetsOf(rule);
      if (targets.length === 0) continue;
      const approval = this.approvalFor(rule);
      const entry: EligibilityEntry = {
        ruleId: rule.id,
        targets,
        duration: { ...rule.duration },
        approvalRequired: !approval.autoApprove,
        quorum: approval.quorum,
        allowSelfApproval: approval.allowSelfApproval,
        approvers: approval.autoApprove ? { users: [], groups: [] } : { users: [...rule.approval.approvers.users], groups: [...rule.approval.approvers.groups] },
      };
      if (rule.description !== undefined) entry.description = rule.description;
      entries.push(entry);
    }
    return entries;
  }

  /** Whether the rule (if it exists) names the caller among its requesters. */
  async isRequester(caller: Caller, ruleId: string): Promise<boolean> {
    const rule = this.rule(ruleId);
    return rule !== undefined && this.isIn(caller, rule.requesters);
  }

  /** Whether the rule (if it exists) names the caller among its approvers. */
  async isApprover(caller: Caller, ruleId: string): Promise<boolean> {
    const rule = this.rule(ruleId);
    return rule !== undefined && this.isIn(caller, rule.approval.approvers);
  }

  /** Whether the rule's targets include the target, its account as Organizations describes it. */
  async covers(rule: PolicyRule, target: Target): Promise<boolean> {
    const resolved: ResolvedRequest = target.type === 'account' ? { target, account: await this.account(target.accountId) } : { target };
    return this.coversResolved(rule, resolved);
  }

  /** The person with their group membership read now, bypassing every cache: for decisions that must not rest on stale rights. */
  async withCurrentGroups(person: Principal): Promise<Caller> {
    return { ...person, groupIds: await this.directory.groupIdsOfUser(person.userId, { maxAgeMs: 0 }) };
  }

  /** Ids of the rules whose approvers include the caller (for the approvals list). */
  async rulesApprovableBy(caller: Caller): Promise<string[]> {
    const ids: string[] = [];
    for (const rule of this.document.rules) {
      if (await this.isIn(caller, rule.approval.approvers)) ids.push(rule.id);
    }
    return ids;
  }

  /**
   * Names that do not resolve in Identity Center / Organizations, and rules
   * that cover the management account when running as delegated admin.
   * For start-up and CI checks; empty means the policy fits the directory.
   */
  async validateAgainstDirectory(): Promise<string[]> {
    const problems: string[] = [];
    const doc = this.document;
    const checkPrincipals = async (where: string, p: Principals) => {
      for (const user of p.users) {
        if (!(await this.findUser(user))) problems.push(`${where}: no Identity Store user with email or userName "${user}"`);
      }
      for (const group of p.groups) {
        if (!(await this.groupId(group))) problems.push(`${where}: no Identity Store group named "${group}"`);
      }
    };

    await checkPrincipals('admins', doc.admins);
    await checkPrincipals('auditors', doc.auditors);
    const accounts = await this.allAccounts();
    const management = this.delegatedAdmin ? await this.managementAccountId() : undefined;

    for (const rule of doc.rules) {
      const at = `rule ${rule.id}`;
      await checkPrincipals(`${at} requesters`, rule.requesters);
      await checkPrincipals(`${at} approvers`, rule.approval.approvers);
      const t = rule.targets;
      if (t.type === 'group') {
        for (const group of t.groups) {
          if (!(await this.groupId(group))) problems.push(`${at} targets: no Identity Store group named "${group}"`);
        }
        continue;
      }
      for (const name of t.permissionSets) {
        if (!(await this.permissionSetArn(name))) problems.push(`${at} targets: no permission set named "${name}"`);
      }
      for (const id of t.accounts.ids) {
        if (!(await this.account(id))) problems.push(`${at} targets: account ${id} is not in the organization`);
      }
      for (const ou of t.accounts.ous) {
        if (!accounts.some((a) => a.ouPath.includes(ou))) problems.push(`${at} targets: OU ${ou} holds no account of the organization`);
      }
      if (Object.keys(t.accounts.tags).length > 0 && !accounts.some((a) => tagsMatch(t.accounts.tags, a.tags))) {
        problems.push(`${at} targets: no account has tags ${JSON.stringify(t.accounts.tags)}`);
      }
      if (management !== undefined) {
        const managementInfo = accounts.find((a) => a.id === management) ?? (await this.account(management));
        const coversManagement = t.accounts.ids.includes(management) || (managementInfo && selectorMatches(t.accounts, managementInfo));
        if (coversManagement) {
          problems.push(
            `${at} targets: covers the management account ${management}; Identity Center refuses assignments there from a delegated administrator, so requests for it will be refused`,
          );
        }
      }
    }
    return problems;
  }

  // ---- resolution ----

  private async resolveRequest(req: TargetRequest): Promise<ResolvedRequest> {
    if (req.type === 'group') {
      const groupId = await this.groupId(req.group);
      if (!groupId) throw new UnprocessableError(`there is no Identity Store group named "${req.group}"`, [{ field: 'target.group', message: 'unknown group' }]);
      return { target: { type: 'group', group: req.group, groupId } };
    }
    const [account, permissionSetArn] = await Promise.all([this.account(req.accountId), this.permissionSetArn(req.permissionSet)]);
    if (!account) {
      throw new UnprocessableError(`account ${req.accountId} is not in the organization`, [{ field: 'target.accountId', message: 'unknown account' }]);
    }
    if (!permissionSetArn) {
      throw new UnprocessableError(`there is no permission set named "${req.permissionSet}"`, [
        { field: 'target.permissionSet', message: 'unknown permission set' },
      ]);
    }
    if (this.delegatedAdmin && account.id === (await this.managementAccountId())) {
      throw new UnprocessableError(
        `account ${account.id} is the organization's management account: Identity Center refuses assignments on the management account from a delegated administrator, and this system runs as one`,
        [{ field: 'target.accountId', message: 'management account not allowed from a delegated administrator' }],
      );
    }
    return {
      target: { type: 'account', accountId: account.id, accountName: account.name, permissionSet: req.permissionSet, permissionSetArn },
      account,
    };
  }

  private async coversResolved(rule: PolicyRule, req: ResolvedRequest): Promise<boolean> {
    const t = rule.targets;
    if (req.target.type === 'group') {
      if (t.type !== 'group') return false;
      const wanted = req.target.groupId;
      for (const name of t.groups) if ((await this.groupId(name)) === wanted) return true;
      return false;
    }
    if (t.type !== 'account' || !req.account || !selectorMatches(t.accounts, req.account)) return false;
    const wanted = req.target.permissionSetArn;
    for (const name of t.permissionSets) if ((await this.permissionSetArn(name)) === wanted) return true;
    return false;
  }

  private async targetsOf(rule: PolicyRule): Promise<Target[]> {
    const t = rule.targets;
    const targets: Target[] = [];
    if (t.type === 'group') {
      for (const group of t.groups) {
        const groupId = await this.groupId(group);
        if (groupId) targets.push({ type: 'group', group, groupId });
      }
      return targets;
    }
    const management = this.delegatedAdmin ? await this.managementAccountId() : undefined;
    const accounts = (await this.allAccounts())
      .filter((a) => a.id !== management && selectorMatches(t.accounts, a))
      .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    const permissionSets: { name: string; arn: string }[] = [];
    for (const name of t.permissionSets) {
      const arn = await this.permissionSetArn(name);
      if (arn) permissionSets.push({ name, arn });
    }
    for (const account of accounts) {
      for (const ps of permissionSets) {
        targets.push({ type: 'account', accountId: account.id, accountName: account.name, permissionSet: ps.name, permissionSetArn: ps.arn });
      }
    }
    return targets;
  }

  private async isIn(caller: Caller, principals: Principals): Promise<boolean> {
    const email = caller.email.toLowerCase();
    const userName = caller.userName.toLowerCase();
    if (principals.users.some((u) => u.toLowerCase() === email || u.toLowerCase() === userName)) return true;
    let groupIds = caller.groupIds;
    for (const name of principals.groups) {
      const id = await this.groupId(name);
      if (id === undefined) continue;
      groupIds ??= await this.directory.groupIdsOfUser(caller.userId);
      if (groupIds.includes(id)) return true;
    }
    return false;
  }

  private async findUser(ref: string): Promise<IdentityUser | undefined> {
    if (ref.includes('@')) {
      const byEmail = await this.directory.findUserByEmail(ref);
      if (byEmail) return byEmail;
    }
    return this.directory.findUserByUserName(ref);
  }

  private groupId(displayName: string): Promise<string | undefined> {
    return this.groupIds.get(displayName, () => this.directory.findGroupId(displayName));
  }

  private permissionSetArn(name: string): Promise<string | undefined> {
    return this.permissionSetArns.get(name, () => this.directory.findPermissionSetArn(name));
  }

  private account(accountId: string): Promise<AccountInfo | undefined> {
    return this.accounts.get(accountId, () => this.directory.describeAccount(accountId));
  }

  private allAccounts(): Promise<AccountInfo[]> {
    return this.accountList.get('all', () => this.directory.listAccounts());
  }

  private managementAccountId(): Promise<string | undefined> {
    return this.managementAccount.get('management', () => this.directory.managementAccountId());
  }
}

interface ResolvedRequest {
  target: Target;
  /** Present for account targets that exist. */
  account?: AccountInfo | undefined;
}

/** An account matches when any selector matches: its id, an OU on its path (nested OUs included), or all the tags. */
export function selectorMatches(selector: AccountSelector, account: AccountInfo): boolean {
  if (selector.ids.includes(account.id)) return true;
  if (selector.ous.some((ou) => account.ouPath.includes(ou))) return true;
  return Object.keys(selector.tags).length > 0 && tagsMatch(selector.tags, account.tags);
}

function tagsMatch(wanted: Record<string, string[]>, tags: Record<string, string>): boolean {
  return Object.entries(wanted).every(([key, values]) => {
    const value = tags[key];
    return value !== undefined && values.includes(value);
  });
}

/** The policy's spelling of the permission set name, so grants read the same whatever case the requester typed. */
function canonicalTarget(rule: PolicyRule, target: Target): Target {
  if (target.type === 'account' && rule.targets.type === 'account') {
    const policyName = rule.targets.permissionSets.find((n) => n.toLowerCase() === target.permissionSet.toLowerCase());
    return policyName ? { ...target, permissionSet: policyName } : target;
  }
  if (target.type === 'group' && rule.targets.type === 'group') {
    const policyName = rule.targets.groups.find((n) => n.toLowerCase() === target.group.toLowerCase());
    return policyName ? { ...target, group: policyName } : target;
  }
  return target;
}
