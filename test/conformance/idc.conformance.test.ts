/**
 * Conformance: the local Identity Center / Organizations emulator against
 * moto_server (or CONFORMANCE_ENDPOINT). Both clouds get the same org, moto
 * through its own APIs; then every operation the project uses runs through the
 * real SDK clients (and through the production adapter) on both, and the
 * observable results, with ids mapped back to names, must be equal. Where we
 * answer IN_PROGRESS first and moto SUCCEEDED at once, both are polled until terminal.
 *
 * Tested against the emulator only, because moto 5.2.1 lacks or differs (the
 * emulator follows AWS; see local/idc/emulator.ts):
 * - identitystore GetGroupMembershipId, IsMemberInGroups: not implemented in moto
 *   (so is IdentityCenterWriter.membershipId, which calls GetGroupMembershipId).
 * - CreateGroupMembership for an existing membership: AWS answers ConflictException, moto adds a duplicate.
 * - DeleteGroupMembership of an unknown id: AWS answers ResourceNotFoundException, moto succeeds silently.
 * - GetUserId by emails.value in another case: the emulator matches case-insensitively, moto exactly
 *   (the adapter's as-given-then-lower-cased lookup is compared on both below).
 * - CreateAccountAssignment for an assignment that exists: AWS succeeds idempotently, moto adds a duplicate row.
 * - ListPermissionSetsProvisionedToAccount: moto ignores AccountId and knows only ProvisionPermissionSet,
 *   not the provisioning a first assignment does (AWS and the emulator provision with it).
 * - IN_PROGRESS / FAILED, ConflictException on a racing write, the 20 TPS throttle and the
 *   10-outstanding quota: moto has no async provisioning and no quotas (test/local/idc.test.ts).
 * - Service control policies (test/local/organization-policies.test.ts): moto checks neither the
 *   content (any text, any size) nor the 5-per-target and at-least-one limits; it accepts a
 *   second AttachPolicy of the same policy and a DetachPolicy of one not attached silently
 *   (AWS: DuplicatePolicyAttachmentException, PolicyNotAttachedException); an unknown target is
 *   AccountNotFoundException or OrganizationalUnitNotFoundException there, TargetNotFoundException
 *   in AWS; FullAWSAccess has an ARN in the organization there, AWS's own (`arn:aws:organizations::aws:…`) here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateAccountAssignmentCommand,
  CreatePermissionSetCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  DescribePermissionSetCommand,
  ListAccountAssignmentsCommand,
  ListAccountAssignmentsForPrincipalCommand,
  ListInstancesCommand,
  ListPermissionSetsCommand,
  ListPermissionSetsProvisionedToAccountCommand,
  SSOAdminClient,
  type AccountAssignmentOperationStatus,
} from '@aws-sdk/client-sso-admin';
import {
  CreateGroupCommand,
  CreateGroupMembershipCommand,
  CreateUserCommand,
  DeleteGroupMembershipCommand,
  DescribeGroupCommand,
  DescribeUserCommand,
  GetGroupIdCommand,
  GetGroupMembershipIdCommand,
  GetUserIdCommand,
  IdentitystoreClient,
  IsMemberInGroupsCommand,
  ListGroupMembershipsForMemberCommand,
  ListGroupsCommand,
  ListUsersCommand,
} from '@aws-sdk/client-identitystore';
import {
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  DescribeAccountCommand,
  DescribeOrganizationCommand,
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListChildrenCommand,
  ListOrganizationalUnitsForParentCommand,
  ListParentsCommand,
  ListRootsCommand,
  ListTagsForResourceCommand,
  AttachPolicyCommand,
  CreatePolicyCommand,
  DeletePolicyCommand,
  DescribePolicyCommand,
  DetachPolicyCommand,
  ListPoliciesCommand,
  ListPoliciesForTargetCommand,
  ListTargetsForPolicyCommand,
  UpdatePolicyCommand,
  MoveAccountCommand,
  OrganizationsClient,
  TagResourceCommand,
} from '@aws-sdk/client-organizations';
import { createIdentityCenterEmulator, resolveOrgFixture, serveJsonServices, type IdentityCenterEmulator, type JsonEndpoint } from '../../local/idc/index.ts';
import { IdentityCenterDirectory, IdentityCenterWriter } from '../../lib/adapters/identity-center.ts';
import { startExternalEndpoint, type ExternalEndpoint } from './moto.ts';

/** The org both clouds hold. Management account: moto's default account, named as moto names it. */
const MANAGEMENT = { id: '123456789012', name: 'master', email: 'master@example.com' };
const OUS = [
  { name: 'Workloads', parent: null },
  { name: 'Dev', parent: 'Workloads' },
  { name: 'Prod', parent: 'Workloads' },
  { name: 'Regulated', parent: 'Prod' },
] as const;
const ACCOUNTS = [
  { name: 'payments-dev', ou: 'Dev', tags: { env: 'dev', team: 'payments' } },
  { name: 'payments-prod', ou: 'Prod', tags: { env: 'prod', team: 'payments' } },
  { name: 'cardholder', ou: 'Regulated', tags: { env: 'prod', compliance: 'pci' } },
] as const;
const PERMISSION_SETS = [
  { name: 'AdministratorAccess', description: 'Full access', sessionDuration: 'PT1H' },
  { name: 'ReadOnlyAccess', description: 'Read only', sessionDuration: 'PT8H' },
] as const;
const USERS = [
  { userName: 'alice', email: 'alice@example.com', givenName: 'Alice', familyName: 'Admin' },
  { userName: 'bob', email: 'bob@example.com', givenName: 'Bob', familyName: 'Builder' },
] as const;
const GROUPS = [
  { displayName: 'Developers', members: ['bob'] },
  { displayName: 'BreakGlass', members: [] },
] as const;
/** Pre-existing: bob has ReadOnlyAccess on payments-dev. */
const PRE_EXISTING = { user: 'bob', account: 'payments-dev', permissionSet: 'ReadOnlyAccess' } as const;

