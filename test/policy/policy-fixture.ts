/** The policy the engine and authorization tests share, over the demo org of memory-directory.ts, and grants under it. */
import type { Grant, Target } from '../../lib/domain/grant.ts';
import type { Caller, PolicyEngine } from '../../lib/policy/index.ts';
import type { MemoryDirectory } from './memory-directory.ts';

export const POLICY = `version: 1
admins:
  users: [erin]
  groups: [PlatformAdmins]
auditors:
  groups: [SecurityApprovers]
rules:
  - id: bob-sandbox
    requesters: { users: [BOB@example.com] }
    targets: { accounts: { ids: ["777777777777"] }, permissionSets: [AdministratorAccess] }
    duration: { max: PT2H }
    approval: { autoApprove: true }
  - id: dev-readonly
    requesters: { groups: [Developers] }
    targets: { accounts: { tags: { env: [dev, sandbox] } }, permissionSets: [ReadOnlyAccess] }
    duration: { min: PT15M, max: PT4H }
    approval: { autoApprove: true }
  - id: dev-readonly-long
    requesters: { groups: [Developers] }
    targets: { accounts: { tags: { env: dev } }, permissionSets: [ReadOnlyAccess] }
    duration: { min: PT4H, max: PT12H, default: PT8H, maxTotal: P1D }
    approval: { approvers: { groups: [PlatformAdmins] } }
    pendingExpiry: PT2H
  - id: prod-poweruser
    requesters: { groups: [Developers] }
    targets: { accounts: { tags: { env: prod } }, permissionSets: [PowerUserAccess] }
    duration: { max: PT4H }
    approval: { approvers: { groups: [SecurityApprovers] } }
  - id: prod-admin
    requesters: { groups: [Developers, PlatformAdmins] }
    targets: { accounts: { ous: [ou-root-prod0000] }, permissionSets: [AdministratorAccess] }
    duration: { max: PT2H }
    approval: { approvers: { users: [dave@example.com], groups: [PlatformAdmins] }, quorum: 2 }
  - id: platform-workloads-admin
    requesters: { groups: [PlatformAdmins] }
    targets: { accounts: { ous: [ou-root-workload] }, permissionSets: [AdministratorAccess] }
    approval: { approvers: { groups: [PlatformAdmins] }, allowSelfApproval: true }
  - id: break-glass
    requesters: { groups: [PlatformAdmins, Developers] }
    targets: { groups: [BreakGlass] }
    duration: { max: PT1H, default: PT30M }
    approval: { approvers: { groups: [SecurityApprovers] } }
  - id: management-readonly
    requesters: { groups: [PlatformAdmins] }
    targets: { accounts: { ids: ["111111111111"] }, permissionSets: [ReadOnlyAccess] }
    approval: { autoApprove: true }
`;

/** The caller the engine builds for a user of the directory, found by userName. */
export async function callerNamed(directory: MemoryDirectory, engine: PolicyEngine, userName: string): Promise<Caller> {
  const user = await directory.findUserByUserName(userName);
  if (!user) throw new Error(`no user ${userName}`);
  return engine.callerFromUser(user);
}

/** A pending request by the requester under the rule. */
export function grantFor(requester: Caller, ruleId: string, target: Target, approvals: Grant['approvals'] = []): Grant {
  return {
    id: '01J00000000000000000000000',
    principal: { userId: requester.userId, userName: requester.userName, email: requester.email },
    target,
    justification: 'testing',
    ruleId,
    requestedAt: '2026-01-01T00:00:00.000Z',
    duration: 'PT1H',
    status: 'PENDING_APPROVAL',
    quorum: 1,
    approvals,
    history: [],
    version: 1,
  };
}
