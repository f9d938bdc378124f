/**
 * `CreateSlots` on the grants table: one slot item per slot (lib/table/keys.ts), each
 * with the owner and the instant its lease lapses, and the line of waiters (one item each,
 * in the order they are served). Acquire = one BatchGet of every slot, then a conditional
 * update on a free, lapsed or already-owned one; release is conditional on the owner, so a
 * late release can never free someone else's slot, and then hands the slot to the first
 * waiter: claim it (a conditional delete), give it the slot (a conditional update), wake it.
 * Activations are served in turn: one that arrives while activations wait joins the line
 * without trying a free slot, so slot writes per grant do not grow with the crowd.
 *
 * No wake-up is lost to a race: a waiter joins the line before it looks at the slots a
 * second time, and a releaser looks at the line after it gave its slot back, so one of the
 * two always sees the other. What a crash can lose, the sweeper mends (`repair`).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DeleteCommand, DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock, CreateSlots, SlotAdmission, SlotLease, SlotQueuePlace, SlotRepairReport, SlotWaker } from '../ports/index.ts';
import { logger } from '../logger.ts';
import { ifConditionHolds } from '../table/conditional.ts';
import { ACTIVATION_WAITERS_PREFIX, INDEX, indexKeys, isActivationWaiter, SLOT_COUNT, SLOT_WAITERS_PARTITION, SLOTS_RESERVED_FOR_REVOCATIONS, slotKey, slotWaiterKey, statusPartition } from '../table/keys.ts';
import { slotGiveWrite, slotLeaseWrite, slotReclaimWrite, slotReleaseWrite, slotTakenUpWrite } from '../table/prepared-writes.ts';

/** How many waiters one release tries before it gives up handing its slot on (each failed try means someone else served that waiter). */
const HAND_OVER_TRIES = 5;
/**
 * How many free slots one try at a lease writes for (its own slot, on a retried task, comes on top).
 * Every racer reads the same free slots: one that lost this many is behind a crowd, and joins the
 * line rather than paying a conditional write for each slot it saw.
 */
const LEASE_TRIES = 3;
/**
 * Expiries due this far ahead keep their slots free of new activations: an activation taking a
 * slot now holds it about this long (create, then its status polled), and a delete due meanwhile
 * must not wait behind it.
 */
const EXPIRY_LOOKAHEAD_MS = 3_000;
/** ACTIVE grants this far past their expiry still count as revocations about to ask for a slot (their revoke workflow is starting). */
const EXPIRY_LOOKBACK_MS = 30_000;
/** A waiter holding a slot it was handed for longer than this without taking it up is woken again by the sweeper. */
const STALLED_HAND_OVER_MS = 30_000;
/**
 * A waiter whose workflow the sweeper's listing of running executions does not show leaves the line
 * only once it has waited this long: ListExecutions is eventually consistent, and a live waiter taken
 * out of the line would sleep until its timeout. A dead one meanwhile costs a hand-over a wasted try.
 */
const UNLISTED_WAITER_GRACE_MS = 60_000;
/** A waiter that joined this recently still looks at the slots itself once more (right after joining); a later newcomer leaves a free slot to that look. */
const NEWCOMER_SECOND_LOOK_MS = 1_000;
/** The token of a waiter that has not recorded its own yet (its state machine records it right after this task). */
export const NO_WAKE_TOKEN = '-';

export interface DynamoCreateSlotsOptions {
  tableName: string;
  slotCount?: number;
  /** Slots activations leave to revocations (default: the table layout's). */
  reservedForRevocations?: number;
  clock: Clock;
  random?: () => number;
  /** Wakes a waiter that was handed a slot; absent, waiters find their slot when they next look (tests of the slot logic alone). */
  waker?: SlotWaker;
  /** The lease a slot is handed over with (the waiter renews it when it runs again). */
  handOverLeaseMs?: number;
  /** What a waiter handed `slot` is woken with (default: the slot's key). */
  wakeOutput?: (owner: string, slot: { pk: string }) => Promise<object>;
}

const isActivationOwner = (owner: string) => owner.startsWith('activate#');