interface Cloud {
  name: string;
  sso: SSOAdminClient;
  ids: IdentitystoreClient;
  orgs: OrganizationsClient;
  endpoint: string;
  instanceArn: string;
  storeId: string;
  rootId: string;
  users: Map<string, string>;
  groups: Map<string, string>;
  permissionSets: Map<string, string>;
  accounts: Map<string, string>;
  ous: Map<string, string>;
  /** Any id this cloud handed out → the name it stands for. */
  nameOf(id: string | undefined): string;
}

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const clientConfig = (endpoint: string) => ({ endpoint, region: 'us-east-1', credentials, maxAttempts: 3 });

function cloud(name: string, endpoint: string, parts: Omit<Cloud, 'name' | 'endpoint' | 'sso' | 'ids' | 'orgs' | 'nameOf'>): Cloud {
  const names = new Map<string, string>();
  for (const map of [parts.users, parts.groups, parts.permissionSets, parts.accounts, parts.ous]) for (const [n, id] of map) names.set(id, n);
  names.set(parts.rootId, 'Root');
  return {
    name,
    endpoint,
    sso: new SSOAdminClient(clientConfig(endpoint)),
    ids: new IdentitystoreClient(clientConfig(endpoint)),
    orgs: new OrganizationsClient(clientConfig(endpoint)),
    ...parts,
    nameOf: (id) => (id === undefined ? '(none)' : (names.get(id) ?? `(unknown ${id})`)),
  };
}

const must = <T>(value: T | undefined | null, what: string): T => {
  if (value === undefined || value === null) throw new Error(`missing ${what}`);
  return value;
};

/** Seeds moto (or the external endpoint) through its own APIs. */
async function seedExternal(endpoint: string): Promise<Cloud> {
  const sso = new SSOAdminClient(clientConfig(endpoint));
  const ids = new IdentitystoreClient(clientConfig(endpoint));
  const orgs = new OrganizationsClient(clientConfig(endpoint));
  await orgs.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
  const rootId = must((await orgs.send(new ListRootsCommand({}))).Roots?.[0]?.Id, 'root');
  const ous = new Map<string, string>();
  for (const ou of OUS) {
    const parentId = ou.parent ? must(ous.get(ou.parent), ou.parent) : rootId;
    const out = await orgs.send(new CreateOrganizationalUnitCommand({ ParentId: parentId, Name: ou.name }));
    ous.set(ou.name, must(out.OrganizationalUnit?.Id, 'OU id'));
  }
  const accounts = new Map<string, string>([[MANAGEMENT.name, MANAGEMENT.id]]);
  for (const a of ACCOUNTS) {
    const created = await orgs.send(new CreateAccountCommand({ AccountName: a.name, Email: `${a.name}@example.com` }));
    const id = must(created.CreateAccountStatus?.AccountId, 'account id');
    await orgs.send(new MoveAccountCommand({ AccountId: id, SourceParentId: rootId, DestinationParentId: must(ous.get(a.ou), a.ou) }));
    await orgs.send(new TagResourceCommand({ ResourceId: id, Tags: Object.entries(a.tags).map(([Key, Value]) => ({ Key, Value })) }));
    accounts.set(a.name, id);
  }
  const instance = must((await sso.send(new ListInstancesCommand({}))).Instances?.[0], 'instance');
  const instanceArn = must(instance.InstanceArn, 'instance arn');
  const storeId = must(instance.IdentityStoreId, 'identity store id');
  const permissionSets = new Map<string, string>();
  for (const ps of PERMISSION_SETS) {
    const out = await sso.send(new CreatePermissionSetCommand({ InstanceArn: instanceArn, Name: ps.name, Description: ps.description, SessionDuration: ps.sessionDuration }));
    permissionSets.set(ps.name, must(out.PermissionSet?.PermissionSetArn, 'permission set arn'));
  }
  const users = new Map<string, string>();
  for (const u of USERS) {
    const out = await ids.send(
      new CreateUserCommand({
        IdentityStoreId: storeId,
        UserName: u.userName,
        DisplayName: `${u.givenName} ${u.familyName}`,
        Name: { GivenName: u.givenName, FamilyName: u.familyName },
        Emails: [{ Value: u.email, Type: 'work', Primary: true }],
      }),
    );
    users.set(u.userName, must(out.UserId, 'user id'));
  }
  const groups = new Map<string, string>();
  for (const g of GROUPS) {
    const out = await ids.send(new CreateGroupCommand({ IdentityStoreId: storeId, DisplayName: g.displayName }));
    const groupId = must(out.GroupId, 'group id');
    groups.set(g.displayName, groupId);
    for (const m of g.members) {
      await ids.send(new CreateGroupMembershipCommand({ IdentityStoreId: storeId, GroupId: groupId, MemberId: { UserId: must(users.get(m), m) } }));
    }
  }
  await sso.send(
    new CreateAccountAssignmentCommand({
      InstanceArn: instanceArn,
      TargetId: must(accounts.get(PRE_EXISTING.account), 'account'),
      TargetType: 'AWS_ACCOUNT',
      PermissionSetArn: must(permissionSets.get(PRE_EXISTING.permissionSet), 'ps'),
      PrincipalType: 'USER',
      PrincipalId: must(users.get(PRE_EXISTING.user), 'user'),
    }),
  );
  for (const c of [sso, ids, orgs]) c.destroy();
  return cloud('moto', endpoint, { instanceArn, storeId, rootId, users, groups, permissionSets, accounts, ous });
}

