/**
 * Who may do what to a grant, as a table: caller, grant, action → allowed or the
 * refusal's status. The policy is the shared fixture's:
 *   alice  PlatformAdmins: an admin; approves dev-readonly-long, prod-admin, platform-workloads-admin
 *   bob    Developers: a requester, approves nothing
 *   carol  Developers: a requester, approves nothing
 *   dave   SecurityApprovers: approves prod-poweruser, break-glass, and prod-admin by name
 *   erin   an admin by userName, in no group
 *   auditors: SecurityApprovers (dave)
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Grant, Target } from '../../lib/domain/grant.ts';
import { ForbiddenError, UnprocessableError } from '../../lib/errors.ts';
import { GrantAuthorization, parsePolicy, PolicyEngine, type Caller, type GrantAction } from '../../lib/policy/index.ts';
import { demoOrg, MemoryDirectory } from './memory-directory.ts';
import { callerNamed, grantFor, POLICY } from './policy-fixture.ts';

let directory: MemoryDirectory;
let engine: PolicyEngine;
let authorization: GrantAuthorization;

beforeEach(() => {
  directory = new MemoryDirectory(demoOrg());
  engine = new PolicyEngine(parsePolicy(POLICY), directory, { delegatedAdmin: false });
  authorization = new GrantAuthorization(engine);
});

async function caller(userName: string): Promise<Caller> {
  return callerNamed(directory, engine, userName);
}

function approve(approver: Caller, grant: Grant, e: PolicyEngine = engine): Promise<void> {
  return new GrantAuthorization(e).authorize(approver, 'approve', grant);
}

const prodPowerUser: Target = {
  type: 'account',
  accountId: '555555555555',
  accountName: 'payments-prod',
  permissionSet: 'PowerUserAccess',
  permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-0000000000000000/ps-poweruser',
};
const prodAdmin: Target = { ...prodPowerUser, permissionSet: 'AdministratorAccess', permissionSetArn: demoOrg().permissionSets.AdministratorAccess! };
const devAdmin: Target = { ...prodAdmin, accountId: '444444444444', accountName: 'payments-dev' };

/** The grants the table names, each a pending request. */
const GRANTS = {
  "bob's prod-poweruser": async () => grantFor(await caller('bob'), 'prod-poweruser', prodPowerUser),
  "bob's prod-admin, approved by dave": async () =>
    grantFor(await caller('bob'), 'prod-admin', prodAdmin, [{ by: { id: 'u-dave', name: 'dave@example.com' }, at: '2026-01-01T00:01:00.000Z' }]),
  "alice's prod-admin (no self-approval)": async () => grantFor(await caller('alice'), 'prod-admin', prodAdmin),
  "alice's platform-workloads-admin (self-approval)": async () => grantFor(await caller('alice'), 'platform-workloads-admin', devAdmin),
  "bob's under a rule since removed": async () => grantFor(await caller('bob'), 'retired-rule', prodPowerUser),
} satisfies Record<string, () => Promise<Grant>>;
type GrantName = keyof typeof GRANTS;

type Outcome = 'allowed' | 403 | 422;

const TABLE: [caller: string, grant: GrantName, action: GrantAction, outcome: Outcome][] = [
  // see: the requester, an admin, or an approver of the grant's rule
  ['bob', "bob's prod-poweruser", 'see', 'allowed'],
  ['dave', "bob's prod-poweruser", 'see', 'allowed'],
  ['erin', "bob's prod-poweruser", 'see', 'allowed'],
  ['alice', "bob's prod-poweruser", 'see', 'allowed'],
  ['carol', "bob's prod-poweruser", 'see', 403],
  ['bob', "bob's under a rule since removed", 'see', 'allowed'],
  ['erin', "bob's under a rule since removed", 'see', 'allowed'],
  ['dave', "bob's under a rule since removed", 'see', 403],

  // approve: an approver of the rule as policy and directory stand now; the requester only where the rule allows it; once per approver
  ['dave', "bob's prod-poweruser", 'approve', 'allowed'],
  ['alice', "bob's prod-poweruser", 'approve', 403],
  ['erin', "bob's prod-poweruser", 'approve', 403],
  ['carol', "bob's prod-poweruser", 'approve', 403],
  ['bob', "bob's prod-poweruser", 'approve', 403],
  ['alice', "alice's prod-admin (no self-approval)", 'approve', 403],
  ['dave', "alice's prod-admin (no self-approval)", 'approve', 'allowed'],
  ['alice', "alice's platform-workloads-admin (self-approval)", 'approve', 'allowed'],
  ['alice', "bob's prod-admin, approved by dave", 'approve', 'allowed'],
  ['dave', "bob's prod-admin, approved by dave", 'approve', 422],
  ['dave', "bob's under a rule since removed", 'approve', 403],

  // deny: an approver of the rule or an admin, never the requester; a removed rule does not protect the request
  ['dave', "bob's prod-poweruser", 'deny', 'allowed'],
  ['erin', "bob's prod-poweruser", 'deny', 'allowed'],
  ['alice', "bob's prod-poweruser", 'deny', 'allowed'],
  ['carol', "bob's prod-poweruser", 'deny', 403],
  ['bob', "bob's prod-poweruser", 'deny', 403],
  ['alice', "alice's prod-admin (no self-approval)", 'deny', 403],
  ['alice', "alice's platform-workloads-admin (self-approval)", 'deny', 403],
  ['erin', "bob's under a rule since removed", 'deny', 'allowed'],
  ['dave', "bob's under a rule since removed", 'deny', 403],

  // cancel: the requester or an admin
  ['bob', "bob's prod-poweruser", 'cancel', 'allowed'],
  ['erin', "bob's prod-poweruser", 'cancel', 'allowed'],
  ['alice', "bob's prod-poweruser", 'cancel', 'allowed'],
  ['dave', "bob's prod-poweruser", 'cancel', 403],
  ['carol', "bob's prod-poweruser", 'cancel', 403],

  // revoke: the requester, an approver of the grant's rule, or an admin
  ['bob', "bob's prod-poweruser", 'revoke', 'allowed'],
  ['dave', "bob's prod-poweruser", 'revoke', 'allowed'],
  ['erin', "bob's prod-poweruser", 'revoke', 'allowed'],
  ['carol', "bob's prod-poweruser", 'revoke', 403],
  ['dave', "bob's under a rule since removed", 'revoke', 403],

  // extend: the requester only
  ['bob', "bob's prod-poweruser", 'extend', 'allowed'],
  ['erin', "bob's prod-poweruser", 'extend', 403],
  ['dave', "bob's prod-poweruser", 'extend', 403],
  ['carol', "bob's prod-poweruser", 'extend', 403],
];

