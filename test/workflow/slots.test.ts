/**
 * The slot semaphore as the state machines run it (AcquireCreateSlot / AcquireDeleteSlot:
 * one conditional UpdateItem on a random slot per attempt, retried with backoff; released
 * by a conditional UpdateItem as soon as Identity Center's status is terminal), on the
 * local cloud with the real ASL files.
 */
import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SLOT_COUNT } from '../../lib/table/keys.ts';
import { assignmentKey } from '../../lib/domain/grant.ts';
import { logger } from '../../lib/logger.ts';
import { completeActivation } from '../../lib/workflow/activation.ts';
import { workflowDeps } from '../../lib/composition/workflow.ts';
import { startWorkflowCloud, type WorkflowCloud } from './support/cloud.ts';

let cloud: WorkflowCloud;
beforeAll(async () => {
  // Retry pauses shortened: a random pick needs ~10 attempts to find the one free slot.
  cloud = await startWorkflowCloud({ retryIntervalMs: 20 });
}, 30_000);
afterAll(async () => {
  await cloud?.stop();
});

const table = () => cloud.runtime.config.GRANTS_TABLE;
const slotKey = (i: number) => ({ pk: { S: `SLOT#${i}` }, sk: { S: 'SLOT' } });
async function leaseAll(owner: (i: number) => string, leaseExpiresAt: string): Promise<void> {
  for (let i = 0; i < SLOT_COUNT; i++) {
    await cloud.runtime.clients.dynamodb.send(new PutItemCommand({ TableName: table(), Item: { ...slotKey(i), owner: { S: owner(i) }, leaseExpiresAt: { S: leaseExpiresAt } } }));
  }
}
async function freeAll(): Promise<void> {
  for (let i = 0; i < SLOT_COUNT; i++) await cloud.runtime.clients.dynamodb.send(new DeleteItemCommand({ TableName: table(), Key: slotKey(i) }));
}
/** Slot acquisitions refused so far in the grant's executions (running ones included). */
function refusedSlotAttempts(grantId: string): number {
  return cloud
    .executionsOf(grantId)
    .flatMap((e) => e.history)
    .filter((h) => h.type === 'TaskFailed' && h.details?.value.resource === 'updateItem' && h.details.value.error === 'DynamoDb.ConditionalCheckFailedException').length;
}
const hasAssignment = (userName: string, account: string, ps: string) =>
  cloud.idc.assignments().some((a) => a.principalId === cloud.idc.userId(userName) && a.accountId === account && a.permissionSetArn === cloud.idc.permissionSetArn(ps));

