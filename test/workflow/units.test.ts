/** Small pieces of the workflow logic: the slot semaphore on dynalite, States.MathRandom as the definitions use it. (Failure reasons: test/unit/failure-reason.test.ts.) */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { DynamoCreateSlots } from '../../lib/adapters/dynamo-slots.ts';
import { grantKey, INDEX, indexKeys, SLOT_COUNT, SLOT_WAITERS_PARTITION, SLOTS_RESERVED_FOR_REVOCATIONS, slotKey, statusPartition } from '../../lib/table/keys.ts';
import type { SlotAdmission } from '../../lib/ports/index.ts';
import { LocalStepFunctions } from '../../local/stepfunctions/service.ts';
import { startTestTable, type TestTable } from '../support/dynamo.ts';

describe('DynamoCreateSlots', () => {
  let table: TestTable;
  let nowMs = Date.parse('2026-01-01T00:00:00Z');
  const clock = { now: () => new Date(nowMs) };
  beforeAll(async () => {
    table = await startTestTable();
  });
  afterAll(async () => {
    await table?.stop();
  });

  it('leases at most N slots, re-grants its own slot to a retry, frees on release, and reclaims a lapsed lease', async () => {
    const slots = new DynamoCreateSlots(table.client, { tableName: table.tableName, slotCount: 3, clock });
    const a = await slots.tryAcquire('a', 60_000);
    const b = await slots.tryAcquire('b', 60_000);
    const c = await slots.tryAcquire('c', 60_000);
    expect(new Set([a?.slot, b?.slot, c?.slot]).size).toBe(3);
    expect(await slots.tryAcquire('d', 60_000)).toBeUndefined();
    expect(await slots.tryAcquire('a', 60_000)).toEqual(a); // a retried task keeps its slot, no second one

    await slots.release(b!);
    await slots.release(b!); // twice: harmless
    const d = await slots.tryAcquire('d', 60_000);
    expect(d?.slot).toBe(b?.slot);
    await slots.release({ slot: d!.slot, owner: 'not-the-owner' }); // someone else's release does nothing
    expect(await slots.tryAcquire('e', 60_000)).toBeUndefined();

    nowMs += 61_000; // every lease lapsed (a crashed execution cannot keep a slot)
    expect(await slots.tryAcquire('e', 60_000)).toBeDefined();
  });

  it('one try at a lease writes for at most three of the free slots it read: a racer that lost them is behind a crowd and joins the line', async () => {
    const t = await startTestTable();
    const client = new DynamoDBClient({ endpoint: t.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    try {
      // Every slot reads free; between that read and this racer's first write, the crowd takes them all.
      let slotWrites = 0;
      let crowdCame = false;
      client.middlewareStack.add(
        (next) => async (args) => {
          const input = args.input as { UpdateExpression?: string; Key?: { pk?: string | { S?: string } } };
          const pk = typeof input.Key?.pk === 'string' ? input.Key.pk : input.Key?.pk?.S;
          if (input.UpdateExpression && pk !== undefined && pk !== SLOT_WAITERS_PARTITION && pk.startsWith(slotKey(0).pk.slice(0, -1))) {
            slotWrites++;
            if (!crowdCame) {
              crowdCame = true;
              const crowd = new DynamoCreateSlots(t.client, { tableName: t.tableName, clock });
              for (let i = 0; i < SLOT_COUNT; i++) await crowd.tryAcquire(`revoke#crowd-${i}`, 60_000);
            }
          }
          return next(args);
        },
        { step: 'initialize', name: 'crowdBetweenReadAndWrite' },
      );
      const racer = new DynamoCreateSlots(client, { tableName: t.tableName, clock });
      expect(await racer.tryAcquire('revoke#racer', 60_000)).toBeUndefined();
      expect(crowdCame).toBe(true);
      expect(slotWrites).toBe(3);
    } finally {
      client.destroy();
      await t.stop();
    }
  });

  it('activations leave the revocations as many slots as expiries fall due in the next seconds (at least the fixed reserve, never every slot)', async () => {
    const t = await startTestTable();
    try {
      let now = Date.parse('2026-04-01T00:00:00Z');
      const slots = new DynamoCreateSlots(t.client, { tableName: t.tableName, clock: { now: () => new Date(now) } });
      const byStatus = indexKeys(INDEX.byStatus);
      const activeUntil = async (id: string, expiresAt: number) =>
        t.client.send(
          new PutItemCommand({
            TableName: t.tableName,
            Item: { ...marshall(grantKey(id)), [byStatus.partitionKey]: { S: statusPartition('ACTIVE') }, [byStatus.sortKey]: { S: `${new Date(expiresAt).toISOString()}#${id}` } },
          }),
        );
      for (let i = 0; i < 5; i++) await activeUntil(`due-${i}`, now + 2_000);
      await activeUntil('later', now + 600_000);
      const activations: number[] = [];
      for (let i = 0; i < SLOT_COUNT; i++) {
        const lease = await slots.tryAcquire(`activate#a${i}`, 60_000);
        if (lease) activations.push(lease.slot);
      }
      expect(activations).toHaveLength(SLOT_COUNT - 5);
      for (let i = 0; i < 5; i++) expect(await slots.tryAcquire(`revoke#due-${i}`, 60_000)).toBeDefined();

      // Twelve expiries at once: activations still keep one slot between them.
      for (let i = 0; i < SLOT_COUNT; i++) await slots.releaseOwnedBy(`activate#a${i}`);
      for (let i = 0; i < 5; i++) await slots.releaseOwnedBy(`revoke#due-${i}`);
      for (let i = 5; i < 12; i++) await activeUntil(`due-${i}`, now + 1_000);
      expect(await slots.tryAcquire('activate#b0', 60_000)).toBeDefined();
      expect(await slots.tryAcquire('activate#b1', 60_000)).toBeUndefined();

      // Long past their expiry (their revocations are the sweeper's business): the fixed reserve again.
      now += 60_000;
      let held = 1;
      for (let i = 1; i < SLOT_COUNT; i++) if (await slots.tryAcquire(`activate#b${i}`, 120_000)) held++;
      expect(held).toBe(SLOT_COUNT - SLOTS_RESERVED_FOR_REVOCATIONS);
    } finally {
      await t.stop();
    }
  });

  describe('the line of waiters', () => {
    const at = (iso: string) => ({ now: () => new Date(iso) });
    /** A waker that records every wake-up; tokens listed in `gone` belong to tasks that no longer wait. */
    function recordingWaker(gone: string[] = []) {
      const woken: { token: string; pk: string }[] = [];
      return {
        woken,
        wake: async (token: string, slot: { pk: string }) => {
          if (gone.includes(token)) return 'gone' as const;
          woken.push({ token, pk: slot.pk });
          return 'woken' as const;
        },
      };
    }
    /** What the state machine's WaitForSlot does: records the task token on the waiter item. */
    async function recordToken(t: TestTable, sk: string, token: string) {
      await t.client.send(
        new UpdateItemCommand({
          TableName: t.tableName,
          Key: { pk: { S: SLOT_WAITERS_PARTITION }, sk: { S: sk } },
          UpdateExpression: 'SET wakeToken = :t',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':t': { S: token } },
        }),
      );
    }
    const queuedSk = (admission: SlotAdmission) => {
      if (!('queued' in admission)) throw new Error('expected a place in the line');
      return admission.queued.sk;
    };

    it('serves revocations before activations, each in order of place, waking each with the slot it was handed', async () => {
      const t = await startTestTable();
      try {
        const waker = recordingWaker();
        const slots = new DynamoCreateSlots(t.client, { tableName: t.tableName, reservedForRevocations: 0, slotCount: 2, clock: at('2026-03-01T00:00:00Z'), waker, handOverLeaseMs: 60_000 });
        const held = [(await slots.tryAcquire('holder-1', 60_000))!, (await slots.tryAcquire('holder-2', 60_000))!];
        const late = queuedSk(await slots.acquireOrQueue('activate#late', { kind: 'activate', place: '2026-03-01T00:00:05Z' }, 60_000));
        const early = queuedSk(await slots.acquireOrQueue('activate#early', { kind: 'activate', place: '2026-03-01T00:00:01Z' }, 60_000));
        const revoke = queuedSk(await slots.acquireOrQueue('revoke#due', { kind: 'revoke', place: '2026-03-01T00:00:09Z' }, 60_000));
        for (const [sk, token] of [[late, 'token-late'], [early, 'token-early'], [revoke, 'token-revoke']] as const) await recordToken(t, sk, token);

        await slots.release(held[0]!);
        await slots.release(held[1]!);
        expect(waker.woken).toEqual([
          { token: 'token-revoke', pk: slotKey(held[0]!.slot).pk },
          { token: 'token-early', pk: slotKey(held[1]!.slot).pk },
        ]);
        // The woken waiters hold their slots: a look finds each one's own, nobody else gets in.
        expect(await slots.tryAcquire('revoke#due', 60_000)).toEqual({ slot: held[0]!.slot, owner: 'revoke#due' });
        expect(await slots.tryAcquire('someone-else', 60_000)).toBeUndefined();
        // Giving one back serves the last waiter.
        await slots.release({ slot: held[0]!.slot, owner: 'revoke#due' });
        expect(waker.woken.at(-1)).toEqual({ token: 'token-late', pk: slotKey(held[0]!.slot).pk });
        expect(await slots.repair(() => true)).toMatchObject({ waiting: 0 });
      } finally {
        await t.stop();
      }
    });

    it('takes a slot at once when one is free, and never leaves a waiter behind when a slot is given back as it joins', async () => {
      const t = await startTestTable();
      try {
        const waker = recordingWaker();
        const slots = new DynamoCreateSlots(t.client, { tableName: t.tableName, reservedForRevocations: 0, slotCount: 3, clock: at('2026-03-02T00:00:00Z'), waker, handOverLeaseMs: 60_000 });
        const admissions = await Promise.all(
          Array.from({ length: 12 }, (_, i) => slots.acquireOrQueue(`activate#g${i}`, { kind: 'activate', place: `2026-03-02T00:00:${String(i).padStart(2, '0')}Z` }, 60_000)),
        );
        const leases = admissions.flatMap((a) => ('lease' in a ? [a.lease] : []));
        expect(leases).toHaveLength(3);
        // Everyone gives back at once while the others have just joined: every waiter is served in turn.
        const served = new Set(leases.map((l) => l.owner));
        let holding = leases;
        for (let round = 0; round < 5 && holding.length; round++) {
          await Promise.all(holding.map((l) => slots.release(l)));
          holding = [];
          for (let slot = 0; slot < 3; slot++) {
            const owner = (await t.client.send(new GetItemCommand({ TableName: t.tableName, Key: { pk: { S: slotKey(slot).pk }, sk: { S: 'SLOT' } }, ConsistentRead: true }))).Item?.owner?.S;
            if (owner) {
              served.add(owner);
              holding.push({ slot, owner });
            }
          }
        }
        expect(served.size).toBe(12);
        expect(await slots.repair(() => true)).toMatchObject({ waiting: 0, handedOver: 0 });
      } finally {
        await t.stop();
      }
    });

    it('a slot given back while someone waits passes straight to the first waiter: never free in between, so a newcomer cannot take it first', async () => {
      const t = await startTestTable();
      const client = new DynamoDBClient({ endpoint: t.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      try {
        const waker = recordingWaker();
        const options = { tableName: t.tableName, reservedForRevocations: 0, slotCount: 1, clock: at('2026-03-03T00:00:00Z'), handOverLeaseMs: 60_000 };
        const newcomer = new DynamoCreateSlots(t.client, options);
        // Right after each of the releaser's writes, a newcomer looks for a free slot.
        const releaserWrites: string[] = [];
        const newcomerGot: unknown[] = [];
        client.middlewareStack.add(
          (next, context) => async (args) => {
            const out = await next(args);
            const command = (context as { commandName?: string }).commandName ?? '';
            if (/^(Put|Update|Delete)Item/.test(command)) {
              releaserWrites.push(command);
              newcomerGot.push(await newcomer.tryAcquire('activate#newcomer', 60_000));
            }
            return out;
          },
          { step: 'initialize', name: 'newcomerAfterEachWrite' },
        );
        const releaser = new DynamoCreateSlots(client, { ...options, waker });
        const held = (await newcomer.tryAcquire('activate#holder', 60_000))!;
        await recordToken(t, queuedSk(await newcomer.acquireOrQueue('activate#first', { kind: 'activate', place: '2026-03-03T00:00:01Z' }, 60_000)), 'token-first');
        await releaser.release(held);
        expect(newcomerGot.every((got) => got === undefined)).toBe(true);
        expect(waker.woken).toEqual([{ token: 'token-first', pk: slotKey(held.slot).pk }]);
        // Two writes: the waiter out of the line, the slot to it (no release, no failed give, no waiter put back).
        expect(releaserWrites).toEqual(['DeleteItemCommand', 'UpdateItemCommand']);
        expect(await newcomer.tryAcquire('activate#first', 60_000)).toEqual({ slot: held.slot, owner: 'activate#first' });
      } finally {
        client.destroy();
        await t.stop();
      }
    });

    it('hands a slot whose waiter no longer waits to the next one', async () => {
      const t = await startTestTable();
      try {
        const waker = recordingWaker(['token-dead']);
        const slots = new DynamoCreateSlots(t.client, { tableName: t.tableName, reservedForRevocations: 0, slotCount: 1, clock: at('2026-03-03T00:00:00Z'), waker, handOverLeaseMs: 60_000 });
        const held = (await slots.tryAcquire('holder', 60_000))!;
        await recordToken(t, queuedSk(await slots.acquireOrQueue('activate#dead', { kind: 'activate', place: '2026-03-03T00:00:01Z' }, 60_000)), 'token-dead');
        await recordToken(t, queuedSk(await slots.acquireOrQueue('activate#alive', { kind: 'activate', place: '2026-03-03T00:00:02Z' }, 60_000)), 'token-alive');
        await slots.release(held);
        expect(waker.woken).toEqual([{ token: 'token-alive', pk: slotKey(held.slot).pk }]);
        expect(await slots.tryAcquire('activate#alive', 60_000)).toEqual({ slot: held.slot, owner: 'activate#alive' });
      } finally {
        await t.stop();
      }
    });

    it('an activation behind waiting activations takes no free slot out of turn: it joins the line, and a slot left free goes to the first waiter', async () => {
      const t = await startTestTable();
      const client = new DynamoDBClient({ endpoint: t.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      try {
        let nowMs = Date.parse('2026-03-06T00:00:00Z');
        const clock = { now: () => new Date(nowMs) };
        const waker = recordingWaker();
        const options = { tableName: t.tableName, reservedForRevocations: 0, slotCount: 2, clock, waker, handOverLeaseMs: 60_000 };
        const slots = new DynamoCreateSlots(t.client, options);
        const newcomerWrites: string[] = [];
        client.middlewareStack.add(
          (next, context) => async (args) => {
            const command = (context as { commandName?: string }).commandName ?? '';
            if (/^(Put|Update|Delete)Item/.test(command)) newcomerWrites.push(command);
            return next(args);
          },
          { step: 'initialize', name: 'countNewcomerWrites' },
        );
        const newcomers = new DynamoCreateSlots(client, options);
        const held = (await slots.tryAcquire('activate#holder-1', 3_600_000))!;
        await slots.tryAcquire('activate#holder-2', 3_600_000);
        const first = queuedSk(await slots.acquireOrQueue('activate#first', { kind: 'activate', place: '2026-03-06T00:00:00.000Z' }, 60_000));
        await recordToken(t, first, 'token-first');
        // A slot given back with nobody handed it (as a revocation's release leaves it when only activations wait).
        await t.client.send(
          new UpdateItemCommand({ TableName: t.tableName, Key: marshall(slotKey(held.slot)), UpdateExpression: 'REMOVE #owner, leaseExpiresAt', ExpressionAttributeNames: { '#owner': 'owner' } }),
        );

        // Half a second after the first waiter joined, its own second look may still be to come: a newcomer only joins.
        nowMs += 500;
        const second = queuedSk(await newcomers.acquireOrQueue('activate#second', { kind: 'activate', place: '2026-03-06T00:00:00.500Z' }, 60_000));
        expect(newcomerWrites).toEqual(['PutItemCommand']);
        expect(waker.woken).toEqual([]);
        // Later, a newcomer that finds the slot still free once it is in the line hands it to the first waiter.
        nowMs += 1_000;
        newcomerWrites.length = 0;
        const third = queuedSk(await newcomers.acquireOrQueue('activate#third', { kind: 'activate', place: '2026-03-06T00:00:01.500Z' }, 60_000));
        expect(newcomerWrites).toEqual(['PutItemCommand', 'DeleteItemCommand', 'UpdateItemCommand']);
        expect(waker.woken).toEqual([{ token: 'token-first', pk: slotKey(held.slot).pk }]);
        expect(await slots.tryAcquire('activate#first', 60_000)).toEqual({ slot: held.slot, owner: 'activate#first' });
        const line = await t.client.send(new QueryCommand({ TableName: t.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: SLOT_WAITERS_PARTITION } }, ConsistentRead: true }));
        expect(line.Items?.map((item) => item.sk?.S)).toEqual([second, third]);
      } finally {
        client.destroy();
        await t.stop();
      }
    });

    it('repair: takes back the slot of a dead holder, drops dead waiters, and wakes again a waiter whose wake-up was lost', async () => {
      const t = await startTestTable();
      try {
        let nowMs = Date.parse('2026-03-04T00:00:00Z');
        const clock = { now: () => new Date(nowMs) };
        const silent = { wake: async () => 'woken' as const }; // a releaser that "crashed" before its wake-up arrived
        const waker = recordingWaker();
        const lossy = new DynamoCreateSlots(t.client, { tableName: t.tableName, reservedForRevocations: 0, slotCount: 2, clock, waker: silent, handOverLeaseMs: 60_000 });
        const slots = new DynamoCreateSlots(t.client, { tableName: t.tableName, reservedForRevocations: 0, slotCount: 2, clock, waker, handOverLeaseMs: 60_000 });
        const crashed = (await slots.tryAcquire('activate#crashed', 3_600_000))!;
        const busy = (await slots.tryAcquire('activate#busy', 3_600_000))!;
        await recordToken(t, queuedSk(await slots.acquireOrQueue('activate#gone', { kind: 'activate', place: '2026-03-04T00:00:01Z' }, 60_000)), 'token-gone');
        nowMs += 60_000;
        await recordToken(t, queuedSk(await slots.acquireOrQueue('revoke#lost', { kind: 'revoke', place: '2026-03-04T00:00:02Z' }, 60_000)), 'token-lost');
        await recordToken(t, queuedSk(await slots.acquireOrQueue('activate#next', { kind: 'activate', place: '2026-03-04T00:00:03Z' }, 60_000)), 'token-next');

        // The busy holder gives back through a releaser whose wake-up is lost: revoke#lost holds the slot but still sleeps.
        await lossy.release(busy);
        const alive = (owner: string) => owner !== 'activate#crashed' && owner !== 'activate#gone';
        nowMs += 31_000;
        const report = await slots.repair(alive);
        expect(report).toMatchObject({ reclaimed: 1, handedOver: 1, woken: 1, waitersRemoved: 1, waiting: 0 });
        expect(waker.woken).toEqual(
          expect.arrayContaining([
            { token: 'token-lost', pk: slotKey(busy.slot).pk },
            { token: 'token-next', pk: slotKey(crashed.slot).pk },
          ]),
        );
      } finally {
        await t.stop();
      }
    });

    it('repair: a waiter not (yet) in the listing of running executions keeps its place while it is recent, and is served', async () => {
      const t = await startTestTable();
      try {
        let nowMs = Date.parse('2026-03-05T00:00:00Z');
        const clock = { now: () => new Date(nowMs) };
        const waker = recordingWaker();
        const slots = new DynamoCreateSlots(t.client, { tableName: t.tableName, reservedForRevocations: 0, slotCount: 1, clock, waker, handOverLeaseMs: 60_000 });
        const held = (await slots.tryAcquire('activate#holder', 3_600_000))!;
        await recordToken(t, queuedSk(await slots.acquireOrQueue('activate#fresh', { kind: 'activate', place: '2026-03-05T00:00:01Z' }, 60_000)), 'token-fresh');
        // A listing (eventually consistent) that does not show the waiter's execution yet, 30 s after it joined.
        nowMs += 30_000;
        const unlisted = (owner: string) => owner !== 'activate#fresh';
        expect(await slots.repair(unlisted)).toMatchObject({ waitersRemoved: 0, waiting: 1 });
        await slots.release(held);
        expect(waker.woken).toEqual([{ token: 'token-fresh', pk: slotKey(held.slot).pk }]);
        // Still unlisted a minute after it joined: its workflow is gone, and it leaves the line.
        await recordToken(t, queuedSk(await slots.acquireOrQueue('activate#dead', { kind: 'activate', place: '2026-03-05T00:00:02Z' }, 60_000)), 'token-dead');
        nowMs += 61_000;
        expect(await slots.repair((owner) => owner !== 'activate#dead')).toMatchObject({ waitersRemoved: 1, waiting: 0 });
      } finally {
        await t.stop();
      }
    });
  });

  it('hands out exactly N slots to many concurrent callers', async () => {
    const slots = new DynamoCreateSlots(table.client, { tableName: `${table.tableName}`, slotCount: 10, clock: { now: () => new Date(Date.parse('2030-01-01T00:00:00Z')) } });
    const got = await Promise.all(Array.from({ length: 40 }, (_, i) => slots.tryAcquire(`owner-${i}`, 60_000)));
    const leased = got.filter((x) => x !== undefined);
    expect(leased.length).toBeLessThanOrEqual(10);
    expect(new Set(leased.map((l) => l.slot)).size).toBe(leased.length);
  });
});

describe('States.MathRandom on local Step Functions', () => {
  it('is AWS\'s: end exclusive, and executions started together draw independently', async () => {
    const sfn = new LocalStepFunctions({ sdkEndpoint: () => 'http://127.0.0.1:9', log: () => undefined });
    try {
      const definition = { StartAt: 'Pick', States: { Pick: { Type: 'Pass', Parameters: { 'slot.$': "States.Format('SLOT#{}', States.MathRandom(0, 10))" }, End: true } } };
      const { stateMachineArn } = sfn.createStateMachine({ name: 'pick', definition: JSON.stringify(definition), roleArn: 'arn:aws:iam::000000000000:role/x' });
      // Started in the same millisecond: the engine's own default seed (Date.now()) would give them all one slot.
      const started = Array.from({ length: 300 }, () => sfn.startExecution(stateMachineArn));
      await sfn.idle();
      const picks = new Set(started.map(({ executionArn }) => (JSON.parse(sfn.listExecutionRecords().find((e) => e.executionArn === executionArn)!.output!) as { slot: string }).slot));
      expect([...picks].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `SLOT#${i}`).sort());
    } finally {
      await sfn.close();
    }
  });
});
