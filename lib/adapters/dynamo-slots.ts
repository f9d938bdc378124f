/**
 * `CreateSlots` on the grants table: one slot item per slot (lib/table/keys.ts), each
 * with the owner and the instant its lease lapses. Acquire = one BatchGet of every slot,
 * then a conditional update on a free, lapsed or already-owned one; release is
 * conditional on the owner, so a late release can never free someone else's slot.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock, CreateSlots, SlotLease } from '../ports/index.ts';
import { ifConditionHolds } from '../table/conditional.ts';
import { SLOT_COUNT, SLOT_TURNS_KEY, slotKey } from '../table/keys.ts';
import { slotLeaseWrite, slotReleaseWrite } from '../table/prepared-writes.ts';

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
    this.slotCount = options.slotCount ?? SLOT_COUNT;
  }

  /** Every slot item that exists, by slot number (one consistent BatchGet). */
  private async readSlots(): Promise<Map<number, Record<string, unknown>>> {
    const keys = Array.from({ length: this.slotCount }, (_, i) => slotKey(i));
    const out = await this.doc.send(new BatchGetCommand({ RequestItems: { [this.options.tableName]: { Keys: keys, ConsistentRead: true } } }));
    const slotOf = new Map(keys.map((key, i) => [key.pk, i]));
    const items = new Map<number, Record<string, unknown>>();
    for (const item of out.Responses?.[this.options.tableName] ?? []) {
      const slot = slotOf.get(String(item.pk));
      if (slot !== undefined) items.set(slot, item);
    }
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
      const item = items.get(i);
      if (item?.owner === owner) mine.push(i);
      else if (!item?.owner || String(item.leaseExpiresAt ?? '') < nowIso) free.push(i);
    }
    const leaseExpiresAt = new Date(now.getTime() + leaseMs).toISOString();
    for (const slot of [...mine, ...free]) {
      const leased = await ifConditionHolds(() =>
        this.doc.send(new UpdateCommand({ TableName: this.options.tableName, ...slotLeaseWrite(slot, owner, leaseExpiresAt, nowIso) })),
      );
      if (leased) return { slot, owner };
    }
    return undefined;
  }

  async reserveTurn(stepMs: number): Promise<Date> {
    for (let attempt = 0; attempt < TURN_ATTEMPTS; attempt++) {
      const now = this.options.clock.now().getTime();
      // Others are waiting: take the turn after the last one handed out.
      let nextTurnAt: unknown;
      const queued = await ifConditionHolds(async () => {
        const out = await this.doc.send(
          new UpdateCommand({
            TableName: this.options.tableName,
            Key: SLOT_TURNS_KEY,
            UpdateExpression: 'SET nextTurnAt = nextTurnAt + :step',
            ConditionExpression: 'nextTurnAt > :now',
            ExpressionAttributeValues: { ':step': stepMs, ':now': now },
            ReturnValues: 'UPDATED_NEW',
          }),
        );
        nextTurnAt = out.Attributes?.nextTurnAt;
      });
      if (queued) return new Date(Number(nextTurnAt) - stepMs);
      // Nobody is waiting (the line emptied as time passed): this turn is now.
      const first = await ifConditionHolds(() =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.options.tableName,
            Key: SLOT_TURNS_KEY,
            UpdateExpression: 'SET nextTurnAt = :next',
            ConditionExpression: 'attribute_not_exists(nextTurnAt) OR nextTurnAt <= :now',
            ExpressionAttributeValues: { ':next': now + stepMs, ':now': now },
          }),
        ),
      );
      if (first) return new Date(now);
    }
    // Lost every race: try for a slot at once rather than not at all.
    return this.options.clock.now();
  }

  async releaseOwnedBy(owner: string): Promise<void> {
    const items = await this.readSlots();
    for (let slot = 0; slot < this.slotCount; slot++) {
      if (items.get(slot)?.owner === owner) await this.release({ slot, owner });
    }
  }

  async release(lease: SlotLease): Promise<void> {
    await ifConditionHolds(() => this.doc.send(new UpdateCommand({ TableName: this.options.tableName, ...slotReleaseWrite(lease.slot, lease.owner) })));
  }
}