describe('may(caller, action, grant)', () => {
  it.each(TABLE)('%s, %s, %s → %s', async (who, grantName, action, outcome) => {
    const decision = await authorization.may(await caller(who), action, await GRANTS[grantName]());
    if (outcome === 'allowed') expect(decision).toEqual({ allowed: true });
    else expect(decision.allowed === false && decision.refusal.status).toBe(outcome);
  });
});

describe("may(caller, 'list-all'): every grant, to admins only", () => {
  it.each([
    ['erin', true],
    ['alice', true],
    ['bob', false],
    ['dave', false],
  ] as const)('%s → %s', async (who, allowed) => {
    expect((await authorization.may(await caller(who), 'list-all')).allowed).toBe(allowed);
  });
});

describe("may(caller, 'audit'): the audit trail and the inventory, to admins and auditors", () => {
  it.each([
    ['erin', true],
    ['alice', true],
    ['dave', true],
    ['bob', false],
  ] as const)('%s → %s', async (who, allowed) => {
    expect((await authorization.may(await caller(who), 'audit')).allowed).toBe(allowed);
  });

  it('refuses with a sentence that names both roles', async () => {
    await expect(authorization.authorize(await caller('carol'), 'audit')).rejects.toThrow(
      new ForbiddenError('the audit trail and the access inventory are for admins and auditors (policy `admins`, `auditors`)'),
    );
  });
});

describe('what a decision reads from the directory', () => {
  it('the requester seeing, cancelling or revoking their own grant reads no group; anyone else is judged on their groups', async () => {
    const grant = await GRANTS["bob's prod-poweruser"]();
    const before = directory.calls.groupIdsOfUser ?? 0;
    for (const action of ['see', 'cancel', 'revoke'] as const) await authorization.authorize(await caller('bob'), action, grant);
    expect(directory.calls.groupIdsOfUser ?? 0).toBe(before);
    // alice is an admin through PlatformAdmins only: seeing bob's grant needs her groups.
    await authorization.authorize(await caller('alice'), 'see', grant);
    expect(directory.calls.groupIdsOfUser).toBe(before + 1);
  });
});

describe('refusals read the same on every way in', () => {
  it.each([
    ['carol', "bob's prod-poweruser", 'see', new ForbiddenError('grant 01J00000000000000000000000 belongs to someone else and you are not an approver or admin for it')],
    ['carol', "bob's prod-poweruser", 'deny', new ForbiddenError('you are not an approver for policy rule "prod-poweruser"')],
    ['alice', "alice's prod-admin (no self-approval)", 'deny', new ForbiddenError('you cannot deny your own request; cancel it instead')],
    ['carol', "bob's prod-poweruser", 'cancel', new ForbiddenError('only the requester or an admin can cancel a request')],
    ['carol', "bob's prod-poweruser", 'revoke', new ForbiddenError('only the requester, an approver of this grant or an admin can revoke it')],
    ['erin', "bob's prod-poweruser", 'extend', new ForbiddenError('only the requester can extend a grant')],
    ['bob', "bob's prod-poweruser", 'approve', new ForbiddenError('you cannot approve your own request: policy rule "prod-poweruser" does not allow self-approval')],
    ['dave', "bob's prod-admin, approved by dave", 'approve', new UnprocessableError('you have already approved this request; quorum needs distinct approvers')],
  ] as const)('%s, %s, %s', async (who, grantName, action, refusal) => {
    const pending = authorization.authorize(await caller(who), action, await GRANTS[grantName]());
    await expect(pending).rejects.toBeInstanceOf(refusal.constructor);
    await expect(pending).rejects.toThrow(refusal);
  });

  it('refuses view=all to non-admins', async () => {
    await expect(authorization.authorize(await caller('bob'), 'list-all')).rejects.toThrow(new ForbiddenError('view=all is for admins (policy `admins`)'));
  });
});

