import { beforeEach, describe, expect, it } from 'vitest';
import { ForbiddenError, UnprocessableError, ValidationError } from '../../lib/errors.ts';
import { parsePolicy, PolicyEngine, type Caller, type PolicyDocument } from '../../lib/policy/index.ts';
import type { Clock } from '../../lib/ports/index.ts';
import { demoOrg, MemoryDirectory } from './memory-directory.ts';
import { callerNamed, POLICY } from './policy-fixture.ts';

let directory: MemoryDirectory;
let doc: PolicyDocument;
let engine: PolicyEngine;

async function caller(userName: string, e: PolicyEngine = engine): Promise<Caller> {
  return callerNamed(directory, e, userName);
}

beforeEach(() => {
  directory = new MemoryDirectory(demoOrg());
  doc = parsePolicy(POLICY);
  engine = new PolicyEngine(doc, directory, { delegatedAdmin: false });
});

describe('callers and admins', () => {
  it('builds a caller without reading its groups: policy reads them only when a rule it checks names a group', async () => {
    const bob = await caller('bob');
    expect(bob).toEqual({ userId: 'u-bob', userName: 'bob', email: 'bob@example.com' });
    expect(directory.calls.groupIdsOfUser).toBeUndefined();
    // erin is an admin by user name: no group is read to say so.
    expect(await engine.isAdmin(await caller('erin'))).toBe(true);
    expect(directory.calls.groupIdsOfUser).toBeUndefined();
    // bob is not named, so his groups are read: g-dev is not PlatformAdmins.
    expect(await engine.isAdmin(bob)).toBe(false);
    expect(directory.calls.groupIdsOfUser).toBe(1);
    // Groups read for the decision at hand are used as given.
    expect(await engine.isAdmin({ ...bob, groupIds: [directory.org.groups.PlatformAdmins!.id] })).toBe(true);
    expect(directory.calls.groupIdsOfUser).toBe(1);
  });

  it('recognises admins by userName and by group, nobody else', async () => {
    expect(await engine.isAdmin(await caller('erin'))).toBe(true);
    expect(await engine.isAdmin(await caller('alice'))).toBe(true);
    expect(await engine.isAdmin(await caller('bob'))).toBe(false);
    expect(await engine.isAdmin(await caller('dave'))).toBe(false);
  });
});

