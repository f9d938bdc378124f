import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribePermissionSetCommand,
  ListAccountAssignmentsCommand,
  ListInstancesCommand,
  ListPermissionSetsCommand,
  ResourceNotFoundException as SsoNotFound,
  SSOAdminClient,
} from '@aws-sdk/client-sso-admin';
import {
  DescribeUserCommand,
  GetGroupIdCommand,
  GetGroupMembershipIdCommand,
  GetUserIdCommand,
  IdentitystoreClient,
  ListGroupMembershipsForMemberCommand,
  ResourceNotFoundException as IdsNotFound,
} from '@aws-sdk/client-identitystore';
import {
  AccountNotFoundException,
  AWSOrganizationsNotInUseException,
  DescribeAccountCommand,
  DescribeOrganizationCommand,
  ListAccountsCommand,
  ListParentsCommand,
  ListTagsForResourceCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { assumeRoleCredentials, IdentityCenterDirectory, IdentityCenterWriter } from '../../lib/adapters/identity-center.ts';
import { backoffDelay, isRetryableAwsError, withAwsRetry } from '../../lib/adapters/aws-retry.ts';
import { ConfigError } from '../../lib/errors.ts';

const INSTANCE = 'arn:aws:sso:::instance/ssoins-1111111111111111';
const STORE = 'd-1234567890';
const meta = { $metadata: {} };

const sso = mockClient(SSOAdminClient);
const ids = mockClient(IdentitystoreClient);
const orgs = mockClient(OrganizationsClient);
const clients = () => ({ ssoAdmin: new SSOAdminClient({ region: 'us-east-1' }), identityStore: new IdentitystoreClient({ region: 'us-east-1' }), organizations: new OrganizationsClient({ region: 'us-east-1' }) });
const noSleep = async () => {};

beforeEach(() => {
  sso.reset();
  ids.reset();
  orgs.reset();
});

describe('IdentityCenterDirectory', () => {
  const clock = { t: 0 };
  const directory = (extra: Partial<ConstructorParameters<typeof IdentityCenterDirectory>[0]> = {}) =>
    new IdentityCenterDirectory({ clients: clients(), instanceArn: INSTANCE, identityStoreId: STORE, now: () => clock.t, ...extra });

  it('resolves the instance from ListInstances (first instance) when config has none', async () => {
    sso.on(ListInstancesCommand).resolves({ Instances: [{ InstanceArn: INSTANCE, IdentityStoreId: STORE }, { InstanceArn: 'other', IdentityStoreId: 'd-0' }] });
    ids.on(GetUserIdCommand).resolves({ UserId: 'u-1', IdentityStoreId: STORE });
    ids.on(DescribeUserCommand).resolves({ UserId: 'u-1', UserName: 'alice', IdentityStoreId: STORE, Emails: [{ Value: 'alice@example.com', Primary: true }] });
    const dir = new IdentityCenterDirectory({ clients: clients() });
    await dir.findUserByUserName('alice');
    await dir.findUserByUserName('bob');
    expect(sso).toHaveReceivedCommandTimes(ListInstancesCommand, 1);
    expect(ids).toHaveReceivedCommandWith(GetUserIdCommand, { IdentityStoreId: STORE });
  });

  it('fails with a ConfigError when no instance is visible', async () => {
    sso.on(ListInstancesCommand).resolves({ Instances: [] });
    await expect(new IdentityCenterDirectory({ clients: clients() }).findGroupId('x')).rejects.toBeInstanceOf(ConfigError);
  });

  it('finds users by email with GetUserId, as given then lower-cased, and caches the id', async () => {
    ids.on(GetUserIdCommand, { AlternateIdentifier: { UniqueAttribute: { AttributePath: 'emails.value', AttributeValue: 'Alice@Example.com' } } }).rejects(new IdsNotFound({ message: 'USER not found', ...meta }));
    ids.on(GetUserIdCommand, { AlternateIdentifier: { UniqueAttribute: { AttributePath: 'emails.value', AttributeValue: 'alice@example.com' } } }).resolves({ UserId: 'u-1', IdentityStoreId: STORE });
    ids.on(DescribeUserCommand).resolves({ UserId: 'u-1', UserName: 'alice', DisplayName: 'Alice', IdentityStoreId: STORE, Emails: [{ Value: 'x@example.com' }, { Value: 'alice@example.com', Primary: true }] });
    const dir = directory();
    expect(await dir.findUserByEmail('Alice@Example.com')).toEqual({ userId: 'u-1', userName: 'alice', email: 'alice@example.com', displayName: 'Alice' });
    expect(await dir.findUserByEmail('ALICE@example.com')).toMatchObject({ userId: 'u-1' });
    expect(ids).toHaveReceivedCommandTimes(GetUserIdCommand, 2);
    expect(ids).toHaveReceivedCommandTimes(DescribeUserCommand, 1);
  });

  it('answers undefined for unknown users and does not cache the miss', async () => {
    ids.on(GetUserIdCommand).rejects(new IdsNotFound({ message: 'USER not found', ...meta }));
    const dir = directory();
    expect(await dir.findUserByEmail('ghost@example.com')).toBeUndefined();
    expect(await dir.findUserByEmail('ghost@example.com')).toBeUndefined();
    expect(ids).toHaveReceivedCommandTimes(GetUserIdCommand, 2);
  });

  it('cached names expire after the TTL', async () => {
    ids.on(GetGroupIdCommand).resolves({ GroupId: 'g-1', IdentityStoreId: STORE });
    const dir = directory({ cacheTtlMs: 1000 });
    clock.t = 0;
    await dir.findGroupId('Developers');
    clock.t = 999;
    await dir.findGroupId('Developers');
    expect(ids).toHaveReceivedCommandTimes(GetGroupIdCommand, 1);
    clock.t = 1000;
    expect(await dir.findGroupId('Developers')).toBe('g-1');
    expect(ids).toHaveReceivedCommandTimes(GetGroupIdCommand, 2);
    expect(ids).toHaveReceivedCommandWith(GetGroupIdCommand, { AlternateIdentifier: { UniqueAttribute: { AttributePath: 'displayName', AttributeValue: 'Developers' } } });
  });

  it('lists a user\'s groups across pages', async () => {
    ids
      .on(ListGroupMembershipsForMemberCommand)
      .resolvesOnce({ GroupMemberships: [{ GroupId: 'g-1', IdentityStoreId: STORE }], NextToken: 't1' })
      .resolvesOnce({ GroupMemberships: [{ GroupId: 'g-2', IdentityStoreId: STORE }] });
    expect(await directory().groupIdsOfUser('u-1')).toEqual(['g-1', 'g-2']);
    expect(ids).toHaveReceivedNthCommandWith(ListGroupMembershipsForMemberCommand, 2, { NextToken: 't1', MemberId: { UserId: 'u-1' } });
  });

  it('concurrent group lookups for one user share one call; the answer is reused briefly, and maxAgeMs: 0 asks again', async () => {
    ids.on(ListGroupMembershipsForMemberCommand).resolves({ GroupMemberships: [{ GroupId: 'g-1', IdentityStoreId: STORE }] });
    const dir = directory({ membershipTtlMs: 30_000 });
    const results = await Promise.all([dir.groupIdsOfUser('u-1'), dir.groupIdsOfUser('u-1'), dir.groupIdsOfUser('u-2')]);
    expect(results).toEqual([['g-1'], ['g-1'], ['g-1']]);
    expect(ids).toHaveReceivedCommandTimes(ListGroupMembershipsForMemberCommand, 2);
    await dir.groupIdsOfUser('u-1');
    expect(ids).toHaveReceivedCommandTimes(ListGroupMembershipsForMemberCommand, 2);
    await dir.groupIdsOfUser('u-1', { maxAgeMs: 0 });
    expect(ids).toHaveReceivedCommandTimes(ListGroupMembershipsForMemberCommand, 3);
    clock.t += 31_000;
    await dir.groupIdsOfUser('u-1');
    expect(ids).toHaveReceivedCommandTimes(ListGroupMembershipsForMemberCommand, 4);
  });

  it('maps permission set names to ARNs across pages', async () => {
    sso.on(ListPermissionSetsCommand).resolvesOnce({ PermissionSets: ['ps-a'], NextToken: 'n' }).resolvesOnce({ PermissionSets: ['ps-b'] });
    sso.on(DescribePermissionSetCommand, { PermissionSetArn: 'ps-a' }).resolves({ PermissionSet: { Name: 'AdministratorAccess', PermissionSetArn: 'ps-a' } });
    sso.on(DescribePermissionSetCommand, { PermissionSetArn: 'ps-b' }).resolves({ PermissionSet: { Name: 'ReadOnlyAccess', PermissionSetArn: 'ps-b' } });
    const dir = directory();
    expect(await dir.findPermissionSetArn('ReadOnlyAccess')).toBe('ps-b');
    expect(await dir.findPermissionSetArn('Nope')).toBeUndefined();
    expect(sso).toHaveReceivedCommandTimes(ListPermissionSetsCommand, 2);
  });

  it('describes an account with its nested OU path (parent first) and tags', async () => {
    orgs.on(DescribeAccountCommand).resolves({ Account: { Id: '666666666666', Name: 'cardholder', Status: 'ACTIVE' } });
    orgs.on(ListParentsCommand, { ChildId: '666666666666' }).resolves({ Parents: [{ Id: 'ou-ab12-regulated', Type: 'ORGANIZATIONAL_UNIT' }] });
    orgs.on(ListParentsCommand, { ChildId: 'ou-ab12-regulated' }).resolves({ Parents: [{ Id: 'ou-ab12-prod', Type: 'ORGANIZATIONAL_UNIT' }] });
    orgs.on(ListParentsCommand, { ChildId: 'ou-ab12-prod' }).resolves({ Parents: [{ Id: 'r-ab12', Type: 'ROOT' }] });
    orgs.on(ListTagsForResourceCommand).resolves({ Tags: [{ Key: 'env', Value: 'prod' }, { Key: 'compliance', Value: 'pci' }] });
    expect(await directory().describeAccount('666666666666')).toEqual({
      id: '666666666666',
      name: 'cardholder',
      ouPath: ['ou-ab12-regulated', 'ou-ab12-prod'],
      tags: { env: 'prod', compliance: 'pci' },
    });
  });

  it('answers undefined for an unknown account and for a suspended one', async () => {
    orgs.on(DescribeAccountCommand, { AccountId: '999999999999' }).rejects(new AccountNotFoundException({ message: 'nope', ...meta }));
    orgs.on(DescribeAccountCommand, { AccountId: '888888888888' }).resolves({ Account: { Id: '888888888888', Status: 'SUSPENDED' } });
    const dir = directory();
    expect(await dir.describeAccount('999999999999')).toBeUndefined();
    expect(await dir.describeAccount('888888888888')).toBeUndefined();
  });

  it('lists active accounts across pages, sharing OU lookups', async () => {
    orgs
      .on(ListAccountsCommand)
      .resolvesOnce({ Accounts: [{ Id: '111111111111', Name: 'a', Status: 'ACTIVE' }], NextToken: 'x' })
      .resolvesOnce({ Accounts: [{ Id: '222222222222', Name: 'b', Status: 'ACTIVE' }, { Id: '333333333333', Name: 'gone', Status: 'SUSPENDED' }] });
    orgs.on(ListParentsCommand, { ChildId: '111111111111' }).resolves({ Parents: [{ Id: 'ou-x-11111111', Type: 'ORGANIZATIONAL_UNIT' }] });
    orgs.on(ListParentsCommand, { ChildId: '222222222222' }).resolves({ Parents: [{ Id: 'ou-x-11111111', Type: 'ORGANIZATIONAL_UNIT' }] });
    orgs.on(ListParentsCommand, { ChildId: 'ou-x-11111111' }).resolves({ Parents: [{ Id: 'r-x', Type: 'ROOT' }] });
    orgs.on(ListTagsForResourceCommand).resolves({ Tags: [] });
    const accounts = await directory().listAccounts();
    expect(accounts.map((a) => [a.id, a.ouPath])).toEqual([
      ['111111111111', ['ou-x-11111111']],
      ['222222222222', ['ou-x-11111111']],
    ]);
    expect(orgs).toHaveReceivedCommandWith(ListParentsCommand, { ChildId: 'ou-x-11111111' });
    expect(orgs.commandCalls(ListParentsCommand, { ChildId: 'ou-x-11111111' })).toHaveLength(1);
  });

  it('knows the management account, or none outside an organization', async () => {
    orgs.on(DescribeOrganizationCommand).resolvesOnce({ Organization: { MasterAccountId: '111111111111' } });
    expect(await directory().managementAccountId()).toBe('111111111111');
    orgs.on(DescribeOrganizationCommand).rejects(new AWSOrganizationsNotInUseException({ message: 'no org', ...meta }));
    expect(await directory().managementAccountId()).toBeUndefined();
  });
});

describe('IdentityCenterWriter', () => {
  const writer = () => new IdentityCenterWriter({ clients: clients(), instanceArn: INSTANCE, identityStoreId: STORE, sleep: noSleep });
  const ref = { principalId: 'u-1', accountId: '444444444444', permissionSetArn: 'ps-a' };

  it('assignmentExists filters ListAccountAssignments by principal across pages', async () => {
    sso
      .on(ListAccountAssignmentsCommand)
      .resolvesOnce({ AccountAssignments: [{ PrincipalId: 'u-2', PrincipalType: 'USER' }], NextToken: 'n' })
      .resolvesOnce({ AccountAssignments: [{ PrincipalId: 'u-1', PrincipalType: 'USER' }] });
    expect(await writer().assignmentExists('u-1', '444444444444', 'ps-a')).toBe(true);
    expect(sso).toHaveReceivedCommandWith(ListAccountAssignmentsCommand, { InstanceArn: INSTANCE, AccountId: '444444444444', PermissionSetArn: 'ps-a' });
    sso.on(ListAccountAssignmentsCommand).resolves({ AccountAssignments: [{ PrincipalId: 'u-1', PrincipalType: 'GROUP' }] });
    expect(await writer().assignmentExists('u-1', '444444444444', 'ps-a')).toBe(false);
  });

  it('delete of a missing assignment is undefined (already gone)', async () => {
    sso.on(DeleteAccountAssignmentCommand).rejects(new SsoNotFound({ message: 'nope', ...meta }));
    expect(await writer().deleteAssignment(ref)).toBeUndefined();
  });

  it('waits for a terminal status with backoff', async () => {
    sso
      .on(DescribeAccountAssignmentCreationStatusCommand)
      .resolvesOnce({ AccountAssignmentCreationStatus: { RequestId: 'r-1', Status: 'IN_PROGRESS' } })
      .resolvesOnce({ AccountAssignmentCreationStatus: { RequestId: 'r-1', Status: 'IN_PROGRESS' } })
      .resolves({ AccountAssignmentCreationStatus: { RequestId: 'r-1', Status: 'FAILED', FailureReason: 'quota' } });
    expect(await writer().waitForAssignment('create', 'r-1')).toEqual({ requestId: 'r-1', status: 'FAILED', failureReason: 'quota' });
    expect(sso).toHaveReceivedCommandTimes(DescribeAccountAssignmentCreationStatusCommand, 3);
  });

  it('membershipId is undefined on ResourceNotFound', async () => {
    ids.on(GetGroupMembershipIdCommand).rejects(new IdsNotFound({ message: 'nope', ...meta }));
    expect(await writer().membershipId('g-1', 'u-1')).toBeUndefined();
  });
});

describe('assume role and retries', () => {
  it('assumes the role with the external id once and reuses the credentials until near expiry', async () => {
    const sts = mockClient(STSClient);
    let t = 0;
    sts.on(AssumeRoleCommand).resolves({
      Credentials: { AccessKeyId: 'AK', SecretAccessKey: 'SK', SessionToken: 'ST', Expiration: new Date(3_600_000) },
      ...meta,
    });
    const provider = assumeRoleCredentials({ roleArn: 'arn:aws:iam::111111111111:role/jit', externalId: 'ext-1' }, { sts: new STSClient({ region: 'us-east-1' }), now: () => t });
    const [a, b] = await Promise.all([provider(), provider()]);
    expect(a).toEqual({ accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: 'ST', expiration: new Date(3_600_000) });
    expect(b).toBe(a);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, { RoleArn: 'arn:aws:iam::111111111111:role/jit', ExternalId: 'ext-1' });
    t = 3_600_000 - 60_000; // inside the refresh margin
    await provider();
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
    sts.restore();
  });

  it('withAwsRetry retries conflicts with full-jitter backoff and gives up on other errors', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await withAwsRetry(
      async () => {
        calls++;
        if (calls < 3) throw Object.assign(new Error('race'), { name: 'ConflictException' });
        return 'done';
      },
      { sleep: async (ms) => void waits.push(ms), random: () => 0.999 },
    );
    expect(result).toBe('done');
    expect(waits).toEqual([199, 399]);
    await expect(withAwsRetry(async () => Promise.reject(Object.assign(new Error('bad'), { name: 'ValidationException' })), { sleep: noSleep })).rejects.toThrow('bad');
    expect(isRetryableAwsError({ name: 'Whatever', $metadata: { httpStatusCode: 503 } })).toBe(true);
    expect(backoffDelay(20, { random: () => 0.999999 })).toBeLessThan(5000);
  });
});
