/**
 * Semantics of the local Identity Center, driven through the real SDK clients
 * over HTTP (the emulator behind serveJsonServices) with a manual clock: no
 * timed assertions, time moves only when a test moves it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConflictException as SsoConflict,
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  ListAccountAssignmentsCommand,
  ListAccountAssignmentsForPrincipalCommand,
  ListPermissionSetsCommand,
  SSOAdminClient,
} from '@aws-sdk/client-sso-admin';
import {
  CreateGroupMembershipCommand,
  DeleteGroupMembershipCommand,
  GetGroupMembershipIdCommand,
  GetUserIdCommand,
  IdentitystoreClient,
  IsMemberInGroupsCommand,
  ListGroupMembershipsForMemberCommand,
} from '@aws-sdk/client-identitystore';
import { ListAccountsCommand, ListChildrenCommand, ListParentsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import {
  createIdentityCenterEmulator,
  FixtureError,
  IAM_ROLE_QUOTA_REASON,
  knobsFromEnv,
  loadOrgFixture,
  parseOrgFixture,
  readSnapshotFile,
  snapshotWriter,
  serveJsonServices,
  type IdentityCenterEmulator,
  type JsonEndpoint,
  type OrgFixture,
} from '../../local/idc/index.ts';

const FIXTURE_PATH = fileURLToPath(new URL('../../local/org.example.yaml', import.meta.url));
const fixture: OrgFixture = loadOrgFixture(FIXTURE_PATH);
const INSTANCE = fixture.instance.arn;
const STORE = fixture.instance.identityStoreId;
const DEV = '444444444444';
const PROD = '555555555555';

const clock = { t: 1_700_000_000_000, now() { return this.t; } };
let emu: IdentityCenterEmulator;
let endpoint: JsonEndpoint;
let sso: SSOAdminClient;
let ids: IdentitystoreClient;
let org: OrganizationsClient;

/** No SDK retries here: the tests look at the raw answers (throttling included). */
function clientConfig() {
  return { endpoint: endpoint.url, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
}

// One server for the file; each test gets a fresh emulator behind it (the server reads `emu` per request).
beforeAll(async () => {
  endpoint = await serveJsonServices([
    { targetPrefixes: ['SWBExternalService'], handle: (op, input, ctx) => emu.ssoAdmin.handle(op, input, ctx) },
    { targetPrefixes: ['AWSIdentityStore'], handle: (op, input, ctx) => emu.identityStore.handle(op, input, ctx) },
    { targetPrefixes: ['AWSOrganizationsV20161128'], handle: (op, input, ctx) => emu.organizations.handle(op, input, ctx) },
  ]);
  sso = new SSOAdminClient(clientConfig());
  ids = new IdentitystoreClient(clientConfig());
  org = new OrganizationsClient(clientConfig());
});
afterAll(async () => {
  sso.destroy();
  ids.destroy();
  org.destroy();
  await endpoint.close();
});
beforeEach(() => {
  clock.t = 1_700_000_000_000;
  emu = createIdentityCenterEmulator({
    fixture,
    clock,
    random: () => 0.5,
    knobs: { provisioningDelayMs: { minMs: 1000, maxMs: 1000 } },
  });
});

const assignment = (account: string, permissionSet: string, userName: string) => ({
  InstanceArn: INSTANCE,
  TargetId: account,
  TargetType: 'AWS_ACCOUNT' as const,
  PermissionSetArn: emu.permissionSetArn(permissionSet),
  PrincipalType: 'USER' as const,
  PrincipalId: emu.userId(userName),
});

async function creationStatus(requestId: string) {
  const out = await sso.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn: INSTANCE, AccountAssignmentCreationRequestId: requestId }));
  return out.AccountAssignmentCreationStatus;
}

async function principalsOn(account: string, permissionSet: string) {
  const out = await sso.send(new ListAccountAssignmentsCommand({ InstanceArn: INSTANCE, AccountId: account, PermissionSetArn: emu.permissionSetArn(permissionSet) }));
  return (out.AccountAssignments ?? []).map((a) => a.PrincipalId);
}

