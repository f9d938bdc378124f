/**
 * The audit trail on the grants table: one item per history entry, under the month of its
 * instant (keys in lib/table/keys.ts). A time range is read newest first, one Query per month
 * it reaches into; a user's or an account's entries are one index partition, read with the
 * range as the sort-key condition. Every read is a Query; there is no Scan.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { AppendedEvent, GrantEvent } from '../events/grant-event.ts';
import { invalidCursorError } from '../errors.ts';
import type { AuditQuery, AuditTrail, Page, PageRequest } from '../ports/index.ts';
import { AUDIT_INDEX, auditAccountPartition, auditMonthPartition, auditSortKey, auditUserPartition, indexKeys } from '../table/keys.ts';
import { withAwsRetry } from './aws-retry.ts';

/**
 * Queries one page may make walking month partitions. A range reaching over many empty months
 * answers a short (even empty) page with a cursor instead of reading on: a page stays a handful
 * of Queries whatever the range, and the list ends only when there is no cursor.
 */
export const MAX_QUERIES_PER_PAGE = 6;

/** `2026-11-30T…` → `2026-11`. */
const monthOf = (at: string) => at.slice(0, 7);

/** The month before `yyyy-mm`. */
function previousMonth(month: string): string {
  const [year, m] = month.split('-').map(Number) as [number, number];
  return m === 1 ? `${year - 1}-12` : `${year}-${String(m - 1).padStart(2, '0')}`;
}

/** The last month a range [from, to) reaches: the month of the last millisecond before `to`. */
const lastMonthOf = (to: string) => monthOf(new Date(Date.parse(to) - 1).toISOString());

/** Where the next page starts: a month partition (time range without filter) and the Query's start key in it. */
interface Position {
  month?: string;
  key?: Record<string, unknown>;
}

function encodePosition(position: Position): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

function decodePosition(cursor: string): Position {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const { month, key } = value as Position;
      const monthOk = month === undefined || (typeof month === 'string' && /^\d{4}-\d{2}$/.test(month));
      const keyOk = key === undefined || (typeof key === 'object' && key !== null && !Array.isArray(key));
      if (monthOk && keyOk) return { ...(month ? { month } : {}), ...(key ? { key } : {}) };
    }
  } catch {
    // fall through
  }
  throw invalidCursorError('not a cursor this API issued');
}

export class DynamoAuditTrail implements AuditTrail {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  /** The item of one entry: its keys and the event as written. No TTL: the trail outlives the grants it tells of. */
  static item({ position, event }: AppendedEvent): Record<string, unknown> {
    const sk = auditSortKey(event.at, event.grantId, position);
    const byUser = indexKeys(AUDIT_INDEX.byUser);
    const byAccount = indexKeys(AUDIT_INDEX.byAccount);
    return {
      pk: auditMonthPartition(monthOf(event.at)),
      sk,
      [byUser.partitionKey]: auditUserPartition(event.principal.userName),
      [byUser.sortKey]: sk,
      ...(event.target.type === 'account' ? { [byAccount.partitionKey]: auditAccountPartition(event.target.accountId), [byAccount.sortKey]: sk } : {}),
      entry: event,
    };
  }

  async record(entries: readonly AppendedEvent[]): Promise<void> {
    // A plain put: the same entry always makes the same item, so a replay rewrites it unchanged.
    await Promise.all(entries.map((e) => withAwsRetry(() => this.doc.send(new PutCommand({ TableName: this.tableName, Item: DynamoAuditTrail.item(e) })))));
  }

  async page(query: AuditQuery, page: PageRequest): Promise<Page<GrantEvent>> {
    const start = page.cursor === undefined ? {} : decodePosition(page.cursor);
    const range = { ':from': query.from, ':to': query.to };
    if (query.user !== undefined || query.account !== undefined) {
      // One index partition holds the user's (or account's) entries of every month.
      const index = query.user !== undefined ? AUDIT_INDEX.byUser : AUDIT_INDEX.byAccount;
      const keys = indexKeys(index);
      const partition = query.user !== undefined ? auditUserPartition(query.user) : auditAccountPartition(query.account!);
      // Both filters: the user's partition, narrowed to the account (a user's entries are few).
      const both = query.user !== undefined && query.account !== undefined;
      const out = await this.query(
        {
          IndexName: index,
          KeyConditionExpression: `${keys.partitionKey} = :pk AND ${keys.sortKey} BETWEEN :from AND :to`,
          ...(both ? { FilterExpression: '#entry.#target.accountId = :account', ExpressionAttributeNames: { '#entry': 'entry', '#target': 'target' } } : {}),
          ExpressionAttributeValues: { ':pk': partition, ...range, ...(both ? { ':account': query.account } : {}) },
        },
        page.limit,
        start.key,
      );
      const items = out.items;
      return out.next ? { items, cursor: encodePosition({ key: out.next }) } : { items };
    }

    // The range alone: month partitions from the last the range reaches back to the first.
    const first = monthOf(query.from);
    let month = start.month ?? lastMonthOf(query.to);
    let key = start.key;
    const items: GrantEvent[] = [];
    for (let queries = 0; month >= first; queries++) {
      if (queries === MAX_QUERIES_PER_PAGE) return { items, cursor: encodePosition({ month, ...(key ? { key } : {}) }) };
      const out = await this.query(
        { KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to', ExpressionAttributeValues: { ':pk': auditMonthPartition(month), ...range } },
        page.limit - items.length,
        key,
      );
      items.push(...out.items);
      if (out.next) {
        if (items.length >= page.limit) return { items, cursor: encodePosition({ month, key: out.next }) };
        key = out.next;
        continue;
      }
      key = undefined;
      month = previousMonth(month);
      if (items.length >= page.limit) return month >= first ? { items, cursor: encodePosition({ month }) } : { items };
    }
    return { items };
  }

  /** One Query, newest first; a start key DynamoDB refuses is the caller's cursor (400), not a fault here. */
  private async query(input: Omit<QueryCommandInput, 'TableName' | 'Limit' | 'ExclusiveStartKey' | 'ScanIndexForward'>, limit: number, start: Record<string, unknown> | undefined) {
    let out;
    try {
      out = await this.doc.send(new QueryCommand({ ...input, TableName: this.tableName, Limit: limit, ScanIndexForward: false, ...(start ? { ExclusiveStartKey: start } : {}) }));
    } catch (err) {
      if (start && (err as { name?: unknown }).name === 'ValidationException') throw invalidCursorError('the list it was issued for has changed');
      throw err;
    }
    return { items: (out.Items ?? []).map((item) => item.entry as GrantEvent), next: out.LastEvaluatedKey };
  }
}