/** The same org as an emulator fixture. */
function localEmulator(): IdentityCenterEmulator {
  const paths = new Map<string, string>();
  for (const ou of OUS) paths.set(ou.name, ou.parent ? `${must(paths.get(ou.parent), ou.parent)}/${ou.name}` : ou.name);
  const tree = (parent: string | null): unknown[] => OUS.filter((o) => o.parent === parent).map((o) => ({ name: o.name, children: tree(o.name) }));
  const fixture = resolveOrgFixture(
    {
      instance: { arn: 'arn:aws:sso:::instance/ssoins-0123456789abcdef', identityStoreId: 'd-0123456789' },
      organization: { id: 'o-conformance', rootId: 'r-c0nf', managementAccountId: MANAGEMENT.id, managementAccountEmail: MANAGEMENT.email, organizationalUnits: tree(null) },
      accounts: [
        { id: MANAGEMENT.id, name: MANAGEMENT.name, email: MANAGEMENT.email },
        ...ACCOUNTS.map((a, i) => ({ id: String(100000000001 + i), name: a.name, parent: paths.get(a.ou), tags: a.tags })),
      ],
      permissionSets: PERMISSION_SETS.map((p) => ({ ...p })),
      users: USERS.map((u) => ({ userName: u.userName, email: u.email, displayName: `${u.givenName} ${u.familyName}`, givenName: u.givenName, familyName: u.familyName })),
      groups: GROUPS.map((g) => ({ displayName: g.displayName, members: [...g.members] })),
      assignments: [{ principal: { user: PRE_EXISTING.user }, account: '100000000001', permissionSet: PRE_EXISTING.permissionSet }],
    },
    'conformance fixture',
  );
  // No delay (still IN_PROGRESS on the first answer) and no throttle: quotas are tested in test/local/idc.test.ts.
  return createIdentityCenterEmulator({ fixture, knobs: { provisioningDelayMs: { minMs: 0, maxMs: 0 }, throttleTps: 0 } });
}

function localCloud(emu: IdentityCenterEmulator, endpoint: string): Cloud {
  const f = emu.fixture;
  return cloud('local', endpoint, {
    instanceArn: f.instance.arn,
    storeId: f.instance.identityStoreId,
    rootId: f.organization.rootId,
    users: new Map(f.users.map((u) => [u.userName, u.id])),
    groups: new Map(f.groups.map((g) => [g.displayName, g.id])),
    permissionSets: new Map(f.permissionSets.map((p) => [p.name, p.arn])),
    accounts: new Map(f.accounts.map((a) => [a.name, a.id])),
    ous: new Map(f.ous.map((o) => [o.name, o.id])),
  });
}

let external: ExternalEndpoint | undefined;
let localEndpoint: JsonEndpoint | undefined;
let clouds: Cloud[] = [];
let local: Cloud;

beforeAll(async () => {
  // Start both at once: moto's start-up (a Python import) dominates the file's time.
  const [ext, emuEndpoint] = await Promise.all([
    startExternalEndpoint(),
    (async () => {
      const emu = localEmulator();
      return { emu, endpoint: await serveJsonServices(emu.services) };
    })(),
  ]);
  external = ext;
  localEndpoint = emuEndpoint.endpoint;
  // No reset of an external endpoint: other suites may share it at the same time. This suite
  // creates the organization, so CONFORMANCE_ENDPOINT must be a fresh endpoint (a new moto_server).
  local = localCloud(emuEndpoint.emu, localEndpoint.url);
  clouds = [local, await seedExternal(external.url)];
}, 120_000);

afterAll(async () => {
  for (const c of clouds) for (const client of [c.sso, c.ids, c.orgs]) client.destroy();
  await localEndpoint?.close();
  await external?.stop();
});

/** Runs the same observation on every cloud and expects equal results. */
async function same<T>(observe: (c: Cloud) => Promise<T>): Promise<T> {
  const results = await Promise.all(clouds.map(async (c) => ({ cloud: c.name, result: await observe(c) })));
  const [first, ...rest] = results;
  for (const r of rest) expect({ cloud: r.cloud, result: r.result }).toEqual({ cloud: r.cloud, result: first?.result });
  return must(first, 'a cloud').result;
}

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => 'no error',
    (e: Error) => e.name,
  );

