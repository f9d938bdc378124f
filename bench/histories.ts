/**
 * What the workflows bench reads from execution histories (cost, time per state, slot holds) and
 * from the local cloud's request observer (DynamoDB requests on the slot items).
 */
import { DYNAMO_WRITE_OPERATIONS, requestPartitionKeys } from '../local/dynamodb-faults.ts';
import type { EdgeRequest } from '../local/edge.ts';
import type { ExecutionRecord, HistoryEvent } from '../local/stepfunctions/service.ts';
import layout from '../lib/table/layout.cjs';
import { fmt } from './report.ts';

export interface ExecutionCost {
  transitions: number;
  lambdaInvocations: number;
  failedTasks: number;
}

/**
 * Billed state transitions (every state entered, plus every Retry attempt: AWS bills retries
 * as transitions and the local history has no StateEntered for them) and Lambda invocations
 * (every attempt of a Lambda Task).
 */
export function executionCost(history: HistoryEvent[]): ExecutionCost {
  let entered = 0;
  let lambda = 0;
  let failed = 0;
  let retries = 0;
  for (const [i, e] of history.entries()) {
    if (e.type.endsWith('StateEntered')) entered++;
    const resourceType = e.details?.value.resourceType;
    if ((e.type === 'TaskSucceeded' || e.type === 'TaskFailed') && resourceType === 'lambda') lambda++;
    if (e.type === 'TaskFailed') {
      failed++;
      // A retry runs the same state again with no new StateEntered: the next event is the same Task's outcome.
      const next = history[i + 1];
      if (next && (next.type === 'TaskSucceeded' || next.type === 'TaskFailed')) retries++;
    }
  }
  return { transitions: entered + retries, lambdaInvocations: lambda, failedTasks: failed };
}

/** Milliseconds spent in each state (entered → next state entered or execution end), summed per state name. */
function stateTimes(record: ExecutionRecord, into: Map<string, number[]>): void {
  const entered = record.history.filter((e) => e.type.endsWith('StateEntered'));
  const end = record.stopDate ?? record.history.at(-1)?.timestamp ?? Date.now();
  const perState = new Map<string, number>();
  for (const [i, e] of entered.entries()) {
    const name = String(e.details?.value.name);
    const until = entered[i + 1]?.timestamp ?? end;
    perState.set(name, (perState.get(name) ?? 0) + (until - e.timestamp));
  }
  for (const [name, ms] of perState) into.set(name, [...(into.get(name) ?? []), ms]);
}

/**
 * When a grant execution held its create slot (epoch ms): from the exit of the task that sent it to
 * CreateAssignment (the PrepareActivation run that took the slot, or the WaitForSlot that was woken
 * with its plan on a slot handed over) to CompleteActivation entered (which gives the slot back).
 */
export function slotInterval(record: ExecutionRecord): [number, number] | undefined {
  const named = (type: string, name: string) => (e: HistoryEvent) => e.type === type && e.details?.value.name === name;
  const create = record.history.findIndex(named('TaskStateEntered', 'CreateAssignment'));
  if (create < 0) return undefined;
  const leased = record.history.slice(0, create).findLast((e) => named('TaskStateExited', 'PrepareActivation')(e) || named('TaskStateExited', 'WaitForSlot')(e))?.timestamp;
  const released = record.history.slice(create).find(named('TaskStateEntered', 'CompleteActivation'))?.timestamp;
  return leased !== undefined && released !== undefined ? [leased, released] : undefined;
}

export function slotHoldMs(record: ExecutionRecord): number | undefined {
  const interval = slotInterval(record);
  return interval && interval[1] - interval[0];
}

/** Average slots in use in each tenth of [from, to). */
export function slotsInUseByTenth(records: ExecutionRecord[], from: number, to: number): number[] {
  const tenth = (to - from) / 10;
  const held = Array.from({ length: 10 }, () => 0);
  for (const interval of records.map(slotInterval)) {
    if (!interval) continue;
    for (let i = 0; i < 10; i++) {
      const start = from + i * tenth;
      held[i]! += Math.max(0, Math.min(interval[1], start + tenth) - Math.max(interval[0], start));
    }
  }
  return held.map((ms) => ms / tenth);
}

function failedTaskErrors(records: ExecutionRecord[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of records) {
    for (const e of r.history) {
      if (e.type !== 'TaskFailed') continue;
      const key = `${String(e.details?.value.resource ?? '')}: ${String(e.details?.value.error)}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

export function profileTable(records: ExecutionRecord[]): string[] {
  const times = new Map<string, number[]>();
  for (const r of records) stateTimes(r, times);
  const rows = [...times.entries()].map(([name, ms]) => ({ name, total: ms.reduce((a, b) => a + b, 0), runs: ms.length }));
  const all = rows.reduce((a, r) => a + r.total, 0);
  rows.sort((a, b) => b.total - a.total);
  return [
    '| state | executions | mean ms per execution | share |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${r.runs} | ${fmt(r.total / records.length, 0)} | ${fmt((100 * r.total) / all, 0)}% |`),
  ];
}

export function errorLines(records: ExecutionRecord[]): string[] {
  const errors = [...failedTaskErrors(records).entries()].sort((a, b) => b[1] - a[1]);
  if (errors.length === 0) return ['No Task attempt failed (no Retry was needed).'];
  return ['Failed Task attempts (each retried or caught by the definition):', '', ...errors.map(([k, n]) => `- ${k}: ${n}`)];
}

// ---- DynamoDB requests on the slot items, from the local cloud's request observer ----------

