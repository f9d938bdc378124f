/**
 * The two Lambda entry points wired to the SDK (aws-sdk-client-mock): what they Query,
 * which executions they start under which names, what they list, and what they return.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeleteGroupMembershipCommand, DescribeGroupCommand, GetGroupIdCommand, IdentitystoreClient, ListGroupMembershipsCommand, ListGroupsCommand, ListUsersCommand } from '@aws-sdk/client-identitystore';
import { ExecutionAlreadyExists, ListExecutionsCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { grantKey } from '../../lib/table/keys.ts';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, beforeAll, describe, expect, it } from 'vitest';
import type { ReconcileReport } from '../../lib/backstops/reconciler.ts';
import type { SweepReport } from '../../lib/backstops/sweeper.ts';
import type { Grant } from '../../lib/domain/grant.ts';
import { setRuntime } from '../../lib/composition/runtime.ts';
import { setTestAwsEnv } from '../support/aws-env.ts';

const REVOKE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:identity-center-jit-test-revoke';
const GROUP_ID = '90676d6a-0000-4000-8000-00000000b001';
const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
const identityStore = mockClient(IdentitystoreClient);
const ssoAdmin = mockClient(SSOAdminClient);
const context = { getRemainingTimeInMillis: () => 100_000 };

type Handler<R> = (event: unknown, ctx?: typeof context) => Promise<R>;
let sweepGrants: Handler<SweepReport>;
let reconcileAccess: Handler<ReconcileReport>;

beforeAll(async () => {
  setTestAwsEnv();
  const dir = mkdtempSync(path.join(tmpdir(), 'backstop-handlers-'));
  const policy = path.join(dir, 'policy.yaml');
  writeFileSync(
    policy,
    ['version: 1', 'rules:', '  - id: break-glass', '    requesters: { groups: [Developers] }', '    targets: { groups: [BreakGlass] }', '    approval: { approvers: { groups: [SecurityApprovers] } }', ''].join('\n'),
  );
  Object.assign(process.env, {
    GRANTS_TABLE: 'grants-test',
    POLICY_PATH: policy,
    REVOKE_STATE_MACHINE_ARN: REVOKE_ARN,
    GRANT_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:identity-center-jit-test-grant',
    IDC_INSTANCE_ARN: 'arn:aws:sso:::instance/ssoins-7223d1e2f3a4b5c6',
    IDENTITY_STORE_ID: 'd-9067c0ffee',
  });
  setRuntime(undefined);
  sweepGrants = ((await import('../../functions/sweepGrants.ts')) as { handler: Handler<SweepReport> }).handler;
  reconcileAccess = ((await import('../../functions/reconcileAccess.ts')) as { handler: Handler<ReconcileReport> }).handler;
});

beforeEach(() => {
  // No workflow is running: every overdue grant is the sweeper's to handle; every slot is free.
  sfn.on(ListExecutionsCommand).resolves({ executions: [] });
  ddb.on(BatchGetCommand).resolves({ Responses: {} });
});

afterEach(() => {
  ddb.reset();
  sfn.reset();
  identityStore.reset();
  ssoAdmin.reset();
});

function grantItem(overrides: Partial<Grant>): Grant {
  const at = new Date(Date.now() - 3600_000).toISOString();
  return {
    id: '01JTESTGRANT0000000000000A',
    principal: { userId: 'u-1', userName: 'bob', email: 'bob@example.com' },
    target: { type: 'account', accountId: '444444444444', permissionSet: 'ReadOnlyAccess', permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-7223d1e2f3a4b5c6/ps-0123456789abcdef' },
    justification: 'test',
    ruleId: 'break-glass',
    requestedAt: at,
    duration: 'PT30M',
    status: 'ACTIVE',
    quorum: 0,
    approvals: [],
    history: [{ at, actor: { id: 'system:workflow', name: 'grant workflow' }, action: 'activated', from: 'ACTIVATING', to: 'ACTIVE' }],
    version: 4,
    activatedAt: at,
    expiresAt: new Date(Date.now() - 10 * 60_000).toISOString(),
    ...overrides,
  };
}

/** Answers Queries by partition (`:pk`), one page each. */
/** Query answers per partition, as the table holds them: each grant under its key. */
function queryByPartition(pages: Record<string, Grant[]>) {
  const asItem = (grant: Grant) => ({ ...grant, ...grantKey(grant.id) });
  ddb.on(QueryCommand).callsFake((input: QueryCommandInput) => ({ Items: (pages[String(input.ExpressionAttributeValues?.[':pk'])] ?? []).map(asItem) }));
}