describe('slot leases in the state machines', () => {
  afterEach(freeAll);

  it('every slot leased by others: neither the pre-existence check nor the create is issued; one slot freed → the grant takes it, checks, activates and gives it back', async () => {
    const checks = () => cloud.idc.stats().calls.ListAccountAssignments ?? 0;
    const checksBefore = checks();
    await leaseAll((i) => `activate#other-${i}`, new Date(Date.now() + 3_600_000).toISOString());
    const grant = await cloud.approvedGrant('alice', { account: '333333333333', permissionSet: 'ReadOnlyAccess' }, 'PT1H');
    await cloud.runtime.workflows.startGrant(grant);
    // Wait until the execution has been refused a slot several times (random slots, all taken).
    for (let waited = 0; refusedSlotAttempts(grant.id) < 3; waited++) {
      expect(waited, 'AcquireCreateSlot retried').toBeLessThan(200);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await cloud.runtime.store.get(grant.id))?.status).toBe('ACTIVATING');
    expect(cloud.idc.operations().filter((o) => o.principalId === grant.principal.userId && o.kind === 'CREATE')).toEqual([]);
    // The check waits for a slot too, so a storm of grants cannot flood the shared 20 TPS with checks.
    expect(checks()).toBe(checksBefore);
    expect(await cloud.runtime.store.getHolder(assignmentKey(grant.principal, grant.target))).toBeUndefined();

    await cloud.runtime.clients.dynamodb.send(new DeleteItemCommand({ TableName: table(), Key: slotKey(7) }));
    const active = await cloud.waitForStatus(grant.id, ['ACTIVE', 'FAILED']);
    expect(active.status, active.failureReason).toBe('ACTIVE');
    expect(checks()).toBe(checksBefore + 1);
    expect(hasAssignment('alice', '333333333333', 'ReadOnlyAccess')).toBe(true);
    // Given back as soon as the creation SUCCEEDED; nobody else's lease was touched.
    expect((await cloud.slotOwners()).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 8, 9].map((i) => `activate#other-${i}`).sort());
  }, 30_000);

  it('a check that fails on its slot gives the slot back: the grant FAILS with the reason, no slot stays leased', async () => {
    const knobs = cloud.idc.knobs();
    cloud.idc.setKnobs({ faults: [{ operations: ['ListAccountAssignments'], accountId: '555555555555', effect: { type: 'error', code: 'AccessDeniedException' } }] });
    const logged = vi.spyOn(logger, 'error');
    try {
      const grant = await cloud.approvedGrant('alice', { account: '555555555555', permissionSet: 'ReadOnlyAccess' }, 'PT1H');
      await cloud.runtime.workflows.startGrant(grant);
      const failed = await cloud.waitForStatus(grant.id, ['ACTIVE', 'FAILED']);
      expect(failed.status).toBe('FAILED');
      // The Lambda task's error (its errorType/errorMessage JSON with a stack) became one sentence;
      // the history keeps the error's name and message only.
      expect(failed.failureReason).toBe("AWS denied this deployment access while it was setting up yours; ask the platform team to check the deployment's permissions, then request again");
      const entry = failed.history.at(-1)!;
      expect(entry.detail).toContain('AccessDeniedException: ');
      for (const text of [failed.failureReason!, entry.detail!]) expect(text).not.toMatch(/trace|errorType|[{}]|\bat .*\(|\/[\w.-]+\/[\w.-]+\.(m?js|ts)\b|file:\/\//);
      // The raw error, stack included, is in the logs with the grant id.
      expect(logged).toHaveBeenCalledWith('activation failed', expect.objectContaining({ grantId: grant.id, error: 'AccessDeniedException', cause: expect.stringContaining('"trace"') }));
      await cloud.sfn.idle();
      expect(await cloud.slotOwners()).toEqual([]);
    } finally {
      logged.mockRestore();
      cloud.idc.setKnobs({ faults: knobs.faults });
    }
  }, 30_000);

  it('a slot left by a PrepareActivation that died on it (Lambda timeout) is given back when the grant fails', async () => {
    const grant = await cloud.approvedGrant('bob', { account: '555555555555', permissionSet: 'ReadOnlyAccess' }, 'PT1H');
    // As a timed-out task leaves it: the grant's own lease on slot 4; the activation then fails.
    await cloud.runtime.clients.dynamodb.send(
      new PutItemCommand({ TableName: table(), Item: { ...slotKey(4), owner: { S: `activate#${grant.id}` }, leaseExpiresAt: { S: new Date(Date.now() + 3_600_000).toISOString() } } }),
    );
    const result = await completeActivation(workflowDeps(cloud.runtime), { grantId: grant.id, result: { outcome: 'ERROR', error: 'States.Timeout', cause: 'Task timed out' } });
    expect(result.status).toBe('FAILED');
    expect(await cloud.slotOwners()).toEqual([]);
  }, 30_000);

  it('lapsed leases (crashed executions) are taken over', async () => {
    await leaseAll((i) => `revoke#crashed-${i}`, new Date(Date.now() - 1000).toISOString());
    const grant = await cloud.approvedGrant('bob', { account: '333333333333', permissionSet: 'ReadOnlyAccess' }, 'PT1H');
    await cloud.runtime.workflows.startGrant(grant);
    expect(await cloud.waitForStatus(grant.id, ['ACTIVE', 'FAILED'])).toMatchObject({ status: 'ACTIVE' });
    // The taken-over slot was released after the create; the other nine still carry their lapsed leases.
    expect(await cloud.slotOwners()).toHaveLength(SLOT_COUNT - 1);
  }, 30_000);

  it('revocation with a slot free: BeginRevocation leases it at once, the delete goes out, the slot comes back', async () => {
    const grant = await cloud.approvedGrant('carol', { account: '333333333333', permissionSet: 'ReadOnlyAccess' }, 'PT2S');
    await cloud.runtime.workflows.startGrant(grant);
    expect(await cloud.waitForStatus(grant.id, ['ACTIVE', 'FAILED'])).toMatchObject({ status: 'ACTIVE' });
    expect(await cloud.waitForStatus(grant.id, ['EXPIRED', 'REVOKED', 'FAILED'])).toMatchObject({ status: 'EXPIRED' });
    await cloud.sfn.idle();
    expect(hasAssignment('carol', '333333333333', 'ReadOnlyAccess')).toBe(false);
    const revoke = cloud.executionsOf(grant.id).find((e) => e.name.startsWith('revoke-'));
    const entered = revoke!.history.filter((h) => h.type.endsWith('StateEntered')).map((h) => (h.details?.value as { name?: string }).name);
    expect(entered).toEqual(expect.arrayContaining(['DeleteAssignment', 'ReleaseSlot']));
    expect(entered).not.toContain('AcquireDeleteSlot'); // no wait at expiry when a slot is free
    expect(await cloud.slotOwners()).toEqual([]);
  }, 30_000);

  it('revocation with every slot leased by others: AcquireDeleteSlot waits, then deletes on the freed slot and gives it back', async () => {
    const grant = await cloud.approvedGrant('dave', { account: '444444444444', permissionSet: 'ReadOnlyAccess' }, 'PT1H');
    await cloud.runtime.workflows.startGrant(grant);
    const active = await cloud.waitForStatus(grant.id, ['ACTIVE', 'FAILED']);
    expect(active.status).toBe('ACTIVE');
    await leaseAll((i) => `activate#other-${i}`, new Date(Date.now() + 3_600_000).toISOString());
    await cloud.runtime.workflows.startRevoke(active, 'early');
    for (let waited = 0; refusedSlotAttempts(grant.id) < 3; waited++) {
      expect(waited, 'AcquireDeleteSlot retried').toBeLessThan(200);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(hasAssignment('dave', '444444444444', 'ReadOnlyAccess')).toBe(true); // no delete without a slot

    await cloud.runtime.clients.dynamodb.send(new DeleteItemCommand({ TableName: table(), Key: slotKey(2) }));
    expect(await cloud.waitForStatus(grant.id, ['REVOKED', 'EXPIRED'])).toMatchObject({ status: 'REVOKED' });
    await cloud.sfn.idle();
    expect(hasAssignment('dave', '444444444444', 'ReadOnlyAccess')).toBe(false);
    expect((await cloud.slotOwners()).sort()).toEqual([0, 1, 3, 4, 5, 6, 7, 8, 9].map((i) => `activate#other-${i}`).sort());
  }, 30_000);
});
