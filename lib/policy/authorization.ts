/**
 * Who may do what to a grant: the one place that answers "may this caller do X".
 * The rule-based facts (who is an admin, a rule's requesters and approvers, what a
 * rule covers) come from the policy engine; which status allows which action is the
 * lifecycle's business (lib/domain, lib/service), not this module's.
 */
import { describeTarget, type Grant } from '../domain/grant.ts';
import { ForbiddenError, UnprocessableError, type AppError } from '../errors.ts';
import type { Caller, PolicyEngine } from './engine.ts';
import type { Principals } from './schema.ts';

/** Something a caller does to one grant. */
export type GrantAction = 'see' | 'approve' | 'deny' | 'cancel' | 'revoke' | 'extend';

/**
 * Something a caller does across everyone's grants: list them all (view=all, and every
 * ACTIVE grant for view=active), or read the audit trail and the access inventory.
 */
export type ListAction = 'list-all' | 'audit';

export type Action = GrantAction | ListAction;

export type Decision = { allowed: true } | { allowed: false; refusal: AppError };

/**
 * How a caller stands towards a grant: its requester, a policy admin, or an approver
 * of the rule that admitted it (membership as the directory cache has it).
 */
type Standing = 'requester' | 'admin' | 'approver';

interface Permission {
  /** Callers in any of these standings may, checked in this order. */
  anyOf: readonly Standing[];
  refusal: (grant: Grant) => string;
  /** Refused to the requester even when another standing admits them, with this reason. */
  notTheRequester?: string;
}

/** Every action on a grant except approval, which policy evaluates afresh (see approvalRefusal). */
const PERMISSIONS: Readonly<Record<Exclude<GrantAction, 'approve'>, Permission>> = {
  see: {
    anyOf: ['requester', 'admin', 'approver'],
    refusal: (g) => `grant ${g.id} belongs to someone else and you are not an approver or admin for it`,
  },
  // Denying needs approver rights on the rule (or admin), not a still-valid rule: a stale request can always be refused.
  deny: {
    anyOf: ['approver', 'admin'],
    refusal: (g) => `you are not an approver for policy rule "${g.ruleId}"`,
    notTheRequester: 'you cannot deny your own request; cancel it instead',
  },
  cancel: { anyOf: ['requester', 'admin'], refusal: () => 'only the requester or an admin can cancel a request' },
  revoke: { anyOf: ['requester', 'admin', 'approver'], refusal: () => 'only the requester, an approver of this grant or an admin can revoke it' },
  extend: { anyOf: ['requester'], refusal: () => 'only the requester can extend a grant' },
};

const LIST_ALL_REFUSAL = 'view=all is for admins (policy `admins`)';
const AUDIT_REFUSAL = 'the audit trail and the access inventory are for admins and auditors (policy `admins`, `auditors`)';

const ALLOWED: Decision = { allowed: true };

export class GrantAuthorization {
  constructor(private readonly policy: PolicyEngine) {}

  /** Whether the caller may do the action, and if not the refusal to answer with. */
  may(caller: Caller, action: ListAction): Promise<Decision>;
  may(caller: Caller, action: GrantAction, grant: Grant): Promise<Decision>;
  async may(caller: Caller, action: Action, grant?: Grant): Promise<Decision> {
    const refusal = await this.refusal(caller, action, grant);
    return refusal ? { allowed: false, refusal } : ALLOWED;
  }

  /** Throws the refusal unless the caller may do the action. */
  authorize(caller: Caller, action: ListAction): Promise<void>;
  authorize(caller: Caller, action: GrantAction, grant: Grant): Promise<void>;
  async authorize(caller: Caller, action: Action, grant?: Grant): Promise<void> {
    const refusal = await this.refusal(caller, action, grant);
    if (refusal) throw refusal;
  }

  /** The rules whose pending requests the caller may decide: the approvals list reads these. */
  rulesToDecide(caller: Caller): Promise<string[]> {
    return this.policy.rulesApprovableBy(caller);
  }