const sortBy = <T>(list: T[], key: (t: T) => string) => [...list].sort((a, b) => key(a).localeCompare(key(b)));

describe('sso-admin', () => {
  it('ListInstances: one active instance with an identity store', async () => {
    await same(async (c) => {
      const out = await c.sso.send(new ListInstancesCommand({}));
      return (out.Instances ?? []).map((i) => ({
        arnShape: /^arn:aws:sso:::instance\/ssoins-[a-z0-9]{16}$/.test(i.InstanceArn ?? ''),
        storeShape: /^d-[0-9a-z]{10}$/.test(i.IdentityStoreId ?? ''),
        status: i.Status,
      }));
    });
  });

  it('ListPermissionSets + DescribePermissionSet', async () => {
    const sets = await same(async (c) => {
      const arns = (await c.sso.send(new ListPermissionSetsCommand({ InstanceArn: c.instanceArn }))).PermissionSets ?? [];
      const described = await Promise.all(arns.map((arn) => c.sso.send(new DescribePermissionSetCommand({ InstanceArn: c.instanceArn, PermissionSetArn: arn }))));
      return sortBy(
        described.map((d) => ({ name: d.PermissionSet?.Name, description: d.PermissionSet?.Description, session: d.PermissionSet?.SessionDuration, arn: c.nameOf(d.PermissionSet?.PermissionSetArn) })),
        (p) => p.name ?? '',
      );
    });
    expect(sets.map((s) => s.name)).toEqual(['AdministratorAccess', 'ReadOnlyAccess']);
  });

  it('pre-existing assignments are listed by account and by principal', async () => {
    await same(async (c) => {
      const byAccount = await c.sso.send(
        new ListAccountAssignmentsCommand({ InstanceArn: c.instanceArn, AccountId: must(c.accounts.get('payments-dev'), 'acct'), PermissionSetArn: must(c.permissionSets.get('ReadOnlyAccess'), 'ps') }),
      );
      const byPrincipal = await c.sso.send(new ListAccountAssignmentsForPrincipalCommand({ InstanceArn: c.instanceArn, PrincipalId: must(c.users.get('bob'), 'bob'), PrincipalType: 'USER' }));
      const view = (rows: { AccountId?: string; PermissionSetArn?: string; PrincipalId?: string; PrincipalType?: string }[] | undefined) =>
        (rows ?? []).map((r) => [c.nameOf(r.AccountId), c.nameOf(r.PermissionSetArn), c.nameOf(r.PrincipalId), r.PrincipalType]);
      return { byAccount: view(byAccount.AccountAssignments), byPrincipal: view(byPrincipal.AccountAssignments) };
    });
  });

  it('Create → status SUCCEEDED → listed; Delete → SUCCEEDED → gone; deleting it again is ResourceNotFoundException', async () => {
    const transcript = await same(async (c) => {
      const input = {
        InstanceArn: c.instanceArn,
        TargetId: must(c.accounts.get('payments-prod'), 'acct'),
        TargetType: 'AWS_ACCOUNT' as const,
        PermissionSetArn: must(c.permissionSets.get('AdministratorAccess'), 'ps'),
        PrincipalType: 'USER' as const,
        PrincipalId: must(c.users.get('alice'), 'alice'),
      };
      const listed = async () =>
        ((await c.sso.send(new ListAccountAssignmentsCommand({ InstanceArn: c.instanceArn, AccountId: input.TargetId, PermissionSetArn: input.PermissionSetArn }))).AccountAssignments ?? []).map((a) =>
          c.nameOf(a.PrincipalId),
        );
      const poll = async (describe: () => Promise<AccountAssignmentOperationStatus | undefined>) => {
        let status = await describe();
        for (let i = 0; i < 50 && status?.Status === 'IN_PROGRESS'; i++) {
          await new Promise((r) => setTimeout(r, 20));
          status = await describe();
        }
        return status;
      };
      const view = (s: AccountAssignmentOperationStatus | undefined) => ({
        status: s?.Status,
        failureReason: s?.FailureReason,
        target: c.nameOf(s?.TargetId),
        permissionSet: c.nameOf(s?.PermissionSetArn),
        principal: c.nameOf(s?.PrincipalId),
        principalType: s?.PrincipalType,
        requestIdShape: /^[0-9a-f-]{36}$/.test(s?.RequestId ?? ''),
      });

      const created = must((await c.sso.send(new CreateAccountAssignmentCommand(input))).AccountAssignmentCreationStatus, 'status');
      const firstAnswer = created.Status;
      const createdFinal = await poll(
        async () => (await c.sso.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn: c.instanceArn, AccountAssignmentCreationRequestId: created.RequestId }))).AccountAssignmentCreationStatus,
      );
      const afterCreate = await listed();
      const deleted = must((await c.sso.send(new DeleteAccountAssignmentCommand(input))).AccountAssignmentDeletionStatus, 'status');
      const deletedFinal = await poll(
        async () => (await c.sso.send(new DescribeAccountAssignmentDeletionStatusCommand({ InstanceArn: c.instanceArn, AccountAssignmentDeletionRequestId: deleted.RequestId }))).AccountAssignmentDeletionStatus,
      );
      const afterDelete = await listed();
      const deleteAgain = await errorOf(c.sso.send(new DeleteAccountAssignmentCommand(input)));
      return {
        firstAnswerIsKnown: firstAnswer === 'IN_PROGRESS' || firstAnswer === 'SUCCEEDED',
        created: view(createdFinal),
        afterCreate,
        deleted: view(deletedFinal),
        afterDelete,
        deleteAgain,
      };
    });
    expect(transcript.created.status).toBe('SUCCEEDED');
    expect(transcript.afterCreate).toEqual(['alice']);
    expect(transcript.afterDelete).toEqual([]);
    expect(transcript.deleteAgain).toBe('ResourceNotFoundException');
  });
});

