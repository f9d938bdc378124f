/**
 * GrantStore and HolderStore on the grants table. Keys, items and the conditional writes
 * it shares with the state machines are lib/table's; this module sends them.
 * Every read is GetItem or Query; there is no Scan.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Grant, GrantStatus } from '../domain/grant.ts';
import { afterLeaving, canJoin, type Holder } from '../domain/holder.ts';
import { applyTransition, type TransitionRequest } from '../domain/transition.ts';
import { ConflictError, invalidCursorError } from '../errors.ts';
import type { GrantStore, HolderStore, IdempotencyRecord, Page, PageRequest } from '../ports/index.ts';
import { ifConditionHolds } from '../table/conditional.ts';
import { grantFromItem, grantItem, holderFromItem, holderItem, type Item } from '../table/grant-item.ts';
import {
  ALL_GRANTS_PARTITION,
  ALL_HOLDERS_PARTITION,
  grantKey,
  holderKey,
  idempotencyKey,
  INDEX,
  indexKeys,
  pendingRulePartition,
  principalPartition,
  statusPartition,
  TTL_ATTRIBUTE,
  type IndexName,
  type TableKey,
} from '../table/keys.ts';
import { holderRemovalWrite, transitionWrite } from '../table/prepared-writes.ts';

const IDEMPOTENCY_TTL_S = 24 * 3600;

export interface DynamoStoreOptions {
  tableName: string;
  /** Closed grants are removed by TTL this many days after they end. */
  retentionDays: number;
}

/**
 * The store's page positions: DynamoDB's LastEvaluatedKey as base64url JSON. Over HTTP they
 * travel sealed (lib/http/cursor.ts), so what reaches decodeCursor is a position the API issued;
 * the checks here keep anything else from reaching DynamoDB as a 500.
 */
export function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;
}

export function decodeCursor(cursor: string | undefined): Record<string, unknown> | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through to the validation error
  }
  throw invalidCursorError('not a cursor this API issued');
}

/**
 * A Query from a start key DynamoDB refuses (ValidationException: not the index's key, outside
 * the query's partition) is the caller's cursor, not a fault here: a 400, never a 500. It can
 * still happen with an authenticated cursor when the list behind it changed shape (an admin
 * who no longer is one, a policy whose rules moved between two pages).
 */
async function queryFrom<T>(start: Record<string, unknown> | undefined, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (err) {
    if (start && (err as { name?: unknown } | undefined)?.name === 'ValidationException') {
      throw invalidCursorError('the list it was issued for has changed');
    }
    throw err;
  }
}

const holderChanged = (key: string) => new ConflictError(`holder ${key} changed concurrently`);

