/**
 * EventBridge PutEvents for the local cloud (awsJson 1.1, X-Amz-Target `AWSEvents.PutEvents`).
 * Entries are validated as AWS does (1-10 entries, 256 KB in all; Source, DetailType and a JSON
 * Detail on each, a failed entry answered with its ErrorCode and ErrorMessage in place), and every
 * accepted entry is appended, as the event a rule's target would receive plus the bus it went to,
 * one JSON object a line, to `events.jsonl` in the data folder (`tail -f` it), and kept in `events`.
 * There are no rules or targets: consumers read the file.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { AwsError, type JsonService, type JsonServiceContext } from './protocol/aws.ts';

/** An event as EventBridge delivers it to a target, and the bus it was put on. */
export interface LocalEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
  'event-bus-name': string;
}

export interface LocalEventBridgeOptions {
  /** Where accepted events are appended (one JSON object a line); without it they are only kept in memory. */
  file?: string;
  /** Buses besides `default` that exist (PutEvents to another is ResourceNotFoundException). */
  buses?: string[];
  now?: () => number;
}

/** AWS's limit on the summed size of a PutEvents request's entries. */
export const MAX_PUT_EVENTS_BYTES = 256 * 1024;
const MAX_ENTRIES = 10;

type EntryAnswer = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

const required = (member: string): EntryAnswer => ({ ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${member} is not valid. Reason: ${member} is a required argument.` });

/** The size AWS counts for an entry: Time (14 bytes when given), Source, DetailType, Detail and Resources, in UTF-8. */
function entrySize(entry: Record<string, unknown>): number {
  const bytes = (v: unknown) => (typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : 0);
  const resources = Array.isArray(entry.Resources) ? entry.Resources.reduce((n: number, r) => n + bytes(r), 0) : 0;
  return (entry.Time !== undefined ? 14 : 0) + bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail) + resources;
}

export class LocalEventBridge implements JsonService {
  readonly targetPrefixes = ['AWSEvents'];
  /** Every accepted event, in order. */
  readonly events: LocalEvent[] = [];
  private readonly buses: Set<string>;
  private readonly now: () => number;
  /** Fault injection: each predicate fails the first accepted entry it matches, once. */
  private readonly entryFaults: ((entry: Record<string, unknown>) => boolean)[] = [];

  constructor(private readonly options: LocalEventBridgeOptions = {}) {
    this.buses = new Set(['default', ...(options.buses ?? [])]);
    this.now = options.now ?? Date.now;
    if (options.file) mkdirSync(path.dirname(options.file), { recursive: true });
  }

  /** The next entry `matches` accepts fails with InternalFailure instead (as AWS answers a transient fault), once. */
  failEntryOnce(matches: (entry: { Source?: string; DetailType?: string; Detail?: string }) => boolean): void {
    this.entryFaults.push(matches as (entry: Record<string, unknown>) => boolean);
  }

  async handle(operation: string, input: Record<string, unknown>, ctx: JsonServiceContext): Promise<unknown> {
    if (operation !== 'PutEvents') throw new AwsError('UnknownOperationException', `Local EventBridge does not implement ${operation}`);
    const entries = input.Entries;
    if (!Array.isArray(entries) || entries.length === 0) {
      throw new AwsError('ValidationException', "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null");
    }
    if (entries.length > MAX_ENTRIES) {
      throw new AwsError('ValidationException', "1 validation error detected: Value '[PutEventsRequestEntry]' at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10");
    }
    const list = entries.map((e) => (e && typeof e === 'object' ? (e as Record<string, unknown>) : {}));
    if (list.reduce((n, e) => n + entrySize(e), 0) > MAX_PUT_EVENTS_BYTES) {
      throw new AwsError('ValidationException', 'Total size of the entries in the request is over the limit.');
    }
    for (const e of list) {
      const bus = this.busName(e.EventBusName);
      if (!this.buses.has(bus)) throw new AwsError('ResourceNotFoundException', `Event bus ${bus} does not exist.`);
    }
    const answers = list.map((e) => this.put(e, ctx));
    return { FailedEntryCount: answers.filter((a) => 'ErrorCode' in a).length, Entries: answers };
  }

  /** A bus name, or the name in a bus ARN; absent is `default`. */
  private busName(value: unknown): string {
    const name = typeof value === 'string' && value !== '' ? value : 'default';
    return name.startsWith('arn:') ? name.slice(name.indexOf(':event-bus/') + ':event-bus/'.length) : name;
  }

  private put(entry: Record<string, unknown>, ctx: JsonServiceContext): EntryAnswer {
    if (typeof entry.Source !== 'string' || entry.Source === '') return required('Source');
    if (typeof entry.DetailType !== 'string' || entry.DetailType === '') return required('DetailType');
    if (typeof entry.Detail !== 'string' || entry.Detail === '') return required('Detail');
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail);
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    const fault = this.entryFaults.findIndex((matches) => matches(entry));
    if (fault >= 0) {
      this.entryFaults.splice(fault, 1);
      return { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal failure' };
    }
    const time = typeof entry.Time === 'number' ? entry.Time * 1000 : this.now();
    const event: LocalEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType,
      source: entry.Source,
      account: ctx.accountId,
      time: new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: ctx.region,
      resources: Array.isArray(entry.Resources) ? entry.Resources.filter((r): r is string => typeof r === 'string') : [],
      detail,
      'event-bus-name': this.busName(entry.EventBusName),
    };
    this.events.push(event);
    if (this.options.file) appendFileSync(this.options.file, `${JSON.stringify(event)}\n`);
    return { EventId: event.id };
  }
}