describe('the approvals list', () => {
  it('reads the rules the caller approves', async () => {
    expect(await authorization.rulesToDecide(await caller('dave'))).toEqual(['prod-poweruser', 'prod-admin', 'break-glass']);
    expect(await authorization.rulesToDecide(await caller('bob'))).toEqual([]);
  });

  it.each([
    ['dave', "bob's prod-poweruser", true],
    ['alice', "alice's prod-admin (no self-approval)", false],
    ['alice', "alice's platform-workloads-admin (self-approval)", true],
  ] as const)("%s's list shows %s: %s", async (who, grantName, shown) => {
    expect(authorization.inApprovalQueue(await caller(who), await GRANTS[grantName]())).toBe(shown);
  });
});

describe('approve, evaluated at approval time (invariant 7)', () => {
  it('accepts an eligible approver and refuses others with a reason', async () => {
    const grant = grantFor(await caller('bob'), 'prod-poweruser', prodPowerUser);
    await expect(approve(await caller('dave'), grant)).resolves.toBeUndefined();
    await expect(approve(await caller('alice'), grant)).rejects.toThrow(
      new ForbiddenError('you are not an approver for policy rule "prod-poweruser" (approvers: group SecurityApprovers)'),
    );
  });

  it('re-evaluates group membership at approval time', async () => {
    const grant = grantFor(await caller('bob'), 'prod-poweruser', prodPowerUser);
    await expect(approve(await caller('dave'), grant)).resolves.toBeUndefined();
    directory.removeFromGroup('SecurityApprovers', 'u-dave');
    await expect(approve(await caller('dave'), grant)).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('refuses when the requester left the requester group since asking', async () => {
    const grant = grantFor(await caller('bob'), 'prod-poweruser', prodPowerUser);
    directory.removeFromGroup('Developers', 'u-bob');
    await expect(approve(await caller('dave'), grant)).rejects.toThrow(/bob@example.com is no longer a requester/);
  });

  it('refuses self-approval unless the rule allows it', async () => {
    // alice is both requester and approver of prod-admin, which does not allow self-approval.
    const alice = await caller('alice');
    await expect(approve(alice, grantFor(alice, 'prod-admin', prodAdmin))).rejects.toThrow(
      new ForbiddenError('you cannot approve your own request: policy rule "prod-admin" does not allow self-approval'),
    );
    await expect(approve(alice, grantFor(alice, 'platform-workloads-admin', devAdmin))).resolves.toBeUndefined();
  });

  it('counts each approver once and accepts approver users and groups for a quorum', async () => {
    const bob = await caller('bob');
    const dave = await caller('dave');
    await expect(approve(dave, grantFor(bob, 'prod-admin', prodAdmin))).resolves.toBeUndefined();
    await expect(approve(await caller('alice'), grantFor(bob, 'prod-admin', prodAdmin))).resolves.toBeUndefined();
    const approved = grantFor(bob, 'prod-admin', prodAdmin, [{ by: { id: dave.userId, name: dave.email }, at: '2026-01-01T00:01:00.000Z' }]);
    const again = approve(dave, approved);
    await expect(again).rejects.toBeInstanceOf(UnprocessableError);
    await expect(again).rejects.toThrow('you have already approved this request; quorum needs distinct approvers');
  });

  it('refuses when the rule is gone or no longer covers the grant', async () => {
    const grant = grantFor(await caller('bob'), 'prod-poweruser', prodPowerUser);
    const withoutRule = new PolicyEngine(parsePolicy(POLICY.replace('id: prod-poweruser', 'id: prod-poweruser-v2')), directory, { delegatedAdmin: false });
    await expect(approve(await caller('dave'), grant, withoutRule)).rejects.toThrow(
      new ForbiddenError('the policy rule "prod-poweruser" that admitted this request no longer exists, so nobody can approve it'),
    );
    const narrowed = new PolicyEngine(
      parsePolicy(POLICY.replace('tags: { env: prod } }, permissionSets: [PowerUserAccess]', 'tags: { env: staging } }, permissionSets: [PowerUserAccess]')),
      directory,
      { delegatedAdmin: false },
    );
    await expect(approve(await caller('dave'), grant, narrowed)).rejects.toThrow(
      new UnprocessableError('policy rule "prod-poweruser" no longer covers PowerUserAccess on payments-prod (555555555555)'),
    );
  });

  it('checks group-target grants too', async () => {
    const grant = grantFor(await caller('carol'), 'break-glass', { type: 'group', group: 'BreakGlass', groupId: 'g-breakglass' });
    await expect(approve(await caller('dave'), grant)).resolves.toBeUndefined();
    await expect(approve(await caller('bob'), grant)).rejects.toBeInstanceOf(ForbiddenError);
  });
});