  /** Whether a pending request of one of those rules belongs in the caller's approvals list: their own only where the rule allows self-approval. */
  inApprovalQueue(caller: Caller, grant: Grant): boolean {
    return !isTheRequester(caller, grant) || this.policy.rule(grant.ruleId)?.approval.allowSelfApproval === true;
  }

  /** The overloads above guarantee a grant for every GrantAction. */
  private async refusal(caller: Caller, action: Action, grant: Grant | undefined): Promise<AppError | undefined> {
    if (action === 'list-all') return (await this.policy.isAdmin(caller)) ? undefined : new ForbiddenError(LIST_ALL_REFUSAL);
    if (action === 'audit') {
      return (await this.policy.isAdmin(caller)) || (await this.policy.isAuditor(caller)) ? undefined : new ForbiddenError(AUDIT_REFUSAL);
    }
    return this.grantRefusal(caller, action, grant as Grant);
  }

  private async grantRefusal(caller: Caller, action: GrantAction, grant: Grant): Promise<AppError | undefined> {
    if (action === 'approve') return this.approvalRefusal(caller, grant);
    const permission = PERMISSIONS[action];
    if (!(await this.standsAsAnyOf(caller, grant, permission.anyOf))) return new ForbiddenError(permission.refusal(grant));
    if (permission.notTheRequester && isTheRequester(caller, grant)) return new ForbiddenError(permission.notTheRequester);
    return undefined;
  }

  private async standsAsAnyOf(caller: Caller, grant: Grant, standings: readonly Standing[]): Promise<boolean> {
    for (const standing of standings) {
      if (standing === 'requester' && isTheRequester(caller, grant)) return true;
      if (standing === 'admin' && (await this.policy.isAdmin(caller))) return true;
      if (standing === 'approver' && (await this.policy.isApprover(caller, grant.ruleId))) return true;
    }
    return false;
  }

  /**
   * Invariant 7, evaluated at approval time against the policy and directory as they
   * are now: the rule still exists and still covers the grant, the requester is still
   * a requester, the approver is eligible, not approving their own request unless
   * allowed, and has not approved already.
   */
  private async approvalRefusal(caller: Caller, grant: Grant): Promise<AppError | undefined> {
    const rule = this.policy.rule(grant.ruleId);
    if (!rule) {
      return new ForbiddenError(`the policy rule "${grant.ruleId}" that admitted this request no longer exists, so nobody can approve it`);
    }
    if (!(await this.policy.covers(rule, grant.target))) {
      return new UnprocessableError(`policy rule "${rule.id}" no longer covers ${describeTarget(grant.target)}`);
    }
    // Membership as it is now, for both sides: a cached answer could approve on stale rights.
    const requester = await this.policy.withCurrentGroups(grant.principal);
    const approver = await this.policy.withCurrentGroups(caller);
    if (!(await this.policy.isRequester(requester, rule.id))) {
      return new ForbiddenError(`${grant.principal.email} is no longer a requester under policy rule "${rule.id}"`);
    }
    if (isTheRequester(approver, grant) && !rule.approval.allowSelfApproval) {
      return new ForbiddenError(`you cannot approve your own request: policy rule "${rule.id}" does not allow self-approval`);
    }
    if (!(await this.policy.isApprover(approver, rule.id))) {
      return new ForbiddenError(`you are not an approver for policy rule "${rule.id}" (approvers: ${describePrincipals(rule.approval.approvers)})`);
    }
    if (grant.approvals.some((a) => a.by.id === approver.userId)) {
      return new UnprocessableError('you have already approved this request; quorum needs distinct approvers');
    }
    return undefined;
  }
}

function isTheRequester(caller: Caller, grant: Grant): boolean {
  return grant.principal.userId === caller.userId;
}

function describePrincipals(p: Principals): string {
  const parts = [...p.users, ...p.groups.map((g) => `group ${g}`)];
  return parts.length ? parts.join(', ') : 'none';
}