describe('identitystore', () => {
  it('GetUserId by userName and by email, DescribeUser, unknown user', async () => {
    await same(async (c) => {
      const get = (path: string, value: string) =>
        c.ids.send(new GetUserIdCommand({ IdentityStoreId: c.storeId, AlternateIdentifier: { UniqueAttribute: { AttributePath: path, AttributeValue: value } } }));
      const byName = await get('userName', 'alice');
      const byEmail = await get('emails.value', 'bob@example.com');
      const user = await c.ids.send(new DescribeUserCommand({ IdentityStoreId: c.storeId, UserId: must(byEmail.UserId, 'id') }));
      return {
        byName: c.nameOf(byName.UserId),
        byEmail: c.nameOf(byEmail.UserId),
        user: { userName: user.UserName, displayName: user.DisplayName, emails: user.Emails?.map((e) => e.Value), given: user.Name?.GivenName, family: user.Name?.FamilyName },
        unknown: await errorOf(get('userName', 'mallory')),
        unknownEmail: await errorOf(get('emails.value', 'mallory@example.com')),
      };
    });
  });

  it('GetGroupId, DescribeGroup, ListGroupMembershipsForMember, unknown group', async () => {
    await same(async (c) => {
      const gid = await c.ids.send(
        new GetGroupIdCommand({ IdentityStoreId: c.storeId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'displayName', AttributeValue: 'Developers' } } }),
      );
      const group = await c.ids.send(new DescribeGroupCommand({ IdentityStoreId: c.storeId, GroupId: must(gid.GroupId, 'gid') }));
      const memberships = await c.ids.send(new ListGroupMembershipsForMemberCommand({ IdentityStoreId: c.storeId, MemberId: { UserId: must(c.users.get('bob'), 'bob') } }));
      return {
        group: c.nameOf(gid.GroupId),
        displayName: group.DisplayName,
        bobsGroups: (memberships.GroupMemberships ?? []).map((m) => [c.nameOf(m.GroupId), c.nameOf(m.MemberId && 'UserId' in m.MemberId ? m.MemberId.UserId : undefined)]),
        unknown: await errorOf(
          c.ids.send(new GetGroupIdCommand({ IdentityStoreId: c.storeId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'displayName', AttributeValue: 'Nobody' } } })),
        ),
      };
    });
  });

  it('ListUsers and ListGroups, one row a page', async () => {
    const listed = await same(async (c) => {
      const users: [string | undefined, string][] = [];
      const groups: [string | undefined, string, boolean][] = [];
      let token: string | undefined;
      do {
        const out = await c.ids.send(new ListUsersCommand({ IdentityStoreId: c.storeId, MaxResults: 1, ...(token ? { NextToken: token } : {}) }));
        users.push(...(out.Users ?? []).map((u) => [u.UserName, c.nameOf(u.UserId)] as [string | undefined, string]));
        token = out.NextToken;
      } while (token);
      do {
        const out = await c.ids.send(new ListGroupsCommand({ IdentityStoreId: c.storeId, MaxResults: 1, ...(token ? { NextToken: token } : {}) }));
        groups.push(...(out.Groups ?? []).map((g) => [g.DisplayName, c.nameOf(g.GroupId), (g.ExternalIds ?? []).length > 0] as [string | undefined, string, boolean]));
        token = out.NextToken;
      } while (token);
      return { users: sortBy(users, (u) => u[1]), groups: sortBy(groups, (g) => g[1]) };
    });
    expect(listed.users.map((u) => u[0])).toEqual(['alice', 'bob']);
    expect(listed.groups).toEqual([['BreakGlass', 'BreakGlass', false], ['Developers', 'Developers', false]]);
  });

  it('CreateGroupMembership is synchronous; DeleteGroupMembership removes it', async () => {
    await same(async (c) => {
      const groupId = must(c.groups.get('BreakGlass'), 'group');
      const alice = must(c.users.get('alice'), 'alice');
      const groupsOfAlice = async () =>
        ((await c.ids.send(new ListGroupMembershipsForMemberCommand({ IdentityStoreId: c.storeId, MemberId: { UserId: alice } }))).GroupMemberships ?? []).map((m) => c.nameOf(m.GroupId));
      const created = await c.ids.send(new CreateGroupMembershipCommand({ IdentityStoreId: c.storeId, GroupId: groupId, MemberId: { UserId: alice } }));
      const during = await groupsOfAlice();
      await c.ids.send(new DeleteGroupMembershipCommand({ IdentityStoreId: c.storeId, MembershipId: must(created.MembershipId, 'membership') }));
      return { hasId: !!created.MembershipId, during, after: await groupsOfAlice() };
    });
  });

  it('emulator only: GetGroupMembershipId, IsMemberInGroups, duplicate membership, unknown membership delete, email case', async () => {
    const c = local;
    const bob = must(c.users.get('bob'), 'bob');
    const developers = must(c.groups.get('Developers'), 'group');
    const id = await c.ids.send(new GetGroupMembershipIdCommand({ IdentityStoreId: c.storeId, GroupId: developers, MemberId: { UserId: bob } }));
    expect(id.MembershipId).toBeTruthy();
    const check = await c.ids.send(new IsMemberInGroupsCommand({ IdentityStoreId: c.storeId, MemberId: { UserId: bob }, GroupIds: [developers, must(c.groups.get('BreakGlass'), 'g')] }));
    expect(check.Results?.map((r) => r.MembershipExists)).toEqual([true, false]);
    expect(await errorOf(c.ids.send(new CreateGroupMembershipCommand({ IdentityStoreId: c.storeId, GroupId: developers, MemberId: { UserId: bob } })))).toBe('ConflictException');
    expect(await errorOf(c.ids.send(new DeleteGroupMembershipCommand({ IdentityStoreId: c.storeId, MembershipId: '00000000-0000-0000-0000-000000000000' })))).toBe(
      'ResourceNotFoundException',
    );
    const mixed = await c.ids.send(
      new GetUserIdCommand({ IdentityStoreId: c.storeId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'emails.value', AttributeValue: 'BOB@example.com' } } }),
    );
    expect(mixed.UserId).toBe(bob);
  });
});