describe('matchRequest', () => {
  it('matches a rule that names the user (email compared case-insensitively) and an account id', async () => {
    const { rule, target } = await engine.matchRequest(await caller('bob'), { type: 'account', accountId: '777777777777', permissionSet: 'AdministratorAccess' }, 'PT1H');
    expect(rule.id).toBe('bob-sandbox');
    expect(target).toEqual({
      type: 'account',
      accountId: '777777777777',
      accountName: 'sandbox',
      permissionSet: 'AdministratorAccess',
      permissionSetArn: directory.org.permissionSets.AdministratorAccess,
    });
    // carol is a developer too, but the rule names bob only.
    await expect(
      engine.matchRequest(await caller('carol'), { type: 'account', accountId: '777777777777', permissionSet: 'AdministratorAccess' }, 'PT1H'),
    ).rejects.toThrow(new ForbiddenError('no policy rule lets you request AdministratorAccess on sandbox (777777777777)'));
  });

  it('matches by group membership and tag (single value and list of values)', async () => {
    const carol = await caller('carol');
    const dev = await engine.matchRequest(carol, { type: 'account', accountId: '444444444444', permissionSet: 'ReadOnlyAccess' }, 'PT1H');
    expect(dev.rule.id).toBe('dev-readonly');
    expect(engine.approvalFor(dev.rule)).toEqual({ autoApprove: true, quorum: 0, allowSelfApproval: false });
    const sandbox = await engine.matchRequest(carol, { type: 'account', accountId: '777777777777', permissionSet: 'ReadOnlyAccess' }, 'PT1H');
    expect(sandbox.rule.id).toBe('dev-readonly');
    const prod = await engine.matchRequest(carol, { type: 'account', accountId: '555555555555', permissionSet: 'PowerUserAccess' }, 'PT2H');
    expect(prod.rule.id).toBe('prod-poweruser');
    expect(engine.approvalFor(prod.rule)).toEqual({ autoApprove: false, quorum: 1, allowSelfApproval: false });
    await expect(
      engine.matchRequest(carol, { type: 'account', accountId: '444444444444', permissionSet: 'PowerUserAccess' }, 'PT1H'),
    ).rejects.toThrow(new ForbiddenError('no policy rule lets you request PowerUserAccess on payments-dev (444444444444)'));
  });

  it('matches accounts in OUs nested below the listed OU', async () => {
    const alice = await caller('alice');
    // cardholder-data sits in Regulated, below Prod: prod-admin covers it and comes first.
    const regulated = await engine.matchRequest(alice, { type: 'account', accountId: '666666666666', permissionSet: 'AdministratorAccess' }, 'PT1H');
    expect(regulated.rule.id).toBe('prod-admin');
    // payments-dev sits in Dev, below Workloads.
    const dev = await engine.matchRequest(alice, { type: 'account', accountId: '444444444444', permissionSet: 'AdministratorAccess' }, 'PT1H');
    expect(dev.rule.id).toBe('platform-workloads-admin');
    // security-tooling is in no listed OU.
    await expect(
      engine.matchRequest(alice, { type: 'account', accountId: '222222222222', permissionSet: 'AdministratorAccess' }, 'PT1H'),
    ).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('takes the first rule in file order whose duration bounds admit the duration', async () => {
    const carol = await caller('carol');
    const req = { type: 'account', accountId: '444444444444', permissionSet: 'ReadOnlyAccess' } as const;
    expect((await engine.matchRequest(carol, req, 'PT4H')).rule.id).toBe('dev-readonly');
    expect((await engine.matchRequest(carol, req, 'PT4H1M')).rule.id).toBe('dev-readonly-long');
    expect((await engine.matchRequest(carol, req, 'PT12H')).rule.id).toBe('dev-readonly-long');
  });

  it('refuses a duration outside every covering rule, naming the bounds', async () => {
    const carol = await caller('carol');
    const req = { type: 'account', accountId: '444444444444', permissionSet: 'ReadOnlyAccess' } as const;
    const tooLong = engine.matchRequest(carol, req, 'PT13H');
    await expect(tooLong).rejects.toBeInstanceOf(UnprocessableError);
    await expect(tooLong).rejects.toThrow('PT15M to PT4H (rule dev-readonly); PT4H to PT12H (rule dev-readonly-long)');
    await expect(engine.matchRequest(carol, req, 'PT5M')).rejects.toBeInstanceOf(UnprocessableError);
    await expect(engine.matchRequest(carol, req, 'one hour')).rejects.toBeInstanceOf(ValidationError);
    await expect(engine.matchRequest(carol, req, 'PT0S')).rejects.toBeInstanceOf(ValidationError);
  });

  it('refuses unknown accounts, permission sets and groups with 422', async () => {
    const bob = await caller('bob');
    const refusal = async (p: Promise<unknown>) => {
      const err = await p.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(UnprocessableError);
      return { message: (err as UnprocessableError).message, fields: (err as UnprocessableError).fields };
    };
    expect(await refusal(engine.matchRequest(bob, { type: 'account', accountId: '999999999999', permissionSet: 'ReadOnlyAccess' }, 'PT1H'))).toEqual({
      message: 'account 999999999999 is not in the organization',
      fields: [{ field: 'target.accountId', message: 'unknown account' }],
    });
    expect(await refusal(engine.matchRequest(bob, { type: 'account', accountId: '444444444444', permissionSet: 'NoSuchSet' }, 'PT1H'))).toEqual({
      message: 'there is no permission set named "NoSuchSet"',
      fields: [{ field: 'target.permissionSet', message: 'unknown permission set' }],
    });
    expect(await refusal(engine.matchRequest(bob, { type: 'group', group: 'Nope' }, 'PT1H'))).toEqual({
      message: 'there is no Identity Store group named "Nope"',
      fields: [{ field: 'target.group', message: 'unknown group' }],
    });
  });

  it('resolves names through the directory and keeps the policy spelling', async () => {
    const { target } = await engine.matchRequest(await caller('bob'), { type: 'account', accountId: '444444444444', permissionSet: 'readonlyaccess' }, 'PT1H');
    expect(target).toMatchObject({ permissionSet: 'ReadOnlyAccess', permissionSetArn: directory.org.permissionSets.ReadOnlyAccess });
  });

  it('matches group targets', async () => {
    const { rule, target } = await engine.matchRequest(await caller('bob'), { type: 'group', group: 'BreakGlass' }, 'PT30M');
    expect(rule.id).toBe('break-glass');
    expect(target).toEqual({ type: 'group', group: 'BreakGlass', groupId: 'g-breakglass' });
    await expect(engine.matchRequest(await caller('dave'), { type: 'group', group: 'BreakGlass' }, 'PT30M')).rejects.toThrow(
      new ForbiddenError('no policy rule lets you request member of BreakGlass'),
    );
  });

  it('refuses the management account when running as delegated administrator', async () => {
    const req = { type: 'account', accountId: '111111111111', permissionSet: 'ReadOnlyAccess' } as const;
    expect((await engine.matchRequest(await caller('alice'), req, 'PT1H')).rule.id).toBe('management-readonly');

    const delegated = new PolicyEngine(doc, directory, { delegatedAdmin: true });
    const refused = delegated.matchRequest(await caller('alice', delegated), req, 'PT1H');
    await expect(refused).rejects.toBeInstanceOf(UnprocessableError);
    await expect(refused).rejects.toThrow(/management account.*refuses assignments on the management account from a delegated administrator/);
  });
});

describe('eligibility', () => {
  const summary = (entries: Awaited<ReturnType<PolicyEngine['eligibility']>>) =>
    entries.map((e) => ({
      rule: e.ruleId,
      targets: e.targets.map((t) => (t.type === 'account' ? `${t.permissionSet}@${t.accountId}` : `group:${t.group}`)),
      approvalRequired: e.approvalRequired,
      quorum: e.quorum,
    }));

  it('lists concrete targets per rule with bounds and approval needs', async () => {
    const entries = await engine.eligibility(await caller('carol'));
    expect(summary(entries)).toEqual([
      { rule: 'dev-readonly', targets: ['ReadOnlyAccess@444444444444', 'ReadOnlyAccess@777777777777'], approvalRequired: false, quorum: 0 },
      { rule: 'dev-readonly-long', targets: ['ReadOnlyAccess@444444444444'], approvalRequired: true, quorum: 1 },
      // Sorted by account name: cardholder-data, payments-prod, security-tooling.
      { rule: 'prod-poweruser', targets: ['PowerUserAccess@666666666666', 'PowerUserAccess@555555555555', 'PowerUserAccess@222222222222'], approvalRequired: true, quorum: 1 },
      { rule: 'prod-admin', targets: ['AdministratorAccess@666666666666', 'AdministratorAccess@555555555555'], approvalRequired: true, quorum: 2 },
      { rule: 'break-glass', targets: ['group:BreakGlass'], approvalRequired: true, quorum: 1 },
    ]);
    expect(entries[0]!.duration).toEqual({ min: 'PT15M', max: 'PT4H', default: 'PT1H', maxTotal: 'PT4H' });
    const first = entries[0]!.targets[0]!;
    expect(first.type === 'account' && first.accountName).toBe('payments-dev');
  });

  it('names who may approve, as the policy does (nobody for an auto-approved rule)', async () => {
    const entries = await engine.eligibility(await caller('carol'));
    const approversOf = (ruleId: string) => entries.find((e) => e.ruleId === ruleId)?.approvers;
    expect(approversOf('prod-poweruser')).toEqual({ users: [], groups: ['SecurityApprovers'] });
    expect(approversOf('dev-readonly')).toEqual({ users: [], groups: [] });
  });

  it('leaves out the management account as delegated administrator', async () => {
    const rulesOf = async (e: PolicyEngine) => (await e.eligibility(await caller('alice', e))).map((x) => x.ruleId);
    expect(await rulesOf(engine)).toContain('management-readonly');
    const delegated = new PolicyEngine(doc, directory, { delegatedAdmin: true });
    expect(await rulesOf(delegated)).toEqual(['prod-admin', 'platform-workloads-admin', 'break-glass']);
  });

  it('is empty for someone no rule names', async () => {
    expect(await engine.eligibility(await caller('dave'))).toEqual([]);
  });
});

describe('rule lookups', () => {
  it('lists the rules a caller approves', async () => {
    expect(await engine.rulesApprovableBy(await caller('dave'))).toEqual(['prod-poweruser', 'prod-admin', 'break-glass']);
    expect(await engine.rulesApprovableBy(await caller('alice'))).toEqual(['dev-readonly-long', 'prod-admin', 'platform-workloads-admin']);
    expect(await engine.rulesApprovableBy(await caller('bob'))).toEqual([]);
  });

  it('gives pending expiry and the total cap per rule', () => {
    const long = engine.rule('dev-readonly-long')!;
    expect(engine.pendingExpiryFor(long)).toBe('PT2H');
    expect(engine.maxTotalFor(long)).toBe('P1D');
    const poweruser = engine.rule('prod-poweruser')!;
    expect(engine.pendingExpiryFor(poweruser)).toBe('PT24H');
    expect(engine.maxTotalFor(poweruser)).toBe('PT4H');
    expect(engine.rule('nope')).toBeUndefined();
  });
});

describe('validateAgainstDirectory', () => {
  it('finds nothing wrong with a policy that fits the directory', async () => {
    expect(await engine.validateAgainstDirectory()).toEqual([]);
  });

  it('names every reference that does not resolve', async () => {
    const broken = parsePolicy(`version: 1
admins: { users: [nobody@example.com], groups: [Ghosts] }
rules:
  - id: broken
    requesters: { users: [zed] }
    targets:
      accounts: { ids: ["999999999999"], ous: [ou-root-missing0], tags: { env: qa } }
      permissionSets: [Billing]
    approval: { approvers: { groups: [Auditors] } }
  - id: broken-group
    requesters: { groups: [Developers] }
    targets: { groups: [Contractors] }
    approval: { autoApprove: true }
`);
    const problems = await new PolicyEngine(broken, directory, { delegatedAdmin: false }).validateAgainstDirectory();
    expect(problems).toEqual([
      'admins: no Identity Store user with email or userName "nobody@example.com"',
      'admins: no Identity Store group named "Ghosts"',
      'rule broken requesters: no Identity Store user with email or userName "zed"',
      'rule broken approvers: no Identity Store group named "Auditors"',
      'rule broken targets: no permission set named "Billing"',
      'rule broken targets: account 999999999999 is not in the organization',
      'rule broken targets: OU ou-root-missing0 holds no account of the organization',
      'rule broken targets: no account has tags {"env":["qa"]}',
      'rule broken-group targets: no Identity Store group named "Contractors"',
    ]);
  });

  it('flags rules covering the management account when running as delegated administrator', async () => {
    const problems = await new PolicyEngine(doc, directory, { delegatedAdmin: true }).validateAgainstDirectory();
    expect(problems).toEqual([expect.stringMatching(/^rule management-readonly targets: covers the management account 111111111111; .*delegated administrator/)]);
  });
});

describe('caching', () => {
  it('resolves names once per TTL and again after it', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const clock: Clock = { now: () => new Date(now) };
    const cached = new PolicyEngine(doc, directory, { delegatedAdmin: false, cacheTtlMs: 60_000, clock });
    const carol = await caller('carol', cached);
    const req = { type: 'account', accountId: '444444444444', permissionSet: 'ReadOnlyAccess' } as const;
    await cached.matchRequest(carol, req, 'PT1H');
    const afterFirst = { ...directory.calls };
    await cached.matchRequest(carol, req, 'PT1H');
    expect(directory.calls.findGroupId).toBe(afterFirst.findGroupId);
    expect(directory.calls.findPermissionSetArn).toBe(afterFirst.findPermissionSetArn);
    expect(directory.calls.describeAccount).toBe(afterFirst.describeAccount);

    now += 61_000;
    await cached.matchRequest(carol, req, 'PT1H');
    expect(directory.calls.findGroupId).toBeGreaterThan(afterFirst.findGroupId!);
    expect(directory.calls.describeAccount).toBeGreaterThan(afterFirst.describeAccount!);
  });
});
