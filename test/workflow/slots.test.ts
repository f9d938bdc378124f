/**
 * The slots as the workflows use them, on the local cloud with the real ASL files: a grant
 * or revocation that finds every slot busy joins the line and waits (WaitForSlot /
 * WaitForDeleteSlot, a callback task: no retries, no polling) until whoever gives a slot
 * back hands it over and wakes it; revocations are served first; a wake-up lost with a
 * crashed releaser is sent by the sweeper's repair.
 */
import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SLOT_COUNT, SLOTS_RESERVED_FOR_REVOCATIONS } from '../../lib/table/keys.ts';
import { assignmentKey, type Grant } from '../../lib/domain/grant.ts';
import { logger } from '../../lib/logger.ts';
import { DynamoCreateSlots } from '../../lib/adapters/dynamo-slots.ts';
import { StepFunctionsSlotWaker } from '../../lib/adapters/slot-waker.ts';
import { completeActivation, planOnHandedSlot, SLOT_LEASE_MS } from '../../lib/workflow/activation.ts';
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
/** Every slot held by others: activations in all they may hold, revocations in the rest (their reserve). */
const others = (i: number) => (i < SLOT_COUNT - SLOTS_RESERVED_FOR_REVOCATIONS ? `activate#other-${i}` : `revoke#other-${i}`);
async function leaseAll(owner: (i: number) => string, leaseExpiresAt: string): Promise<void> {
  for (let i = 0; i < SLOT_COUNT; i++) {
    await cloud.runtime.clients.dynamodb.send(new PutItemCommand({ TableName: table(), Item: { ...slotKey(i), owner: { S: owner(i) }, leaseExpiresAt: { S: leaseExpiresAt } } }));
  }
}
async function freeAll(): Promise<void> {
  for (let i = 0; i < SLOT_COUNT; i++) await cloud.runtime.clients.dynamodb.send(new DeleteItemCommand({ TableName: table(), Key: slotKey(i) }));
}
/** Whether the grant's running execution has entered `state` and sits in it. */
function waitingIn(grantId: string, state: string): boolean {
  return cloud.executionsOf(grantId).some((e) => {
    if (e.status !== 'RUNNING') return false;
    const entered = e.history.filter((h) => h.type.endsWith('StateEntered'));
    return (entered.at(-1)?.details?.value as { name?: string } | undefined)?.name === state;
  });
}
async function untilWaiting(grantId: string, state: string): Promise<void> {
  for (let waited = 0; !waitingIn(grantId, state); waited++) {
    expect(waited, `${state} reached`).toBeLessThan(200);
    await new Promise((r) => setTimeout(r, 50));
  }
}
/** Every slot leased by others for an hour, then a grant started: it waits in WaitForSlot. */
async function grantWaitingForSlot(userName: string, target: { account: string; permissionSet: string }, duration = 'PT1H'): Promise<Grant> {
  await leaseAll(others, new Date(Date.now() + 3_600_000).toISOString());
  const grant = await cloud.approvedGrant(userName, target, duration);
  await cloud.runtime.workflows.startGrant(grant);
  await untilWaiting(grant.id, 'WaitForSlot');
  return grant;
}
const historyLength = (grantId: string) => cloud.executionsOf(grantId).reduce((n, e) => n + e.history.length, 0);
/** What a holder does when its operation is done: gives its slot back, which hands it to the first waiter. */
const giveBack = (slot: number, owner: string) => workflowDeps(cloud.runtime).slots.release({ slot, owner });
const hasAssignment = (userName: string, account: string, ps: string) =>
  cloud.idc.assignments().some((a) => a.principalId === cloud.idc.userId(userName) && a.accountId === account && a.permissionSetArn === cloud.idc.permissionSetArn(ps));