export class DynamoStore implements GrantStore, HolderStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly options: DynamoStoreOptions,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    });
  }

  private get table(): string {
    return this.options.tableName;
  }

  /** Puts an item that must not exist yet; false when one does. */
  private putNew(item: Item): Promise<boolean> {
    return ifConditionHolds(() => this.doc.send(new PutCommand({ TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' })));
  }

  private async getItem(Key: TableKey): Promise<Item | undefined> {
    return (await this.doc.send(new GetCommand({ TableName: this.table, Key, ConsistentRead: true }))).Item;
  }

  /** One page of an index partition, mapped to values. */
  private async queryPage<T>(input: Omit<QueryCommandInput, 'TableName' | 'Limit' | 'ExclusiveStartKey'>, page: PageRequest, toValue: (item: Item) => T | undefined): Promise<Page<T>> {
    const start = decodeCursor(page.cursor);
    const out = await queryFrom(start, () => this.doc.send(new QueryCommand({ ...input, TableName: this.table, Limit: page.limit, ExclusiveStartKey: start })));
    const items = (out.Items ?? []).flatMap((item) => toValue(item) ?? []);
    const cursor = encodeCursor(out.LastEvaluatedKey);
    return cursor ? { items, cursor } : { items };
  }

  /** `index`'s partition `partition`, optionally narrowed on its sort key. */
  private queryIndex<T>(
    index: IndexName,
    partition: string,
    page: PageRequest,
    toValue: (item: Item) => T | undefined,
    options: { sortKeyBefore?: string; newestFirst?: boolean; filter?: Omit<QueryCommandInput, 'TableName'> } = {},
  ): Promise<Page<T>> {
    const keys = indexKeys(index);
    const { sortKeyBefore, newestFirst, filter } = options;
    return this.queryPage(
      {
        ...filter,
        IndexName: index,
        KeyConditionExpression: `${keys.partitionKey} = :pk${sortKeyBefore ? ` AND ${keys.sortKey} < :before` : ''}`,
        ExpressionAttributeValues: { ...filter?.ExpressionAttributeValues, ':pk': partition, ...(sortKeyBefore ? { ':before': sortKeyBefore } : {}) },
        ...(newestFirst ? { ScanIndexForward: false } : {}),
      },
      page,
      toValue,
    );
  }

  // ---- grants ---------------------------------------------------------------

  async create(grant: Grant): Promise<void> {
    if (!(await this.putNew(grantItem(grant, this.options.retentionDays)))) throw new ConflictError(`grant ${grant.id} already exists`);
  }

  async get(id: string): Promise<Grant | undefined> {
    const item = await this.getItem(grantKey(id));
    return item && grantFromItem(item);
  }

  async transition(req: TransitionRequest): Promise<Grant> {
    const applied = applyTransition(req);
    const write = transitionWrite(req, applied, this.options.retentionDays);
    const written = await ifConditionHolds(() => this.doc.send(new UpdateCommand({ TableName: this.table, ...write })));
    if (!written) throw new ConflictError(`grant ${req.current.id} was changed by another request; reload it and try again`);
    return applied.next;
  }

  listByPrincipal(userId: string, page: PageRequest, status?: GrantStatus): Promise<Page<Grant>> {
    const filter = status
      ? { FilterExpression: '#status = :status', ExpressionAttributeNames: { '#status': 'status' }, ExpressionAttributeValues: { ':status': status } }
      : undefined;
    return this.queryIndex(INDEX.byPrincipal, principalPartition(userId), page, grantFromItem, { newestFirst: true, ...(filter ? { filter } : {}) });
  }

  listByStatus(status: GrantStatus, page: PageRequest, deadlineBefore?: string): Promise<Page<Grant>> {
    return this.queryIndex(INDEX.byStatus, statusPartition(status), page, grantFromItem, deadlineBefore ? { sortKeyBefore: deadlineBefore } : {});
  }

  listPendingForRule(ruleId: string, page: PageRequest): Promise<Page<Grant>> {
    return this.queryIndex(INDEX.byPendingRule, pendingRulePartition(ruleId), page, grantFromItem);
  }

  listAll(page: PageRequest): Promise<Page<Grant>> {
    return this.queryIndex(INDEX.all, ALL_GRANTS_PARTITION, page, grantFromItem, { newestFirst: true });
  }

  async claimIdempotencyKey(record: IdempotencyRecord): Promise<IdempotencyRecord | undefined> {
    const Key = idempotencyKey(record.principalId, record.key);
    if (await this.putNew({ ...Key, ...record, [TTL_ATTRIBUTE]: Math.floor(Date.now() / 1000) + IDEMPOTENCY_TTL_S })) return undefined;
    const item = await this.getItem(Key);
    if (!item) throw new ConflictError('idempotency key is being released; retry the request');
    const { key, principalId, bodyHash, grantId } = item as unknown as IdempotencyRecord;
    return { key, principalId, bodyHash, grantId };
  }

  async releaseIdempotencyKey(principalId: string, key: string, grantId: string): Promise<void> {
    // A failed condition: already gone, or the key now names another grant; either way not ours to remove.
    await ifConditionHolds(() =>
      this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: idempotencyKey(principalId, key),
          ConditionExpression: 'grantId = :grantId',
          ExpressionAttributeValues: { ':grantId': grantId },
        }),
      ),
    );
  }

  // ---- holders --------------------------------------------------------------

  async getHolder(key: string): Promise<Holder | undefined> {
    const item = await this.getItem(holderKey(key));
    return item && holderFromItem(item);
  }

  async createHolder(holder: Omit<Holder, 'version'>): Promise<Holder> {
    const created: Holder = { ...holder, version: 1 };
    if (!(await this.putNew(holderItem(created)))) throw new ConflictError(`holder ${holder.key} already exists`);
    return created;
  }

  private async updateHolder(key: string, expectedVersion: number, update: string, values: Item, extraCondition = ''): Promise<Holder> {
    let updated: Item | undefined;
    const written = await ifConditionHolds(async () => {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: holderKey(key),
          UpdateExpression: `${update}, #version = :next`,
          ConditionExpression: `#version = :expected${extraCondition}`,
          ExpressionAttributeNames: { '#version': 'version', ...(`${update}${extraCondition}`.includes('#state') ? { '#state': 'state' } : {}) },
          ExpressionAttributeValues: { ...values, ':expected': expectedVersion, ':next': expectedVersion + 1 },
          ReturnValues: 'ALL_NEW',
        }),
      );
      updated = out.Attributes;
    });
    if (!written) throw holderChanged(key);
    return holderFromItem(updated ?? {});
  }

  // The version condition makes the holder as read the expectation: a holder changed since fails it.
  async joinHolder(current: Holder, grantId: string): Promise<Holder> {
    const { key, version: expectedVersion } = current;
    if (!canJoin(current)) throw holderChanged(key);
    if (current.grantIds.includes(grantId)) return current;
    return this.updateHolder(key, expectedVersion, 'SET grantIds = list_append(grantIds, :g)', { ':g': [grantId], ':present': 'PRESENT' }, ' AND #state = :present');
  }

  async leaveHolder(current: Holder, grantId: string): Promise<Holder | undefined> {
    const { key, version: expectedVersion } = current;
    const after = afterLeaving(current, grantId);
    if (after) return this.updateHolder(key, expectedVersion, 'SET grantIds = :ids, #state = :state', { ':ids': after.grantIds, ':state': after.state });
    const forgotten = await ifConditionHolds(() =>
      this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: holderKey(key),
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':expected': expectedVersion },
        }),
      ),
    );
    if (!forgotten) throw holderChanged(key);
    return undefined;
  }

  async removeDeletedHolder(key: string): Promise<void> {
    // A failed condition: already removed (a retry), or PRESENT again and so someone else's.
    await ifConditionHolds(() => this.doc.send(new DeleteCommand({ TableName: this.table, ...holderRemovalWrite(key) })));
  }

  setMembershipId(key: string, membershipId: string, expectedVersion: number): Promise<Holder> {
    return this.updateHolder(key, expectedVersion, 'SET membershipId = :m', { ':m': membershipId });
  }

  listHolders(page: PageRequest): Promise<Page<Holder>> {
    // Holders are few (one per live assignment); they share one partition of the `all` index.
    return this.queryIndex(INDEX.all, ALL_HOLDERS_PARTITION, page, holderFromItem);
  }
}