describe('functions/sweepGrants', () => {
  it('Queries the by-status index (never scans) and starts the revoke under the window name with the sweep input', async () => {
    const grant = grantItem({});
    queryByPartition({ 'STATUS#ACTIVE': [grant] });
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${REVOKE_ARN}:x`, startDate: new Date() });

    const report = await sweepGrants({}, context);

    const all = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);
    // The slots' line of waiters and the pending session cuts are partitions of the table, read by key;
    // grants, and the session cut entries due for lift, by the byStatus index.
    const byKey = all.filter((q) => ['SLOT#WAITERS', 'SESSIONS#PENDING'].includes(String(q.ExpressionAttributeValues?.[':pk'])));
    expect(byKey.length).toBeGreaterThan(1);
    expect(byKey.every((q) => q.IndexName === undefined && q.KeyConditionExpression === 'pk = :pk')).toBe(true);
    const queries = all.filter((q) => !byKey.includes(q));
    expect(queries.every((q) => q.IndexName === 'byStatus')).toBe(true);
    expect(queries.map((q) => q.ExpressionAttributeValues?.[':pk'])).toEqual(['STATUS#ACTIVE', 'STATUS#REVOKING', 'STATUS#PENDING_APPROVAL', 'STATUS#APPROVED', 'STATUS#SCHEDULED', 'STATUS#ACTIVATING', 'SESSIONLIFT']);
    expect(queries[0]?.KeyConditionExpression).toBe('gsi2pk = :pk AND gsi2sk < :before');
    const starts = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
    expect(starts).toHaveLength(1);
    expect(starts[0]?.stateMachineArn).toBe(REVOKE_ARN);
    expect(starts[0]?.name).toMatch(new RegExp(`^revoke-${grant.id}-sweep-\\d{10}$`));
    expect(starts[0]?.name!.length).toBeLessThanOrEqual(80);
    // It begins at once: beginAt is an instant long past, the same on every try.
    expect(JSON.parse(starts[0]!.input!)).toEqual({ grantId: grant.id, expiresAt: grant.expiresAt, mode: 'sweep', beginAt: '1970-01-01T00:00:00.000Z' });
    expect(report.complete).toBe(true);
    expect(report.counts['revoke-started']).toBe(1);
  });

  it('counts a name already used in this window (ExecutionAlreadyExists) without failing the run', async () => {
    queryByPartition({ 'STATUS#ACTIVE': [grantItem({})] });
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    const report = await sweepGrants({}, context);
    expect(report.counts['revoke-already-attempted']).toBe(1);
    expect(report.counts.error).toBe(0);
  });

  it('stops taking work when the Lambda is about to time out', async () => {
    queryByPartition({ 'STATUS#ACTIVE': [grantItem({})] });
    const report = await sweepGrants({}, { getRemainingTimeInMillis: () => 5_000 });
    expect(report.complete).toBe(false);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});

describe('functions/reconcileAccess', () => {
  it('lists every page of the covered group, reports access no grant created and removes nothing (removeUnmanaged false)', async () => {
    queryByPartition({ HOLDER: [], 'STATUS#ACTIVE': [] });
    ddb.on(GetCommand).resolves({});
    identityStore.on(GetGroupIdCommand).resolves({ GroupId: GROUP_ID, IdentityStoreId: 'd-9067c0ffee' });
    // The pass counts principals to choose how to list; with no account target, per account (nothing to list but the group) wins.
    identityStore.on(ListUsersCommand).resolves({ Users: [{ IdentityStoreId: 'd-9067c0ffee', UserId: 'u-1', UserName: 'u1' }] });
    identityStore.on(ListGroupsCommand).resolves({ Groups: [{ IdentityStoreId: 'd-9067c0ffee', GroupId: GROUP_ID, DisplayName: 'G' }] });
    identityStore.on(DescribeGroupCommand).resolves({ IdentityStoreId: 'd-9067c0ffee', GroupId: GROUP_ID, DisplayName: 'G' });
    identityStore
      .on(ListGroupMembershipsCommand, { NextToken: undefined })
      .resolves({ GroupMemberships: [{ IdentityStoreId: 'd-9067c0ffee', MembershipId: 'm-1', GroupId: GROUP_ID, MemberId: { UserId: 'u-1' } }], NextToken: 'page-2' })
      .on(ListGroupMembershipsCommand, { NextToken: 'page-2' })
      .resolves({ GroupMemberships: [{ IdentityStoreId: 'd-9067c0ffee', MembershipId: 'm-2', GroupId: GROUP_ID, MemberId: { UserId: 'u-2' } }] });

    const report = await reconcileAccess({}, context);

    const lists = identityStore.commandCalls(ListGroupMembershipsCommand).map((c) => c.args[0].input);
    expect(lists).toEqual([
      { IdentityStoreId: 'd-9067c0ffee', GroupId: GROUP_ID, MaxResults: 100 },
      { IdentityStoreId: 'd-9067c0ffee', GroupId: GROUP_ID, MaxResults: 100, NextToken: 'page-2' },
    ]);
    expect(report.complete).toBe(true);
    expect(report.removeUnmanaged).toBe(false);
    expect(report.counts).toMatchObject({ targets: 1, targetsListed: 1, accessSeen: 2, unmanaged: 2, 'unmanaged-removed': 0 });
    expect(report.items.map((i) => [i.kind, i.key])).toEqual([
      ['unmanaged', `group#${GROUP_ID}#u-1`],
      ['unmanaged', `group#${GROUP_ID}#u-2`],
    ]);
    expect(identityStore.commandCalls(DeleteGroupMembershipCommand)).toHaveLength(0);
    expect(report.pass).toMatchObject({ strategy: 'per-account', finished: true, unitsDone: 1, unitsTotal: 1 });
    // What the pass saw went to the inventory, and the finished pass was recorded.
    const puts = ddb.commandCalls(PutCommand).map((c) => c.args[0].input.Item as Record<string, unknown>);
    expect(puts.filter((i) => String(i.pk).startsWith('INVENTORY#GROUP#')).map((i) => i.userId)).toEqual(['u-1', 'u-2']);
    expect(puts.filter((i) => i.pk === 'RECONCILE#PASSES')).toEqual([expect.objectContaining({ passId: report.pass.passId, runs: 1 })]);
  });
});