describe('sso-admin, emulator only', () => {
  it('ListPermissionSetsProvisionedToAccount: the sets an assignment (or the fixture) provisioned there; a bad account id is ValidationException', async () => {
    const list = (accountId: string) => local.sso.send(new ListPermissionSetsProvisionedToAccountCommand({ InstanceArn: local.instanceArn, AccountId: accountId }));
    expect(((await list(must(local.accounts.get('payments-dev'), 'acct'))).PermissionSets ?? []).map((arn) => local.nameOf(arn))).toEqual(['ReadOnlyAccess']);
    expect((await list(must(local.accounts.get('cardholder'), 'acct'))).PermissionSets).toEqual([]);
    expect(await errorOf(list('12345'))).toBe('ValidationException');
  });
});

describe('organizations', () => {
  it('DescribeOrganization, ListRoots, ListAccounts, DescribeAccount', async () => {
    await same(async (c) => {
      const org = await c.orgs.send(new DescribeOrganizationCommand({}));
      const roots = await c.orgs.send(new ListRootsCommand({}));
      const accounts = await c.orgs.send(new ListAccountsCommand({}));
      const cardholder = await c.orgs.send(new DescribeAccountCommand({ AccountId: must(c.accounts.get('cardholder'), 'acct') }));
      return {
        management: c.nameOf(org.Organization?.MasterAccountId),
        managementEmail: org.Organization?.MasterAccountEmail,
        featureSet: org.Organization?.FeatureSet,
        roots: (roots.Roots ?? []).map((r) => c.nameOf(r.Id)),
        accounts: sortBy((accounts.Accounts ?? []).map((a) => ({ name: a.Name, id: c.nameOf(a.Id), status: a.Status })), (a) => a.name ?? ''),
        cardholder: { name: cardholder.Account?.Name, email: cardholder.Account?.Email, status: cardholder.Account?.Status },
        unknown: await errorOf(c.orgs.send(new DescribeAccountCommand({ AccountId: '999999999999' }))),
      };
    });
  });

  it('ListParents up to the root, ListChildren, ListAccountsForParent, ListOrganizationalUnitsForParent, ListTagsForResource', async () => {
    await same(async (c) => {
      const chain: string[] = [];
      let child = must(c.accounts.get('cardholder'), 'acct');
      for (let i = 0; i < 6; i++) {
        const parent = (await c.orgs.send(new ListParentsCommand({ ChildId: child }))).Parents?.[0];
        chain.push(`${c.nameOf(parent?.Id)}:${parent?.Type}`);
        if (!parent?.Id || parent.Type === 'ROOT') break;
        child = parent.Id;
      }
      const workloads = must(c.ous.get('Workloads'), 'ou');
      const ouChildren = await c.orgs.send(new ListChildrenCommand({ ParentId: workloads, ChildType: 'ORGANIZATIONAL_UNIT' }));
      const rootAccounts = await c.orgs.send(new ListChildrenCommand({ ParentId: c.rootId, ChildType: 'ACCOUNT' }));
      const devAccounts = await c.orgs.send(new ListAccountsForParentCommand({ ParentId: must(c.ous.get('Dev'), 'dev') }));
      const rootOus = await c.orgs.send(new ListOrganizationalUnitsForParentCommand({ ParentId: c.rootId }));
      const tags = await c.orgs.send(new ListTagsForResourceCommand({ ResourceId: must(c.accounts.get('cardholder'), 'acct') }));
      return {
        chain,
        workloadsChildren: (ouChildren.Children ?? []).map((x) => c.nameOf(x.Id)).sort(),
        rootAccounts: (rootAccounts.Children ?? []).map((x) => c.nameOf(x.Id)),
        devAccounts: (devAccounts.Accounts ?? []).map((a) => a.Name),
        rootOus: (rootOus.OrganizationalUnits ?? []).map((o) => o.Name),
        tags: sortBy(tags.Tags ?? [], (t) => t.Key ?? ''),
      };
    });
  });
});