describe('slot leases in the state machines', () => {
  afterEach(freeAll);

  it('every slot leased by others: the grant waits in the line at no cost, neither check nor create issued; a slot given back is handed to it → it checks, activates and gives it back', async () => {
    const checks = () => cloud.idc.stats().calls.ListAccountAssignments ?? 0;
    const checksBefore = checks();
    const grant = await grantWaitingForSlot('alice', { account: '333333333333', permissionSet: 'ReadOnlyAccess' });
    // Waiting costs nothing: no attempts, no state transitions while it waits.
    const before = historyLength(grant.id);
    await new Promise((r) => setTimeout(r, 500));
    expect(historyLength(grant.id)).toBe(before);
    expect((await cloud.runtime.store.get(grant.id))?.status).toBe('ACTIVATING');
    expect(cloud.idc.operations().filter((o) => o.principalId === grant.principal.userId && o.kind === 'CREATE')).toEqual([]);
    // The check waits for a slot too, so a storm of grants cannot flood the shared 20 TPS with checks.
    expect(checks()).toBe(checksBefore);
    expect(await cloud.runtime.store.getHolder(assignmentKey(grant.principal, grant.target))).toBeUndefined();

    await giveBack(7, 'activate#other-7');
    const active = await cloud.waitForStatus(grant.id, ['ACTIVE', 'FAILED']);
    expect(active.status, active.failureReason).toBe('ACTIVE');
    expect(checks()).toBe(checksBefore + 1);
    expect(hasAssignment('alice', '333333333333', 'ReadOnlyAccess')).toBe(true);
    // Woken with its plan on the slot (the check made by whoever handed the slot over): its prepare task ran once, no fourth Lambda.
    const execution = cloud.executionsOf(grant.id).find((e) => e.name.startsWith('grant-'))!;
    const entered = execution.history.filter((h) => h.type.endsWith('StateEntered')).map((h) => (h.details?.value as { name?: string }).name);
    expect(entered.filter((name) => name === 'PrepareActivation')).toHaveLength(1);
    expect(entered.slice(0, 5)).toEqual(['PrepareActivation', 'RouteActivation', 'WaitForSlot', 'RouteActivation', 'CreateAssignment']);
    // Given back as soon as the creation SUCCEEDED; nobody else's lease was touched.
    expect((await cloud.slotOwners()).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 8, 9].map(others).sort());
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

  /** The states the grant's revoke execution entered, once it has ended with the grant EXPIRED. */
  async function revokeStatesOfShortGrant(userName: string, account: string): Promise<string[]> {
    const grant = await cloud.approvedGrant(userName, { account, permissionSet: 'ReadOnlyAccess' }, 'PT2S');
    await cloud.runtime.workflows.startGrant(grant);
    expect(await cloud.waitForStatus(grant.id, ['ACTIVE', 'FAILED'])).toMatchObject({ status: 'ACTIVE' });
    expect(await cloud.waitForStatus(grant.id, ['EXPIRED', 'REVOKED', 'FAILED'])).toMatchObject({ status: 'EXPIRED' });
    await cloud.sfn.idle();
    expect(hasAssignment(userName, account, 'ReadOnlyAccess')).toBe(false);
    expect(await cloud.slotOwners()).toEqual([]);
    const revoke = cloud.executionsOf(grant.id).find((e) => e.name.startsWith('revoke-'));
    return revoke!.history.filter((h) => h.type.endsWith('StateEntered')).map((h) => (h.details?.value as { name?: string }).name ?? '');
  }

  it('revocation with a slot free: BeginRevocation leases it and starts the delete itself; the state machine checks it and gives the slot back', async () => {
    const deletesBefore = cloud.idc.stats().calls.DeleteAccountAssignment ?? 0;
    const entered = await revokeStatesOfShortGrant('carol', '333333333333');
    expect(entered).toEqual(expect.arrayContaining(['BeginRevocation', 'CheckDeletion', 'ReleaseSlot']));
    expect(entered).not.toContain('DeleteAssignment'); // no hand-off between the task and the delete
    expect(entered).not.toContain('WaitForDeleteSlot'); // no wait at expiry when a slot is free
    expect((cloud.idc.stats().calls.DeleteAccountAssignment ?? 0) - deletesBefore).toBe(1);
  }, 30_000);

  it('a throttled delete is tried again from BeginRevocation at short pauses; one it cannot start goes out from DeleteAssignment', async () => {
    cloud.idc.setKnobs({ faults: [{ operations: ['DeleteAccountAssignment'], times: 2, effect: { type: 'error', code: 'ThrottlingException' } }] });
    const throttled = await revokeStatesOfShortGrant('carol', '333333333333');
    expect(throttled).not.toContain('DeleteAssignment');
    // Refused for another reason (here access denied once): the task leaves the delete to the state machine, whose retry policy applies.
    cloud.idc.setKnobs({ faults: [{ operations: ['DeleteAccountAssignment'], times: 1, effect: { type: 'error', code: 'AccessDeniedException' } }] });
    const refused = await revokeStatesOfShortGrant('carol', '333333333333');
    expect(refused).toEqual(expect.arrayContaining(['DeleteAssignment', 'CheckDeletion', 'ReleaseSlot']));
    cloud.idc.setKnobs({ faults: [] });
  }, 60_000);

  it('revocation with every slot leased by others: WaitForDeleteSlot waits, the slot given back goes to it ahead of an earlier activation, it deletes and gives the slot back', async () => {
    const grant = await cloud.approvedGrant('dave', { account: '444444444444', permissionSet: 'ReadOnlyAccess' }, 'PT1H');
    await cloud.runtime.workflows.startGrant(grant);
    const active = await cloud.waitForStatus(grant.id, ['ACTIVE', 'FAILED']);
    expect(active.status).toBe('ACTIVE');
    await leaseAll(others, new Date(Date.now() + 3_600_000).toISOString());
    // An activation joins the line first…
    const queuedFirst = await cloud.approvedGrant('carol', { account: '444444444444', permissionSet: 'ReadOnlyAccess' }, 'PT1H');
    await cloud.runtime.workflows.startGrant(queuedFirst);
    await untilWaiting(queuedFirst.id, 'WaitForSlot');
    // …then the revocation.
    await cloud.runtime.workflows.startRevoke(active, 'early');
    await untilWaiting(grant.id, 'WaitForDeleteSlot');
    expect(hasAssignment('dave', '444444444444', 'ReadOnlyAccess')).toBe(true); // no delete without a slot

    await giveBack(2, 'activate#other-2');
    expect(await cloud.waitForStatus(grant.id, ['REVOKED', 'EXPIRED'])).toMatchObject({ status: 'REVOKED' });
    // A revocation hands its slot only to another revocation; the activation is served by the next activation that gives one back.
    const revoke = cloud.executionsOf(grant.id).find((e) => e.name.startsWith('revoke-'))!;
    await cloud.sfn.waitForExecution(revoke.executionArn);
    expect(hasAssignment('dave', '444444444444', 'ReadOnlyAccess')).toBe(false);
    expect(waitingIn(queuedFirst.id, 'WaitForSlot')).toBe(true);
    await giveBack(3, 'activate#other-3');
    expect((await cloud.waitForStatus(queuedFirst.id, ['ACTIVE', 'FAILED'])).status).toBe('ACTIVE');
    await cloud.sfn.idle();
    expect((await cloud.slotOwners()).sort()).toEqual([0, 1, 4, 5, 6, 7, 8, 9].map(others).sort());
  }, 30_000);

  it('an expiry that comes while the grant still waits for a slot: the revoke waits for the activation, then removes the access at once', async () => {
    const grant = await grantWaitingForSlot('dave', { account: '333333333333', permissionSet: 'PowerUserAccess' }, 'PT2S');
    const activating = (await cloud.runtime.store.get(grant.id))!;
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(activating.expiresAt!) - Date.now()) + 500));
    // Past its expiry, still waiting: nothing was ever created.
    expect((await cloud.runtime.store.get(grant.id))?.status).toBe('ACTIVATING');
    expect(hasAssignment('dave', '333333333333', 'PowerUserAccess')).toBe(false);

    await giveBack(0, 'activate#other-0');
    const ended = await cloud.waitForStatus(grant.id, ['EXPIRED', 'FAILED']);
    expect(ended.status).toBe('EXPIRED');
    expect(ended.history.map((h) => h.to)).toEqual(expect.arrayContaining(['ACTIVE', 'REVOKING', 'EXPIRED']));
    await cloud.sfn.idle();
    expect(hasAssignment('dave', '333333333333', 'PowerUserAccess')).toBe(false);
    const revoke = cloud.executionsOf(grant.id).find((e) => e.name.startsWith('revoke-'))!;
    expect(revoke.history.some((h) => h.type === 'TaskFailed' && h.details?.value.error === 'ActivationInProgress')).toBe(true);
  }, 30_000);

  it('transient DynamoDB errors during admission (a quarter of the slot and line writes time out) fail nothing: every grant waits, is woken and becomes ACTIVE', async () => {
    cloud.dynamoFaults.set({ rate: 0.25, pkPrefix: 'SLOT#' });
    try {
      const grants = await Promise.all(
        ['ReadOnlyAccess', 'PowerUserAccess'].flatMap((permissionSet) =>
          ['alice', 'bob', 'carol', 'dave'].flatMap((user) => ['222222222222', '666666666666'].map((account) => cloud.approvedGrant(user, { account, permissionSet }, 'PT1H'))),
        ),
      );
      await Promise.all(grants.map((g) => cloud.runtime.workflows.startGrant(g)));
      const ended = await Promise.all(grants.map((g) => cloud.waitForStatus(g.id, ['ACTIVE', 'FAILED'], 90_000)));
      expect(ended.filter((g) => g.status !== 'ACTIVE').map((g) => g.failureReason)).toEqual([]);
      expect(cloud.dynamoFaults.injected).toBeGreaterThan(0);
    } finally {
      cloud.dynamoFaults.set(undefined);
    }
    await cloud.sfn.idle();
    // Every slot came back (a slot whose release was lost is the sweeper's to take back: none here).
    expect(await workflowDeps(cloud.runtime).slots.repair(() => false)).toMatchObject({ waiting: 0 });
  }, 120_000);

  it('a wake-up lost with its releaser (the slot freed, nobody woken) is sent by the sweeper\'s repair', async () => {
    const grant = await grantWaitingForSlot('bob', { account: '444444444444', permissionSet: 'PowerUserAccess' });
    // The releaser gave the slot back and crashed before it looked at the line.
    await cloud.runtime.clients.dynamodb.send(new DeleteItemCommand({ TableName: table(), Key: slotKey(4) }));
    await new Promise((r) => setTimeout(r, 300));
    expect(waitingIn(grant.id, 'WaitForSlot')).toBe(true);

    const report = await workflowDeps(cloud.runtime).slots.repair(() => true);
    expect(report).toMatchObject({ handedOver: 1, waiting: 0 });
    expect((await cloud.waitForStatus(grant.id, ['ACTIVE', 'FAILED'])).status).toBe('ACTIVE');
  }, 30_000);

  it('a wake-up that does not go out (SendTaskSuccess refused) loses nobody: the release succeeds, the slot stays handed over, and the sweeper\'s repair wakes the waiter', async () => {
    const grant = await grantWaitingForSlot('alice', { account: '444444444444', permissionSet: 'PowerUserAccess' });
    const deps = workflowDeps(cloud.runtime);
    const refused = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const releaser = new DynamoCreateSlots(cloud.runtime.clients.dynamodb, {
      tableName: table(),
      clock: cloud.runtime.clock,
      handOverLeaseMs: SLOT_LEASE_MS,
      waker: {
        wake: async () => {
          throw Object.assign(new Error('User is not authorized to perform: states:SendTaskSuccess'), { name: 'AccessDeniedException' });
        },
      },
      // The plan is made on the handed slot, as the deployed releasers do.
      wakeOutput: async (owner, slot) => (await planOnHandedSlot(deps, owner, slot)) ?? slot,
    });
    await releaser.release({ slot: 4, owner: others(4) });
    expect(refused).toHaveBeenCalledWith(expect.stringContaining('could not wake'), expect.objectContaining({ owner: `activate#${grant.id}` }));
    refused.mockRestore();
    await new Promise((r) => setTimeout(r, 300));
    expect(waitingIn(grant.id, 'WaitForSlot')).toBe(true);
    expect(await cloud.slotOwners()).toContain(`activate#${grant.id}`);

    // A repair sooner than the stall limit leaves it alone; once it is stalled, the repair wakes it.
    const repairAt = (ms: number) =>
      new DynamoCreateSlots(cloud.runtime.clients.dynamodb, { tableName: table(), clock: { now: () => new Date(Date.now() + ms) }, waker: new StepFunctionsSlotWaker(cloud.runtime.clients.sfn) }).repair(() => true);
    expect(await repairAt(0)).toMatchObject({ woken: 0, reclaimed: 0 });
    expect(waitingIn(grant.id, 'WaitForSlot')).toBe(true);
    expect(await repairAt(31_000)).toMatchObject({ woken: 1, reclaimed: 0 });
    const active = await cloud.waitForStatus(grant.id, ['ACTIVE', 'FAILED']);
    expect(active.status, active.failureReason).toBe('ACTIVE');
    await cloud.sfn.idle();
    expect(await cloud.slotOwners()).not.toContain(`activate#${grant.id}`);
  }, 30_000);

  it('a repair that read the line just before a releaser claimed a waiter leaves that waiter to its releaser: no second wake-up, the slot is not taken back from it', async () => {
    const grant = await grantWaitingForSlot('dave', { account: '444444444444', permissionSet: 'PowerUserAccess' });
    const deps = workflowDeps(cloud.runtime);
    const waker = new StepFunctionsSlotWaker(cloud.runtime.clients.sfn);
    // The releaser has claimed the waiter and given it slot 4; its wake-up is held until the repair is done.
    let handedOver!: () => void;
    const given = new Promise<void>((r) => (handedOver = r));
    let letWakeGo!: () => void;
    const wakeMayGo = new Promise<void>((r) => (letWakeGo = r));
    const wakeAnswers: string[] = [];
    const releaser = new DynamoCreateSlots(cloud.runtime.clients.dynamodb, {
      tableName: table(),
      clock: cloud.runtime.clock,
      handOverLeaseMs: SLOT_LEASE_MS,
      waker: {
        wake: async (token, output) => {
          handedOver();
          await wakeMayGo;
          const answer = await waker.wake(token, output);
          wakeAnswers.push(answer);
          return answer;
        },
      },
      wakeOutput: async (owner, slot) => (await planOnHandedSlot(deps, owner, slot)) ?? slot,
    });
    // The repair's reading of the line returns; before it reads the slots, the releaser claims and gives.
    let releasing: Promise<void> | undefined;
    const middleware = 'release-after-the-line-is-read';
    cloud.runtime.clients.dynamodb.middlewareStack.add(
      (next) => async (args) => {
        const out = await next(args);
        const input = args.input as { KeyConditionExpression?: string; Limit?: number };
        if (!releasing && input.KeyConditionExpression && input.Limit === undefined) {
          releasing = releaser.release({ slot: 4, owner: others(4) });
          await given;
        }
        return out;
      },
      { step: 'initialize', name: middleware },
    );
    let report;
    try {
      report = await new DynamoCreateSlots(cloud.runtime.clients.dynamodb, { tableName: table(), clock: cloud.runtime.clock, waker }).repair(() => true);
    } finally {
      cloud.runtime.clients.dynamodb.middlewareStack.remove(middleware);
    }
    expect(releasing, 'the releaser ran between the two reads').toBeDefined();
    expect(report).toMatchObject({ woken: 0, reclaimed: 0 });
    letWakeGo();
    await releasing;
    expect(wakeAnswers).toEqual(['woken']);
    expect(await cloud.slotOwners()).toContain(`activate#${grant.id}`);
    const active = await cloud.waitForStatus(grant.id, ['ACTIVE', 'FAILED']);
    expect(active.status, active.failureReason).toBe('ACTIVE');
    await cloud.sfn.idle();
    expect(await cloud.slotOwners()).not.toContain(`activate#${grant.id}`);
  }, 30_000);

  it('activations leave the reserved slots to revocations: with activations holding all they may, a grant waits though a slot is free; a revocation takes that slot at once', async () => {
    const held = [];
    for (let i = 0; i < SLOT_COUNT - SLOTS_RESERVED_FOR_REVOCATIONS; i++) held.push((await workflowDeps(cloud.runtime).slots.tryAcquire(`activate#other-${i}`, 3_600_000))!);
    const grant = await cloud.approvedGrant('alice', { account: '444444444444', permissionSet: 'PowerUserAccess' }, 'PT1H');
    await cloud.runtime.workflows.startGrant(grant);
    await untilWaiting(grant.id, 'WaitForSlot');
    expect((await cloud.slotOwners()).length).toBe(SLOT_COUNT - SLOTS_RESERVED_FOR_REVOCATIONS);
    expect(await workflowDeps(cloud.runtime).slots.tryAcquire('revoke#due', 60_000)).toBeDefined();
    await workflowDeps(cloud.runtime).slots.releaseOwnedBy('revoke#due');
    expect(waitingIn(grant.id, 'WaitForSlot')).toBe(true);
    await workflowDeps(cloud.runtime).slots.release(held[0]!);
    expect((await cloud.waitForStatus(grant.id, ['ACTIVE', 'FAILED'])).status).toBe('ACTIVE');
  }, 30_000);

  it('a slot holder that crashed (its workflow gone) is found by the repair: its slot goes to the waiter', async () => {
    const grant = await grantWaitingForSlot('carol', { account: '444444444444', permissionSet: 'PowerUserAccess' });
    const report = await workflowDeps(cloud.runtime).slots.repair((owner) => owner !== 'activate#other-5');
    expect(report).toMatchObject({ reclaimed: 1, handedOver: 1 });
    expect((await cloud.waitForStatus(grant.id, ['ACTIVE', 'FAILED'])).status).toBe('ACTIVE');
    await cloud.sfn.idle();
    expect(await cloud.slotOwners()).not.toContain('activate#other-5');
  }, 30_000);
});