interface WaiterItem {
  pk: string;
  sk: string;
  owner: string;
  leaseExpiresAt: string;
  wakeToken?: string;
  /** When it joined the line (absent on items written before this field existed). */
  joinedAt?: string;
}

interface SlotItem {
  owner?: string;
  leaseExpiresAt?: string;
  wakeToken?: string;
  handedOverAt?: string;
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
    const { mine, free } = await this.candidates(await this.readSlots(), owner, now);
    return this.leaseOneOf([...mine, ...free], owner, leaseMs, now, mine.length);
  }

  /** The slots `owner` may lease: its own (a retried task), then free or lapsed ones from a random start, to spread contention (none for an activation at its cap). */
  private async candidates(items: Map<number, Record<string, unknown>>, owner: string, now: Date): Promise<{ mine: number[]; free: number[] }> {
    const nowIso = now.toISOString();
    const mine: number[] = [];
    const free: number[] = [];
    const start = Math.floor((this.options.random ?? Math.random)() * this.slotCount);
    for (let k = 0; k < this.slotCount; k++) {
      const i = (start + k) % this.slotCount;
      const item = items.get(i);
      if (item?.owner === owner) mine.push(i);
      else if (!item?.owner || String(item.leaseExpiresAt ?? '') < nowIso) free.push(i);
    }
    // An activation leaves the reserved slots to revocations.
    if (isActivationOwner(owner) && free.length > 0 && (await this.activationsAtCap(items, now, owner))) free.length = 0;
    return { mine, free };
  }

  /** One conditional write per slot, in order, until one is leased: its own slots all, at most LEASE_TRIES of the others. */
  private async leaseOneOf(slots: number[], owner: string, leaseMs: number, now: Date, mine: number): Promise<SlotLease | undefined> {
    const nowIso = now.toISOString();
    const leaseExpiresAt = new Date(now.getTime() + leaseMs).toISOString();
    for (const slot of slots.slice(0, mine + LEASE_TRIES)) {
      const leased = await ifConditionHolds(() =>
        this.doc.send(new UpdateCommand({ TableName: this.options.tableName, ...slotLeaseWrite(slot, owner, leaseExpiresAt, nowIso) })),
      );
      if (leased) return { slot, owner };
    }
    return undefined;
  }

  async acquireOrQueue(owner: string, place: SlotQueuePlace, leaseMs: number): Promise<SlotAdmission> {
    const key = slotWaiterKey(place.kind, place.place, owner);
    const first = await this.admitInTurn(owner, key.sk, leaseMs, false);
    if (first) return { lease: first };
    const waiter: WaiterItem = { ...key, owner, leaseExpiresAt: this.leaseUntil(leaseMs), wakeToken: NO_WAKE_TOKEN, joinedAt: this.options.clock.now().toISOString() };
    // Joining again (after a timeout) keeps the place; a token of an earlier wait is dropped with the old item.
    await this.doc.send(new PutCommand({ TableName: this.options.tableName, Item: waiter }));
    const second = await this.admitInTurn(owner, key.sk, leaseMs, true);
    if (!second) return { queued: { sk: key.sk } };
    // A slot came free meanwhile: leave the line. If a releaser claimed this waiter first, it is
    // giving it a slot (or putting it back in its place): give this one back and take that one up
    // as any waiter does (its state machine finds the waiter item gone and looks again).
    const left = await ifConditionHolds(() => this.doc.send(new DeleteCommand({ TableName: this.options.tableName, Key: key, ConditionExpression: 'attribute_exists(pk)' })));
    if (left) return { lease: second };
    await this.release(second);
    return { queued: { sk: key.sk } };
  }

  /**
   * A look at the slots for `owner`, whose place in the line is `sk`: its own slot if it holds one,
   * else a free one, but for an activation only when no activation waits ahead of it. Activations
   * are served first come, first served: a newcomer that took a free slot would pass those who wait
   * and race every other newcomer for it (a conditional write each, growing with the crowd). A slot
   * free while activations wait is one no releaser handed on (a revocation's, hands only to
   * revocations; or a reserve that shrank): once in the line (`inLine`), this look hands it to the
   * first waiter, unless that waiter joined so recently that its own second look is still to come.
   */
  private async admitInTurn(owner: string, sk: string, leaseMs: number, inLine: boolean): Promise<SlotLease | undefined> {
    const now = this.options.clock.now();
    const { mine, free } = await this.candidates(await this.readSlots(), owner, now);
    if (mine.length === 0 && free.length > 0 && isActivationOwner(owner)) {
      const ahead = await this.firstWaiter(ACTIVATION_WAITERS_PREFIX);
      if (ahead && ahead.sk < sk) {
        const settled = ahead.joinedAt === undefined || now.getTime() - Date.parse(ahead.joinedAt) >= NEWCOMER_SECOND_LOOK_MS;
        if (inLine && settled) await this.handOver(free[0]!, undefined, 1);
        return undefined;
      }
    }
    return this.leaseOneOf([...mine, ...free], owner, leaseMs, now, mine.length);
  }

  async releaseOwnedBy(owner: string): Promise<void> {
    const items = await this.readSlots();
    for (let slot = 0; slot < this.slotCount; slot++) {
      if (items.get(slot)?.owner === owner) await this.release({ slot, owner });
    }
  }

  async release(lease: SlotLease): Promise<void> {
    // Someone waits: the slot goes from its holder straight to the first waiter, never free in between,
    // so nobody who came later takes it first (and the waiter is not claimed for nothing).
    if (await this.handOver(lease.slot, lease.owner)) return;
    // Nobody (allowed) waits: give it back, then look again, for a waiter that joined meanwhile
    // (it joins before it looks at the slots a second time: one of the two sees the other).
    const released = await ifConditionHolds(() => this.doc.send(new UpdateCommand({ TableName: this.options.tableName, ...slotReleaseWrite(lease.slot, lease.owner) })));
    if (released) await this.handOver(lease.slot);
  }

  /**
   * Whether activations (other than `except`) hold every slot they may: the rest is the
   * revocations' reserve, never less than the configured one and as large as the expiries due
   * in the next few seconds (one slot always stays open to activations).
   */
  private async activationsAtCap(items: Map<number, Record<string, unknown>>, now: Date, except?: string): Promise<boolean> {
    const nowIso = now.toISOString();
    let held = 0;
    for (const item of items.values()) {
      const owner = typeof item.owner === 'string' ? item.owner : undefined;
      if (owner && owner !== except && isActivationOwner(owner) && String(item.leaseExpiresAt ?? '') >= nowIso) held++;
    }
    const reserved = this.options.reservedForRevocations ?? SLOTS_RESERVED_FOR_REVOCATIONS;
    if (held >= this.slotCount - reserved) return true;
    if (held === 0) return false;
    const due = Math.min(await this.expiriesDue(now), this.slotCount - 1);
    return held >= this.slotCount - Math.max(reserved, due);
  }

  /** How many ACTIVE grants expire within the lookahead (or just did), up to the slot count: one Query on the byStatus index, whose sort key starts with the expiry. */
  private async expiriesDue(now: Date): Promise<number> {
    const byStatus = indexKeys(INDEX.byStatus);
    const from = new Date(now.getTime() - EXPIRY_LOOKBACK_MS).toISOString();
    const to = new Date(now.getTime() + EXPIRY_LOOKAHEAD_MS).toISOString();
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.options.tableName,
        IndexName: INDEX.byStatus,
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
        ExpressionAttributeNames: { '#pk': byStatus.partitionKey, '#sk': byStatus.sortKey },
        ExpressionAttributeValues: { ':pk': statusPartition('ACTIVE'), ':from': from, ':to': `${to}~` },
        Select: 'COUNT',
        Limit: this.slotCount,
      }),
    );
    return out.Count ?? 0;
  }

  /**
   * Gives `slot` to the first waiter and wakes it: a free slot, or with `from`, the slot its holder
   * `from` passes on. False when nobody waits (or only activations, and the slot is in the
   * revocations' reserve): the slot is as it was.
   */
  private async handOver(slot: number, from?: string, tries = HAND_OVER_TRIES): Promise<boolean> {
    let holder = from;
    for (let attempt = 0; attempt < tries; attempt++) {
      // Revocations come first in the line; an activation gets the slot only outside the reserve. That
      // is found before the line is read, so the first waiter is claimed right after it is read: other
      // releasers read the same first waiter, and each one that claims it later has lost a write.
      const activationsAtCap = await this.activationsAtCap(await this.readSlots(), this.options.clock.now(), holder);
      const waiter = await this.firstWaiter();
      if (!waiter) return false;
      if (isActivationWaiter(waiter.sk) && activationsAtCap) return false;
      // Claim the waiter: another releaser may be serving the same one.
      let claimed: WaiterItem | undefined;
      const deleted = await ifConditionHolds(async () => {
        const out = await this.doc.send(new DeleteCommand({ TableName: this.options.tableName, Key: { pk: waiter.pk, sk: waiter.sk }, ConditionExpression: 'attribute_exists(pk)', ReturnValues: 'ALL_OLD' }));
        claimed = out.Attributes as WaiterItem | undefined;
      });
      if (!deleted || !claimed) continue;
      const now = this.options.clock.now().toISOString();
      const given = await ifConditionHolds(() =>
        this.doc.send(new UpdateCommand({ TableName: this.options.tableName, ...slotGiveWrite(slot, claimed!.owner, this.leaseUntil(this.options.handOverLeaseMs ?? 0, claimed!.leaseExpiresAt), now, claimed!.wakeToken ?? NO_WAKE_TOKEN, holder) })),
      );
      if (!given) {
        // Someone took the free slot first (or the holder's lease lapsed and was taken): the waiter
        // keeps its place, and that someone hands over in turn.
        await ifConditionHolds(() => this.doc.send(new PutCommand({ TableName: this.options.tableName, Item: claimed, ConditionExpression: 'attribute_not_exists(pk)' })));
        return true;
      }
      // Not waiting on a token yet: it finds the slot as its own when its state machine looks again.
      if (!claimed.wakeToken || claimed.wakeToken === NO_WAKE_TOKEN || !this.options.waker) return true;
      let woken: 'woken' | 'gone';
      try {
        woken = await this.options.waker.wake(claimed.wakeToken, await this.wakeOutput(claimed.owner, slot));
      } catch (err) {
        // Whether the waiter heard is unknown: the slot stays handed over, marked, and the sweeper's
        // repair wakes it again (a task already woken answers 'gone'). Failing this release would not
        // help: a retry finds no slot of its own to hand over.
        logger.error('could not wake the waiter handed a slot; the sweeper wakes it', { slot, owner: claimed.owner, error: err instanceof Error ? err.message : String(err) });
        return true;
      }
      if (woken === 'woken') return true;
      // Its task no longer waits (the execution ended): take the slot back for the next waiter.
      const reclaimed = await ifConditionHolds(() => this.doc.send(new UpdateCommand({ TableName: this.options.tableName, ...slotReclaimWrite(slot, claimed!.owner, now) })));
      if (!reclaimed) return true;
      // Taken back, the slot is free: the next waiter is given a free slot.
      holder = undefined;
    }
    // Every waiter tried was served by someone else: a slot still held is the caller's to give back.
    return holder === undefined;
  }

  private wakeOutput(owner: string, slot: number): Promise<object> {
    const key = { pk: slotKey(slot).pk };
    return this.options.wakeOutput ? this.options.wakeOutput(owner, key) : Promise.resolve(key);
  }

  /** The first waiter in line, or with `sortKeyPrefix`, the first of those whose keys start with it. */
  private async firstWaiter(sortKeyPrefix?: string): Promise<WaiterItem | undefined> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.options.tableName,
        KeyConditionExpression: sortKeyPrefix ? 'pk = :pk AND begins_with(sk, :prefix)' : 'pk = :pk',
        ExpressionAttributeValues: { ':pk': SLOT_WAITERS_PARTITION, ...(sortKeyPrefix ? { ':prefix': sortKeyPrefix } : {}) },
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    return out.Items?.[0] as WaiterItem | undefined;
  }

  private async waiters(): Promise<WaiterItem[]> {
    const all: WaiterItem[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({ TableName: this.options.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': SLOT_WAITERS_PARTITION }, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }),
      );
      all.push(...((out.Items ?? []) as WaiterItem[]));
      start = out.LastEvaluatedKey;
    } while (start);
    return all;
  }

  async repair(isAlive: (owner: string) => boolean): Promise<SlotRepairReport> {
    const report: SlotRepairReport = { reclaimed: 0, handedOver: 0, woken: 0, waitersRemoved: 0, waiting: 0 };
    const now = this.options.clock.now();
    const nowIso = now.toISOString();
    // Waiters whose workflow is gone leave the line (a recent one may just not be listed yet).
    const waiters: WaiterItem[] = [];
    for (const w of await this.waiters()) {
      const recent = w.joinedAt !== undefined && now.getTime() - Date.parse(w.joinedAt) < UNLISTED_WAITER_GRACE_MS;
      if (isAlive(w.owner) || recent) waiters.push(w);
      else if (await ifConditionHolds(() => this.doc.send(new DeleteCommand({ TableName: this.options.tableName, Key: { pk: w.pk, sk: w.sk }, ConditionExpression: 'attribute_exists(pk)' })))) report.waitersRemoved++;
    }
    const items = await this.readSlots();
    for (let slot = 0; slot < this.slotCount; slot++) {
      const item = (items.get(slot) ?? {}) as SlotItem;
      if (item.owner) {
        const lapsed = String(item.leaseExpiresAt ?? '') < nowIso;
        if (lapsed || !isAlive(item.owner)) {
          // Its holder died (or overran its lease): take it back and hand it on.
          const freed = await ifConditionHolds(() => this.doc.send(new UpdateCommand({ TableName: this.options.tableName, ...slotReleaseWrite(slot, item.owner!) })));
          if (freed) {
            report.reclaimed++;
            if (await this.handOver(slot)) report.handedOver++;
          }
          continue;
        }
        // Handed over, but its waiter has not taken it up: the wake-up may be lost (a crashed releaser).
        if (!this.options.waker) continue;
        const stalled = item.wakeToken && item.wakeToken !== NO_WAKE_TOKEN && item.handedOverAt && now.getTime() - Date.parse(item.handedOverAt) > STALLED_HAND_OVER_MS;
        // Still in the line while holding a slot: it is woken only if it is taken out of the line here.
        // The line was read before the slots, so the item may be gone: a releaser claimed that waiter,
        // gave it this slot and is waking it (waking it here too would make that releaser's wake-up
        // answer 'gone' and take back a slot in use).
        const listed = waiters.find((w) => w.owner === item.owner && w.wakeToken && w.wakeToken !== NO_WAKE_TOKEN);
        const takenOutOfLine =
          listed !== undefined &&
          (await ifConditionHolds(() => this.doc.send(new DeleteCommand({ TableName: this.options.tableName, Key: { pk: listed.pk, sk: listed.sk }, ConditionExpression: 'attribute_exists(pk)' }))));
        if (stalled || takenOutOfLine) {
          const token = takenOutOfLine ? listed!.wakeToken! : item.wakeToken!;
          if ((await this.options.waker.wake(token, { pk: slotKey(slot).pk })) === 'woken') report.woken++;
          // Its token is gone and its owner alive: it took the slot up; the marks go, so no later repair wakes it again.
          else if (!takenOutOfLine) await ifConditionHolds(() => this.doc.send(new UpdateCommand({ TableName: this.options.tableName, ...slotTakenUpWrite(slot, item.owner!, item.handedOverAt!) })));
        }
        continue;
      }
      // A free slot while others wait: a wake-up lost with a releaser that crashed after giving its slot back.
      if (await this.handOver(slot)) report.handedOver++;
    }
    report.waiting = (await this.waiters()).length;
    return report;
  }

  /** `leaseMs` from now, or `fallback` when no length is given. */
  private leaseUntil(leaseMs: number, fallback?: string): string {
    if (!leaseMs && fallback) return fallback;
    return new Date(this.options.clock.now().getTime() + leaseMs).toISOString();
  }
}