describe('organizations: service control policies', () => {
  const scp = (userIds: string[]) =>
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'identitystore:userId': userIds }, DateLessThan: { 'aws:TokenIssueTime': '2026-01-01T00:00:00Z' } } }],
    });

  it('CreatePolicy, DescribePolicy, UpdatePolicy, TagResource; a duplicate name; an unknown policy', async () => {
    await same(async (c) => {
      const created = await c.orgs.send(
        new CreatePolicyCommand({ Name: 'jit-sessions', Description: 'cuts sessions', Type: 'SERVICE_CONTROL_POLICY', Content: scp(['u-1']), Tags: [{ Key: 'managed-by', Value: 'jit' }] }),
      );
      const id = must(created.Policy?.PolicySummary?.Id, 'policy id');
      const { Id, Arn, ...summary } = must(created.Policy?.PolicySummary, 'summary');
      await c.orgs.send(new UpdatePolicyCommand({ PolicyId: id, Content: scp(['u-1', 'u-2']), Description: 'cuts more sessions' }));
      const described = await c.orgs.send(new DescribePolicyCommand({ PolicyId: id }));
      await c.orgs.send(new TagResourceCommand({ ResourceId: id, Tags: [{ Key: 'purpose', Value: 'session-revocation' }] }));
      const tags = await c.orgs.send(new ListTagsForResourceCommand({ ResourceId: id }));
      const full = await c.orgs.send(new DescribePolicyCommand({ PolicyId: 'p-FullAWSAccess' }));
      return {
        idShape: /^p-[0-9a-z]{8,128}$/.test(Id ?? ''),
        arnShape: new RegExp(`^arn:aws:organizations::${MANAGEMENT.id}:policy/o-[a-z0-9]{10,32}/service_control_policy/${id}$`).test(Arn ?? ''),
        summary,
        content: created.Policy?.Content,
        updated: { content: described.Policy?.Content, description: described.Policy?.PolicySummary?.Description },
        tags: sortBy(tags.Tags ?? [], (t) => t.Key ?? ''),
        full: { name: full.Policy?.PolicySummary?.Name, awsManaged: full.Policy?.PolicySummary?.AwsManaged, content: JSON.parse(full.Policy?.Content ?? '{}') },
        duplicate: await errorOf(c.orgs.send(new CreatePolicyCommand({ Name: 'jit-sessions', Description: '', Type: 'SERVICE_CONTROL_POLICY', Content: scp(['u-3']) }))),
        unknown: await errorOf(c.orgs.send(new DescribePolicyCommand({ PolicyId: 'p-00000000' }))),
        listed: ((await c.orgs.send(new ListPoliciesCommand({ Filter: 'SERVICE_CONTROL_POLICY' }))).Policies ?? []).map((p) => p.Name).filter((n) => n !== 'jit-attached').sort(),
      };
    });
  });

  it('AttachPolicy to an account, an OU and the root; ListPoliciesForTarget, ListTargetsForPolicy; DeletePolicy in use, DetachPolicy, DeletePolicy', async () => {
    await same(async (c) => {
      const id = must((await c.orgs.send(new CreatePolicyCommand({ Name: 'jit-attached', Description: '', Type: 'SERVICE_CONTROL_POLICY', Content: scp(['u-1']) }))).Policy?.PolicySummary?.Id, 'id');
      const account = must(c.accounts.get('payments-prod'), 'acct');
      const ou = must(c.ous.get('Workloads'), 'ou');
      const policyName = (pid: string | undefined) => (pid === id ? 'jit-attached' : pid === 'p-FullAWSAccess' ? 'FullAWSAccess' : `(other ${pid})`);
      const on = async (target: string) =>
        ((await c.orgs.send(new ListPoliciesForTargetCommand({ TargetId: target, Filter: 'SERVICE_CONTROL_POLICY' }))).Policies ?? []).map((p) => policyName(p.Id)).sort();
      const before = { account: await on(account), ou: await on(ou), root: await on(c.rootId) };
      for (const target of [account, ou, c.rootId]) await c.orgs.send(new AttachPolicyCommand({ PolicyId: id, TargetId: target }));
      const attached = { account: await on(account), ou: await on(ou), root: await on(c.rootId) };
      const targets = ((await c.orgs.send(new ListTargetsForPolicyCommand({ PolicyId: id }))).Targets ?? []).map((t) => ({ target: c.nameOf(t.TargetId), type: t.Type, name: t.Name }));
      const deleteInUse = await errorOf(c.orgs.send(new DeletePolicyCommand({ PolicyId: id })));
      for (const target of [account, ou, c.rootId]) await c.orgs.send(new DetachPolicyCommand({ PolicyId: id, TargetId: target }));
      const detached = { account: await on(account), targets: (await c.orgs.send(new ListTargetsForPolicyCommand({ PolicyId: id }))).Targets ?? [] };
      await c.orgs.send(new DeletePolicyCommand({ PolicyId: id }));
      return { before, attached, targets: sortBy(targets, (t) => t.target), deleteInUse, detached, afterDelete: await errorOf(c.orgs.send(new DescribePolicyCommand({ PolicyId: id }))) };
    });
  });
});

