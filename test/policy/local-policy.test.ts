/**
 * config/policy.local.yaml must fit the demo org the local cloud is seeded
 * with (local/org.example.yaml): every name resolves, and the demo stories work.
 */
import { describe, expect, it } from 'vitest';
import { loadOrgFixture, type OrgFixture } from '../../local/idc/fixture.ts';
import { loadPolicyFile, PolicyEngine, type Caller } from '../../lib/policy/index.ts';
import { MemoryDirectory, type MemoryOrg } from './memory-directory.ts';

function memoryOrgFrom(f: OrgFixture): MemoryOrg {
  const parentOf = new Map(f.ous.map((ou) => [ou.id, ou.parentId]));
  const ouPath = (parentId: string): string[] => {
    const path: string[] = [];
    for (let id: string | undefined = parentId; id && id !== f.organization.rootId; id = parentOf.get(id)) path.push(id);
    return path;
  };
  return {
    users: f.users.map((u) => ({ userId: u.id, userName: u.userName, email: u.email, displayName: u.displayName })),
    groups: Object.fromEntries(
      f.groups.map((g) => [g.displayName, { id: g.id, members: f.memberships.filter((m) => m.groupId === g.id).map((m) => m.userId) }]),
    ),
    permissionSets: Object.fromEntries(f.permissionSets.map((p) => [p.name, p.arn])),
    accounts: f.accounts.map((a) => ({ id: a.id, name: a.name, ouPath: ouPath(a.parentId), tags: { ...a.tags } })),
    managementAccountId: f.organization.managementAccountId,
  };
}

async function setup(delegatedAdmin = false) {
  const directory = new MemoryDirectory(memoryOrgFrom(loadOrgFixture('local/org.example.yaml')));
  const engine = new PolicyEngine(await loadPolicyFile('config/policy.local.yaml'), directory, { delegatedAdmin });
  const caller = async (email: string): Promise<Caller> => engine.callerFromUser((await directory.findUserByEmail(email))!);
  return { directory, engine, caller };
}

describe('config/policy.local.yaml against local/org.example.yaml', () => {
  it('resolves every name, also as delegated administrator', async () => {
    expect(await (await setup(false)).engine.validateAgainstDirectory()).toEqual([]);
    expect(await (await setup(true)).engine.validateAgainstDirectory()).toEqual([]);
  });

  it('tells the demo stories', async () => {
    const { engine, caller } = await setup();
    const bob = await caller('bob@example.com');
    const alice = await caller('alice@example.com');
    const dave = await caller('dave@example.com');

    const readonly = await engine.matchRequest(bob, { type: 'account', accountId: '444444444444', permissionSet: 'ReadOnlyAccess' }, 'PT15M');
    expect(readonly.rule.id).toBe('dev-readonly');
    expect(engine.approvalFor(readonly.rule).quorum).toBe(0);
    await expect(engine.matchRequest(bob, { type: 'account', accountId: '444444444444', permissionSet: 'ReadOnlyAccess' }, 'PT5H')).rejects.toThrow(/PT15M to PT4H/);

    const power = await engine.matchRequest(bob, { type: 'account', accountId: '555555555555', permissionSet: 'PowerUserAccess' }, 'PT1H');
    expect(power.rule.id).toBe('prod-poweruser');
    expect(engine.approvalFor(power.rule).quorum).toBe(1);

    // cardholder-data is in Workloads/Prod/Regulated: covered through the nested OU.
    const admin = await engine.matchRequest(bob, { type: 'account', accountId: '666666666666', permissionSet: 'AdministratorAccess' }, 'PT1H');
    expect(admin.rule.id).toBe('prod-admin');
    expect(engine.approvalFor(admin.rule).quorum).toBe(2);
    expect(await engine.rulesApprovableBy(alice)).toContain('prod-admin');
    expect(await engine.rulesApprovableBy(dave)).toEqual(['prod-poweruser', 'prod-admin', 'break-glass', 'oncall']);

    const glass = await engine.matchRequest(bob, { type: 'group', group: 'BreakGlass' }, 'PT30M');
    expect(glass.rule.id).toBe('break-glass');
    expect(engine.approvalFor(glass.rule).quorum).toBe(1);

    expect(await engine.isAdmin(alice)).toBe(true);
    expect(await engine.isAdmin(bob)).toBe(false);
  });
});