describe('async account assignments', () => {
  it('create is IN_PROGRESS until the delay passes, then SUCCEEDED and listed', async () => {
    const out = await sso.send(new CreateAccountAssignmentCommand(assignment(DEV, 'AdministratorAccess', 'carol')));
    const requestId = out.AccountAssignmentCreationStatus?.RequestId ?? '';
    expect(out.AccountAssignmentCreationStatus?.Status).toBe('IN_PROGRESS');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await principalsOn(DEV, 'AdministratorAccess')).toEqual([]);

    clock.t += 999;
    expect((await creationStatus(requestId))?.Status).toBe('IN_PROGRESS');
    clock.t += 1;
    const done = await creationStatus(requestId);
    expect(done?.Status).toBe('SUCCEEDED');
    expect(done?.FailureReason).toBeUndefined();
    expect(await principalsOn(DEV, 'AdministratorAccess')).toEqual([emu.userId('carol')]);
    expect(emu.assignments().find((a) => a.principalId === emu.userId('carol'))?.preExisting).toBe(false);
  });

  it('delete is IN_PROGRESS, then SUCCEEDED and the assignment is gone', async () => {
    await sso.send(new CreateAccountAssignmentCommand(assignment(DEV, 'PowerUserAccess', 'carol')));
    clock.t += 1000;
    const del = await sso.send(new DeleteAccountAssignmentCommand(assignment(DEV, 'PowerUserAccess', 'carol')));
    expect(del.AccountAssignmentDeletionStatus?.Status).toBe('IN_PROGRESS');
    expect(await principalsOn(DEV, 'PowerUserAccess')).toEqual([emu.userId('carol')]);
    clock.t += 1000;
    const status = await sso.send(
      new DescribeAccountAssignmentDeletionStatusCommand({ InstanceArn: INSTANCE, AccountAssignmentDeletionRequestId: del.AccountAssignmentDeletionStatus?.RequestId ?? '' }),
    );
    expect(status.AccountAssignmentDeletionStatus?.Status).toBe('SUCCEEDED');
    expect(await principalsOn(DEV, 'PowerUserAccess')).toEqual([]);
  });

  it('creating an assignment that exists SUCCEEDS and changes nothing; deleting a missing one is ResourceNotFound', async () => {
    const bob = emu.userId('bob');
    const out = await sso.send(new CreateAccountAssignmentCommand(assignment(DEV, 'ReadOnlyAccess', 'bob')));
    clock.t += 1000;
    expect((await creationStatus(out.AccountAssignmentCreationStatus?.RequestId ?? ''))?.Status).toBe('SUCCEEDED');
    expect(await principalsOn(DEV, 'ReadOnlyAccess')).toEqual([bob]);
    expect(emu.assignments().filter((a) => a.principalId === bob)).toEqual([expect.objectContaining({ preExisting: true })]);

    await expect(sso.send(new DeleteAccountAssignmentCommand(assignment(PROD, 'ReadOnlyAccess', 'bob')))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('a second write on the same assignment while one is IN_PROGRESS is ConflictException', async () => {
    await sso.send(new CreateAccountAssignmentCommand(assignment(PROD, 'ReadOnlyAccess', 'carol')));
    const race = sso.send(new DeleteAccountAssignmentCommand(assignment(PROD, 'ReadOnlyAccess', 'carol')));
    await expect(race).rejects.toBeInstanceOf(SsoConflict);
    clock.t += 1000;
    const del = await sso.send(new DeleteAccountAssignmentCommand(assignment(PROD, 'ReadOnlyAccess', 'carol')));
    expect(del.AccountAssignmentDeletionStatus?.Status).toBe('IN_PROGRESS');
  });

  it('an unknown principal is accepted and then FAILS with a 404 reason', async () => {
    const out = await sso.send(new CreateAccountAssignmentCommand({ ...assignment(DEV, 'ReadOnlyAccess', 'bob'), PrincipalId: 'nobody' }));
    clock.t += 1000;
    const status = await creationStatus(out.AccountAssignmentCreationStatus?.RequestId ?? '');
    expect(status?.Status).toBe('FAILED');
    expect(status?.FailureReason).toMatch(/404.*USER assignee nobody was not found/);
  });

  it('validates input and unknown request ids like AWS', async () => {
    await expect(sso.send(new CreateAccountAssignmentCommand({ ...assignment(DEV, 'ReadOnlyAccess', 'bob'), PermissionSetArn: `${INSTANCE.replace('instance', 'permissionSet')}/ps-0000000000000000` }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    await expect(creationStatus('00000000-0000-0000-0000-000000000000')).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(sso.send(new ListPermissionSetsCommand({ InstanceArn: 'arn:aws:sso:::instance/ssoins-0000000000000000' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('pre-existing assignments are visible from the start and marked as such', async () => {
    const out = await sso.send(new ListAccountAssignmentsForPrincipalCommand({ InstanceArn: INSTANCE, PrincipalId: emu.userId('bob'), PrincipalType: 'USER' }));
    expect(out.AccountAssignments).toEqual([
      { AccountId: DEV, PermissionSetArn: emu.permissionSetArn('ReadOnlyAccess'), PrincipalId: emu.userId('bob'), PrincipalType: 'USER' },
    ]);
    expect(emu.assignments()).toEqual([expect.objectContaining({ accountId: DEV, preExisting: true })]);
  });
});

describe('quotas', () => {
  it('throttles above 20 calls per second across sso-admin and identitystore, and refills with time', async () => {
    emu.setKnobs({ maxOutstandingAsync: 0 });
    const calls = Array.from({ length: 25 }, (_, i) =>
      (i % 2 === 0
        ? sso.send(new ListPermissionSetsCommand({ InstanceArn: INSTANCE }))
        : ids.send(new GetUserIdCommand({ IdentityStoreId: STORE, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: 'alice' } } }))
      ).then(
        () => 'ok',
        (e: Error) => e.name,
      ),
    );
    const results = await Promise.all(calls);
    expect(results.filter((r) => r === 'ok')).toHaveLength(20);
    expect(results.filter((r) => r === 'ThrottlingException')).toHaveLength(5);
    expect(emu.stats().throttled).toBe(5);

    // Organizations is not part of Identity Center's bucket.
    await expect(org.send(new ListAccountsCommand({}))).resolves.toBeDefined();
    clock.t += 100; // 2 tokens at 20 TPS
    await expect(sso.send(new ListPermissionSetsCommand({ InstanceArn: INSTANCE }))).resolves.toBeDefined();
    await expect(sso.send(new ListPermissionSetsCommand({ InstanceArn: INSTANCE }))).resolves.toBeDefined();
    await expect(sso.send(new ListPermissionSetsCommand({ InstanceArn: INSTANCE }))).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  it('allows at most 10 outstanding async operations, then ThrottlingException until one completes', async () => {
    emu.setKnobs({ throttleTps: 0 });
    const accounts = fixture.accounts.map((a) => a.id);
    const targets = accounts.flatMap((account) => ['AdministratorAccess', 'PowerUserAccess'].map((ps) => assignment(account, ps, 'carol')));
    for (const t of targets.slice(0, 10)) {
      const out = await sso.send(new CreateAccountAssignmentCommand(t));
      expect(out.AccountAssignmentCreationStatus?.Status).toBe('IN_PROGRESS');
    }
    await expect(sso.send(new CreateAccountAssignmentCommand(targets[10]!))).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(emu.stats().quotaRejected).toBe(1);
    clock.t += 1000;
    await expect(sso.send(new CreateAccountAssignmentCommand(targets[10]!))).resolves.toBeDefined();
  });
});

describe('fault injection', () => {
  it('a given account always fails with the IAM role quota reason', async () => {
    emu.setKnobs({ faults: [{ operations: ['CreateAccountAssignment'], accountId: PROD, effect: { type: 'fail' } }] });
    const bad = await sso.send(new CreateAccountAssignmentCommand(assignment(PROD, 'AdministratorAccess', 'alice')));
    const good = await sso.send(new CreateAccountAssignmentCommand(assignment(DEV, 'AdministratorAccess', 'alice')));
    clock.t += 1000;
    const badStatus = await creationStatus(bad.AccountAssignmentCreationStatus?.RequestId ?? '');
    expect(badStatus).toMatchObject({ Status: 'FAILED', FailureReason: IAM_ROLE_QUOTA_REASON });
    expect((await creationStatus(good.AccountAssignmentCreationStatus?.RequestId ?? ''))?.Status).toBe('SUCCEEDED');
    expect(await principalsOn(PROD, 'AdministratorAccess')).toEqual([]);
  });

  it('injects AWS errors by rule, a bounded number of times', async () => {
    emu.setKnobs({
      faults: [
        { operations: ['CreateAccountAssignment'], times: 2, effect: { type: 'error', code: 'ConflictException' } },
        { operations: ['DescribeAccountAssignmentCreationStatus'], times: 1, effect: { type: 'error', code: 'InternalServerException' } },
      ],
    });
    const input = assignment(DEV, 'PowerUserAccess', 'alice');
    await expect(sso.send(new CreateAccountAssignmentCommand(input))).rejects.toMatchObject({ name: 'ConflictException' });
    await expect(sso.send(new CreateAccountAssignmentCommand(input))).rejects.toMatchObject({ name: 'ConflictException' });
    const out = await sso.send(new CreateAccountAssignmentCommand(input));
    const id = out.AccountAssignmentCreationStatus?.RequestId ?? '';
    await expect(creationStatus(id)).rejects.toMatchObject({ name: 'InternalServerException', $metadata: { httpStatusCode: 500 } });
    await expect(creationStatus(id)).resolves.toMatchObject({ Status: 'IN_PROGRESS' });
    expect(emu.stats().injected).toBe(3);
  });

  it('a failure rate fails about that share of operations (seeded randomness)', async () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const local = createIdentityCenterEmulator({
      fixture,
      clock,
      random,
      knobs: { throttleTps: 0, maxOutstandingAsync: 0, provisioningDelayMs: { minMs: 0, maxMs: 0 }, faults: [{ rate: 0.5, effect: { type: 'fail', reason: 'boom' } }] },
    });
    const outcomes: string[] = [];
    for (const account of fixture.accounts.map((a) => a.id)) {
      for (const ps of ['AdministratorAccess', 'PowerUserAccess', 'ReadOnlyAccess']) {
        const out = (await local.ssoAdmin.handle('CreateAccountAssignment', { ...assignment(account, ps, 'dave') }, { region: 'us-east-1', accountId: '1' })) as {
          AccountAssignmentCreationStatus: { RequestId: string };
        };
        const status = (await local.ssoAdmin.handle(
          'DescribeAccountAssignmentCreationStatus',
          { InstanceArn: INSTANCE, AccountAssignmentCreationRequestId: out.AccountAssignmentCreationStatus.RequestId },
          { region: 'us-east-1', accountId: '1' },
        )) as { AccountAssignmentCreationStatus: { Status: string; FailureReason?: string } };
        outcomes.push(status.AccountAssignmentCreationStatus.Status);
      }
    }
    const failed = outcomes.filter((s) => s === 'FAILED').length;
    expect(failed).toBeGreaterThan(2);
    expect(failed).toBeLessThan(16);
    expect(failed + outcomes.filter((s) => s === 'SUCCEEDED').length).toBe(18);
  });

  it('delegated administrator: assignments on the management account are AccessDenied', async () => {
    const delegated = createIdentityCenterEmulator({ fixture: { ...fixture, instance: { ...fixture.instance, delegatedAdministrator: true } }, clock });
    await expect(
      delegated.ssoAdmin.handle('CreateAccountAssignment', assignment(fixture.organization.managementAccountId, 'ReadOnlyAccess', 'bob'), { region: 'us-east-1', accountId: '1' }),
    ).rejects.toMatchObject({ code: 'AccessDeniedException' });
  });

  it('knobs come from the environment', () => {
    const knobs = knobsFromEnv({ IDC_DELAY_MS: '0-50', IDC_THROTTLE_TPS: '0', IDC_MAX_OUTSTANDING: '3', IDC_FAIL_ACCOUNTS: `${PROD}, ${DEV}`, IDC_FAILURE_RATE: '0.1' });
    expect(knobs).toMatchObject({ provisioningDelayMs: { minMs: 0, maxMs: 50 }, throttleTps: 0, maxOutstandingAsync: 3 });
    expect(knobs.faults).toHaveLength(3);
    expect(() => knobsFromEnv({ IDC_DELAY_MS: 'soon' })).toThrow(/IDC_DELAY_MS/);
    expect(() => knobsFromEnv({ IDC_KNOBS: '{"throttleTps": -1}' })).toThrow(/throttleTps/);
  });
});

describe('group memberships', () => {
  const member = (group: string, user: string) => ({ IdentityStoreId: STORE, GroupId: emu.groupId(group), MemberId: { UserId: emu.userId(user) } });

  it('create is synchronous, a duplicate is ConflictException, delete needs the membership id', async () => {
    const created = await ids.send(new CreateGroupMembershipCommand(member('BreakGlass', 'carol')));
    expect(created.MembershipId).toBeTruthy();
    await expect(ids.send(new CreateGroupMembershipCommand(member('BreakGlass', 'carol')))).rejects.toMatchObject({ name: 'ConflictException' });
    const found = await ids.send(new GetGroupMembershipIdCommand(member('BreakGlass', 'carol')));
    expect(found.MembershipId).toBe(created.MembershipId);
    const check = await ids.send(new IsMemberInGroupsCommand({ IdentityStoreId: STORE, MemberId: { UserId: emu.userId('carol') }, GroupIds: [emu.groupId('BreakGlass'), emu.groupId('PlatformAdmins')] }));
    expect(check.Results?.map((r) => r.MembershipExists)).toEqual([true, false]);

    await ids.send(new DeleteGroupMembershipCommand({ IdentityStoreId: STORE, MembershipId: created.MembershipId ?? '' }));
    await expect(ids.send(new GetGroupMembershipIdCommand(member('BreakGlass', 'carol')))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(ids.send(new DeleteGroupMembershipCommand({ IdentityStoreId: STORE, MembershipId: created.MembershipId ?? '' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('lists a member\'s groups with pagination; emails match case-insensitively', async () => {
    await ids.send(new CreateGroupMembershipCommand(member('BreakGlass', 'bob')));
    const first = await ids.send(new ListGroupMembershipsForMemberCommand({ IdentityStoreId: STORE, MemberId: { UserId: emu.userId('bob') }, MaxResults: 1 }));
    expect(first.GroupMemberships).toHaveLength(1);
    expect(first.NextToken).toBeTruthy();
    const second = await ids.send(new ListGroupMembershipsForMemberCommand({ IdentityStoreId: STORE, MemberId: { UserId: emu.userId('bob') }, MaxResults: 1, NextToken: first.NextToken }));
    expect(second.NextToken).toBeUndefined();
    expect([first, second].flatMap((p) => p.GroupMemberships ?? []).map((m) => m.GroupId).sort()).toEqual([emu.groupId('BreakGlass'), emu.groupId('Developers')].sort());

    const byEmail = await ids.send(new GetUserIdCommand({ IdentityStoreId: STORE, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'emails.value', AttributeValue: 'Bob@Example.COM' } } }));
    expect(byEmail.UserId).toBe(emu.userId('bob'));
    await expect(
      ids.send(new GetUserIdCommand({ IdentityStoreId: STORE, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: 'BOB' } } })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});

describe('organizations', () => {
  it('answers nested OUs, paginates accounts and rejects bad tokens', async () => {
    const regulated = fixture.ous.find((o) => o.path === 'Workloads/Prod/Regulated');
    const parents = await org.send(new ListParentsCommand({ ChildId: '666666666666' }));
    expect(parents.Parents).toEqual([{ Id: regulated?.id, Type: 'ORGANIZATIONAL_UNIT' }]);
    const rootChildren = await org.send(new ListChildrenCommand({ ParentId: fixture.organization.rootId, ChildType: 'ORGANIZATIONAL_UNIT' }));
    expect(rootChildren.Children).toHaveLength(3);
    const page = await org.send(new ListAccountsCommand({ MaxResults: 4 }));
    expect(page.Accounts).toHaveLength(4);
    const rest = await org.send(new ListAccountsCommand({ MaxResults: 4, NextToken: page.NextToken }));
    expect(rest.Accounts).toHaveLength(2);
    expect(rest.NextToken).toBeUndefined();
    await expect(org.send(new ListAccountsCommand({ NextToken: 'garbage' }))).rejects.toMatchObject({ name: 'InvalidInputException' });
    await expect(org.send(new ListParentsCommand({ ChildId: '999999999999' }))).rejects.toMatchObject({ name: 'ChildNotFoundException' });
  });
});

describe('snapshot and restore', () => {
  it('carries assignments, memberships and in-flight operations across a restart', async () => {
    await sso.send(new CreateAccountAssignmentCommand(assignment(PROD, 'ReadOnlyAccess', 'carol')));
    clock.t += 1000;
    const pending = await sso.send(new CreateAccountAssignmentCommand(assignment(PROD, 'AdministratorAccess', 'carol')));
    await sso.send(new DeleteAccountAssignmentCommand(assignment(DEV, 'ReadOnlyAccess', 'bob')));
    const membership = await ids.send(new CreateGroupMembershipCommand({ IdentityStoreId: STORE, GroupId: emu.groupId('BreakGlass'), MemberId: { UserId: emu.userId('dave') } }));
    const saved = JSON.parse(JSON.stringify(emu.snapshot())) as ReturnType<IdentityCenterEmulator['snapshot']>;

    emu = createIdentityCenterEmulator({ fixture, clock, snapshot: saved });
    expect(emu.memberships().find((m) => m.userId === emu.userId('dave') && m.groupId === emu.groupId('BreakGlass'))?.membershipId).toBe(membership.MembershipId);
    expect(await principalsOn(PROD, 'ReadOnlyAccess')).toEqual([emu.userId('carol')]);
    expect((await creationStatus(pending.AccountAssignmentCreationStatus?.RequestId ?? ''))?.Status).toBe('IN_PROGRESS');
    clock.t += 1000;
    expect((await creationStatus(pending.AccountAssignmentCreationStatus?.RequestId ?? ''))?.Status).toBe('SUCCEEDED');
    // The pre-existing assignment's deletion went through after the restart.
    expect(await principalsOn(DEV, 'ReadOnlyAccess')).toEqual([]);

    expect(() => createIdentityCenterEmulator({ fixture, snapshot: { ...saved, instanceArn: 'arn:aws:sso:::instance/ssoins-ffffffffffffffff' } })).toThrow(/instance/);
  });

  it('persists to a JSON file and comes back from it', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'idc-')), 'state', 'idc.json');
    expect(readSnapshotFile(file)).toBeUndefined();
    const writer = snapshotWriter(file, () => emu.snapshot());
    await sso.send(new CreateAccountAssignmentCommand(assignment(PROD, 'PowerUserAccess', 'dave')));
    clock.t += 1000;
    writer.flush();
    const restarted = createIdentityCenterEmulator({ fixture, clock, snapshot: readSnapshotFile(file) });
    expect(restarted.assignments().map((a) => a.principalId)).toContain(emu.userId('dave'));
    writeFileSync(file, '{"version": 7}');
    expect(() => readSnapshotFile(file)).toThrow(/idc\.json is unreadable/);
  });

  it('onChange fires on every state change', async () => {
    let changes = 0;
    emu = createIdentityCenterEmulator({ fixture, clock, knobs: { provisioningDelayMs: { minMs: 10, maxMs: 10 } }, onChange: () => changes++ });
    await sso.send(new CreateAccountAssignmentCommand(assignment(DEV, 'AdministratorAccess', 'dave')));
    expect(changes).toBe(1);
    clock.t += 10;
    emu.assignments();
    expect(changes).toBe(2);
  });
});

describe('fixture validation', () => {
  it('names the line and the field of each problem', () => {
    const text = [
      'instance:',
      '  arn: arn:aws:sso:::instance/ssoins-7223d1e2f3a4b5c6',
      '  identityStoreId: d-9067c0ffee',
      'organization:',
      '  id: o-demo0rg123',
      '  rootId: r-d3m0',
      '  managementAccountId: "111111111111"',
      'accounts:',
      '  - id: 111111111111',
      '    name: management',
      '  - id: "222222222222"',
      '    name: dev',
      '    parent: Nowhere',
      'groups:',
      '  - displayName: Devs',
      '    members: [zed]',
    ].join('\n');
    let error: unknown;
    try {
      parseOrgFixture(text, 'bad.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FixtureError);
    expect((error as Error).message).toContain('line 9, column 9: accounts[0].id: ');
    expect(() => parseOrgFixture(text.replace('id: 111111111111', 'id: "111111111111"'), 'bad.yaml')).toThrow(
      /line 13, column 13: accounts\[1\]\.parent: no OU[\s\S]*line 16, column 15: groups\[0\]\.members\[0\]: no user with userName "zed"/,
    );
    expect(() => parseOrgFixture('instance: [unclosed', 'broken.yaml')).toThrow(/broken\.yaml[\s\S]*line 1/);
  });

  it('derives stable ids, so persisted state survives a restart', () => {
    const again = loadOrgFixture(FIXTURE_PATH);
    expect(again.users.map((u) => u.id)).toEqual(fixture.users.map((u) => u.id));
    expect(again.permissionSets.map((p) => p.arn)).toEqual(fixture.permissionSets.map((p) => p.arn));
    expect(fixture.ous.map((o) => o.path)).toEqual(['Security', 'Infrastructure', 'Workloads', 'Workloads/Dev', 'Workloads/Prod', 'Workloads/Prod/Regulated']);
  });
});