describe('through the production adapter', () => {
  it('IdentityCenterDirectory answers the same on both (instance discovered with ListInstances)', async () => {
    const result = await same(async (c) => {
      const dir = new IdentityCenterDirectory({ clients: { ssoAdmin: c.sso, identityStore: c.ids, organizations: c.orgs } });
      const bob = await dir.findUserByEmail('Bob@Example.com');
      const accounts = await dir.listAccounts();
      const cardholder = await dir.describeAccount(must(c.accounts.get('cardholder'), 'acct'));
      return {
        bob: bob && { ...bob, userId: c.nameOf(bob.userId) },
        alice: c.nameOf((await dir.findUserByUserName('alice'))?.userId),
        nobody: await dir.findUserByEmail('nobody@example.com'),
        bobsGroups: (await dir.groupIdsOfUser(must(c.users.get('bob'), 'bob'))).map((g) => c.nameOf(g)),
        developers: c.nameOf(await dir.findGroupId('Developers')),
        noGroup: await dir.findGroupId('Nope'),
        readOnly: c.nameOf(await dir.findPermissionSetArn('ReadOnlyAccess')),
        noSet: await dir.findPermissionSetArn('Nope'),
        cardholder: cardholder && { ...cardholder, id: c.nameOf(cardholder.id), ouPath: cardholder.ouPath.map((o) => c.nameOf(o)) },
        accounts: sortBy(accounts.map((a) => ({ name: a.name, ouPath: a.ouPath.map((o) => c.nameOf(o)), tags: a.tags })), (a) => a.name),
        unknownAccount: await dir.describeAccount('999999999999'),
        management: c.nameOf(await dir.managementAccountId()),
      };
    });
    expect(result.bob).toEqual({ userId: 'bob', userName: 'bob', email: 'bob@example.com', displayName: 'Bob Builder' });
    expect(result.cardholder?.ouPath).toEqual(['Regulated', 'Prod', 'Workloads']);
    expect(result.management).toBe('master');
  });

  it('IdentityCenterWriter: assignment lifecycle and membership removal', async () => {
    await same(async (c) => {
      const writer = new IdentityCenterWriter({ clients: { ssoAdmin: c.sso, identityStore: c.ids, organizations: c.orgs } });
      const ref = { principalId: must(c.users.get('bob'), 'bob'), accountId: must(c.accounts.get('cardholder'), 'acct'), permissionSetArn: must(c.permissionSets.get('ReadOnlyAccess'), 'ps') };
      const before = await writer.assignmentExists(ref.principalId, ref.accountId, ref.permissionSetArn);
      // The grant state machine creates (an SDK integration); the writer waits for it.
      const started = must(
        (
          await c.sso.send(
            new CreateAccountAssignmentCommand({ InstanceArn: c.instanceArn, TargetId: ref.accountId, TargetType: 'AWS_ACCOUNT', PermissionSetArn: ref.permissionSetArn, PrincipalType: 'USER', PrincipalId: ref.principalId }),
          )
        ).AccountAssignmentCreationStatus?.RequestId,
        'request id',
      );
      const created = await writer.waitForAssignment('create', started, { firstDelayMs: 10 });
      const during = await writer.assignmentExists(ref.principalId, ref.accountId, ref.permissionSetArn);
      const deleting = must(await writer.deleteAssignment(ref), 'deletion');
      const deleted = await writer.waitForAssignment('delete', deleting.requestId, { firstDelayMs: 10 });
      const after = await writer.assignmentExists(ref.principalId, ref.accountId, ref.permissionSetArn);
      const again = await writer.deleteAssignment(ref);
      const preExisting = await writer.assignmentExists(ref.principalId, must(c.accounts.get('payments-dev'), 'acct'), ref.permissionSetArn);

      const added = must(
        (await c.ids.send(new CreateGroupMembershipCommand({ IdentityStoreId: c.storeId, GroupId: must(c.groups.get('BreakGlass'), 'g'), MemberId: { UserId: ref.principalId } }))).MembershipId,
        'membership id',
      );
      const removed = await writer.removeMembership(added);
      return { before, created: created.status, during, deleted: deleted.status, after, again, preExisting, removed };
    });
  });

  it('emulator only: IdentityCenterWriter.membershipId (moto lacks GetGroupMembershipId)', async () => {
    const c = local;
    const writer = new IdentityCenterWriter({ clients: { ssoAdmin: c.sso, identityStore: c.ids, organizations: c.orgs } });
    const bob = must(c.users.get('bob'), 'bob');
    const developers = must(c.groups.get('Developers'), 'g');
    expect(await writer.membershipId(developers, bob)).toBeTruthy();
    expect(await writer.membershipId(must(c.groups.get('BreakGlass'), 'g'), bob)).toBeUndefined();
  });
});
