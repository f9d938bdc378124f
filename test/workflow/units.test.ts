/** Small pieces of the workflow logic: the slot semaphore on dynalite, States.MathRandom as the definitions use it. (Failure reasons: test/unit/failure-reason.test.ts.) */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoCreateSlots } from '../../lib/adapters/dynamo-slots.ts';
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

  it('hands out turns in the line of waiters step apart; the line empties as time passes', async () => {
    let now = Date.parse('2031-01-01T00:00:00Z');
    const slots = new DynamoCreateSlots(table.client, { tableName: table.tableName, clock: { now: () => new Date(now) } });
    expect((await slots.reserveTurn(150)).getTime()).toBe(now); // nobody waiting: at once
    expect((await slots.reserveTurn(150)).getTime()).toBe(now + 150);
    expect((await slots.reserveTurn(150)).getTime()).toBe(now + 300);
    now += 100; // time passes, the line is still ahead
    expect((await slots.reserveTurn(150)).getTime()).toBe(now - 100 + 450);
    now += 10_000; // every turn handed out has come: the line is empty again
    expect((await slots.reserveTurn(150)).getTime()).toBe(now);
  });

  it('gives concurrent waiters distinct turns', async () => {
    const now = Date.parse('2032-01-01T00:00:00Z');
    const slots = new DynamoCreateSlots(table.client, { tableName: table.tableName, clock: { now: () => new Date(now) } });
    const turns = await Promise.all(Array.from({ length: 20 }, () => slots.reserveTurn(100)));
    // Racing writers may lose all their attempts and go at once; the rest are each a step apart.
    const spaced = turns.map((t) => t.getTime()).filter((t) => t > now);
    expect(new Set(spaced).size).toBe(spaced.length);
    expect(spaced.length).toBeGreaterThanOrEqual(15);
    for (const t of spaced) expect((t - now) % 100).toBe(0);
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
