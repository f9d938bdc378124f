/**
 * `CreateSlots` on the grants table: items pk SLOT#<n> / sk SLOT (n < slotCount), each
 * with the owner and the instant its lease lapses. Acquire = one BatchGet of every slot,
 * then a conditional update on a free, lapsed or already-owned one; release is
 * conditional on the owner, so a late release can never free someone else's slot.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../ports.ts';
import type { CreateSlots, SlotLease } from '../workflow/ports.ts';

/** Identity Center allows 10 outstanding async assignment operations per instance. */
export const DEFAULT_SLOT_COUNT = 10;

export const slotKey = (slot: number) => ({ pk: `SLOT#${slot}`, sk: 'SLOT' });
/** The line of slot waiters: `nextTurnAt` (epoch ms), the first turn not yet handed out. */
const TURNS_KEY = { pk: 'SLOT#TURNS', sk: 'SLOT' };
const TURN_ATTEMPTS = 5;

export interface DynamoCreateSlotsOptions {
  tableName: string;
  slotCount?: number;
  clock: Clock;
  random?: () => number;
}

export class DynamoCreateSlots implements CreateSlots {
  private readonly doc: DynamoDBDocumentClient;
  private readonly slotCount: number;

  constructor(
    client: DynamoDBClient,
    private readonly options: DynamoCreateSlotsOptions,
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
    this.slotCount = options.slotCount ?? DEFAULT_SLOT_COUNT;
  }

  /** Every slot item that exists, by pk (one consistent BatchGet). */
  private async readSlots(): Promise<Map<string, Record<string, unknown>>> {
    const keys = Array.from({ length: this.slotCount }, (_, i) => slotKey(i));
    const out = await this.doc.send(new BatchGetCommand({ RequestItems: { [this.options.tableName]: { Keys: keys, ConsistentRead: true } } }));
    const items = new Map<string, Record<string, unknown>>();
    for (const item of out.Responses?.[this.options.tableName] ?? []) items.set(String(item.pk), item);
    return items;
  }

  async tryAcquire(owner: string, leaseMs: number): Promise<SlotLease | undefined> {
    const now = this.options.clock.now();
    const nowIso = now.toISOString();
    const items = await this.readSlots();

    // Already mine (a retried task) first; then free or lapsed slots, from a random start to spread contention.
    const mine: number[] = [];
    const free: number[] = [];
    const start = Math.floor((this.options.random ?? Math.random)() * this.slotCount);
    for (let k = 0; k < this.slotCount; k++) {
      const i = (start + k) % this.slotCount;
      const item = items.get(`SLOT#${i}`);
      if (item?.owner === owner) mine.push(i);
      else if (!item?.owner || String(item.leaseExpiresAt ?? '') < nowIso) free.push(i);
    }
    const leaseExpiresAt = new Date(now.getTime() + leaseMs).toISOString();
    for (const slot of [...mine, ...free]) {
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.options.tableName,
            Key: slotKey(slot),
            UpdateExpression: 'SET #owner = :owner, leaseExpiresAt = :exp',
            ConditionExpression: 'attribute_not_exists(#owner) OR #owner = :owner OR leaseExpiresAt < :now',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: { ':owner': owner, ':exp': leaseExpiresAt, ':now': nowIso },
          }),
        );
        return { slot, owner };
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      }
    }
    return undefined;
  }

  async reserveTurn(stepMs: number): Promise<Date> {
    for (let attempt = 0; attempt < TURN_ATTEMPTS; attempt++) {
      const now = this.options.clock.now().getTime();
      try {
        // Others are waiting: take the turn after the last one handed out.
        const out = await this.doc.send(
          new UpdateCommand({
            TableName: this.options.tableName,
            Key: TURNS_KEY,
            UpdateExpression: 'SET nextTurnAt = nextTurnAt + :step',
            ConditionExpression: 'nextTurnAt > :now',
            ExpressionAttributeValues: { ':step': stepMs, ':now': now },
            ReturnValues: 'UPDATED_NEW',
          }),
        );
        return new Date(Number(out.Attributes?.nextTurnAt) - stepMs);
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      }
      try {
        // Nobody is waiting (the line emptied as time passed): this turn is now.
        await this.doc.send(
          new UpdateCommand({
            TableName: this.options.tableName,
            Key: TURNS_KEY,
            UpdateExpression: 'SET nextTurnAt = :next',
            ConditionExpression: 'attribute_not_exists(nextTurnAt) OR nextTurnAt <= :now',
            ExpressionAttributeValues: { ':next': now + stepMs, ':now': now },
          }),
        );
        return new Date(now);
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      }
    }
    // Lost every race: try for a slot at once rather than not at all.
    return this.options.clock.now();
  }

  async releaseOwnedBy(owner: string): Promise<void> {
    const items = await this.readSlots();
    for (let slot = 0; slot < this.slotCount; slot++) {
      if (items.get(`SLOT#${slot}`)?.owner === owner) await this.release({ slot, owner });
    }
  }

  async release(lease: SlotLease): Promise<void> {
    try {
      await this.doc.send(new UpdateCommand(releaseSlotInput(this.options.tableName, lease)));
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }
}

/** The release as an UpdateItem input (document form); the state machines send the same update. */
export function releaseSlotInput(tableName: string, lease: SlotLease) {
  return {
    TableName: tableName,
    Key: slotKey(lease.slot),
    UpdateExpression: 'REMOVE #owner, leaseExpiresAt',
    ConditionExpression: '#owner = :owner',
    ExpressionAttributeNames: { '#owner': 'owner' },
    ExpressionAttributeValues: { ':owner': lease.owner },
  };
}