export interface SlotRequestCounts {
  writes: number;
  queries: number;
  /** GetItem / BatchGetItem naming a slot item. */
  reads: number;
  /** The writes by what they do (slotWriteKind). */
  writesByKind: Record<string, number>;
}

const SLOT_WAITERS_PK = `${layout.KEY_PREFIX.slot}${layout.SLOT_WAITERS}`;

/** What a write on the slot items does, read from the request alone (whether its condition held is not seen). */
export function slotWriteKind(operation: string, input: Record<string, unknown>): string {
  const update = String(input.UpdateExpression ?? '');
  const condition = String(input.ConditionExpression ?? '');
  if (requestPartitionKeys(operation, input).includes(SLOT_WAITERS_PK)) {
    if (operation === 'PutItem') return condition ? 'line: put back (hand-over lost its slot)' : 'line: joins';
    if (operation === 'DeleteItem') return input.ReturnValues === 'ALL_OLD' ? 'line: claimed by a releaser' : 'line: leaves (or removed by the sweeper)';
    if (update.includes('#wakeToken = :token')) return 'line: records its wake-up token';
    return `line: other ${operation}`;
  }
  if (operation !== 'UpdateItem') return `slot: other ${operation}`;
  if (update.startsWith('SET #owner = :owner, #leaseExpiresAt = :leaseExpiresAt REMOVE')) return 'slot: lease try';
  if (update.includes('#handedOverAt = :now')) return 'slot: given to a waiter';
  if (update.startsWith('REMOVE #owner')) return condition.includes('handedOverAt') ? 'slot: reclaimed' : 'slot: released';
  if (update.startsWith('REMOVE #wakeToken')) return 'slot: hand-over marks cleared';
  return 'slot: other UpdateItem';
}

export const SLOT_PREFIX = layout.KEY_PREFIX.slot;
const ACTIVATION_OWNER = /activate#([A-Za-z0-9_-]+)/;

/**
 * The activation a slot write serves: the owner it names (a lease, a release, the line's waiter
 * item, its token), and for a hand-over the waiter that receives the slot, not the releaser
 * (`:self`). Undefined for revocations' writes.
 */
function servedActivation(input: unknown): string | undefined {
  const request = input as { ExpressionAttributeValues?: Record<string, unknown> };
  const values = request.ExpressionAttributeValues;
  const named = values && ':self' in values ? { ...request, ExpressionAttributeValues: { ...values, ':self': undefined } } : input;
  return ACTIVATION_OWNER.exec(JSON.stringify(named))?.[1];
}
const WRITES: ReadonlySet<string> = new Set(DYNAMO_WRITE_OPERATIONS);

export type LeaseTryMoment = 'on arrival' | 'in the line' | 'after a hand-over';

/**
 * DynamoDB requests that name an item of the slot partitions (the slots and the line of waiters),
 * by kind. Every request is counted as sent, so an SDK retry and a dropped request count too.
 */
export class SlotRequestCounter {
  private readonly counts: SlotRequestCounts = { writes: 0, queries: 0, reads: 0, writesByKind: {} };
  /** The kinds of the writes made for each activation, in the order they were sent. */
  private readonly kindsByGrant = new Map<string, string[]>();
  readonly observe = (request: EdgeRequest): void => {
    if (request.service !== 'dynamodb') return;
    if (!requestPartitionKeys(request.operation, request.input).some((pk) => pk.startsWith(SLOT_PREFIX))) return;
    if (WRITES.has(request.operation)) {
      this.counts.writes++;
      const kind = slotWriteKind(request.operation, request.input);
      this.counts.writesByKind[kind] = (this.counts.writesByKind[kind] ?? 0) + 1;
      const grantId = servedActivation(request.input);
      if (grantId) {
        const kinds = this.kindsByGrant.get(grantId) ?? [];
        kinds.push(kind);
        this.kindsByGrant.set(grantId, kinds);
      }
    } else if (request.operation === 'Query') this.counts.queries++;
    else this.counts.reads++;
  };
  /** Slot writes made for this grant's activation (see servedActivation), every attempt counted. */
  writesFor(grantId: string): number {
    return this.kindsByGrant.get(grantId)?.length ?? 0;
  }
  /**
   * The lease tries made for these grants' activations, by when each came in the grant's own
   * sequence of writes: before it joined the line (it found a slot looking free on arrival), while
   * in the line (before a slot was given to it), or after a slot was given to it (taking it up).
   */
  leaseTriesByMoment(grantIds: Iterable<string>): Record<LeaseTryMoment, number> {
    const out: Record<LeaseTryMoment, number> = { 'on arrival': 0, 'in the line': 0, 'after a hand-over': 0 };
    for (const id of grantIds) {
      let joined = false;
      let given = false;
      for (const kind of this.kindsByGrant.get(id) ?? []) {
        if (kind === 'line: joins') joined = true;
        else if (kind === 'slot: given to a waiter') given = true;
        else if (kind === 'slot: lease try') out[given ? 'after a hand-over' : joined ? 'in the line' : 'on arrival']++;
      }
    }
    return out;
  }
  snapshot(): SlotRequestCounts {
    return { ...this.counts, writesByKind: { ...this.counts.writesByKind } };
  }
  since(before: SlotRequestCounts): SlotRequestCounts {
    const writesByKind: Record<string, number> = {};
    for (const [kind, n] of Object.entries(this.counts.writesByKind)) if (n > (before.writesByKind[kind] ?? 0)) writesByKind[kind] = n - (before.writesByKind[kind] ?? 0);
    return { writes: this.counts.writes - before.writes, queries: this.counts.queries - before.queries, reads: this.counts.reads - before.reads, writesByKind };
  }
}
