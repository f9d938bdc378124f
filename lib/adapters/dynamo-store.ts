/**
 * GrantStore and HolderStore on one DynamoDB table (pk/sk + four GSIs).
 *
 * Item layout:
 *   grant        pk GRANT#<id>              sk GRANT
 *                gsi1 USER#<userId> / <id>                 a principal's grants, newest first (ULIDs sort by time)
 *                gsi2 STATUS#<status> / <deadline>#<id>    grants by status ordered by their deadline
 *                gsi3 PENDING#<ruleId> / <requestedAt>#<id> only while PENDING_APPROVAL (sparse)
 *                gsi4 GRANT / <id>                         every grant, for admins
 *   holder       pk HOLDER#<assignment key> sk HOLDER
 *   idempotency  pk IDEMPOTENCY#<principal>#<key> sk IDEMPOTENCY
 * Every read is GetItem or Query; there is no Scan.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { canTransition, isTerminal, type Grant, type GrantStatus, type HistoryEntry } from '../domain/grant.ts';
import { ConflictError, invalidCursorError } from '../errors.ts';
import type {
  GrantStore,
  Holder,
  HolderStore,
  IdempotencyRecord,
  Page,
  PageRequest,
  TransitionRequest,
} from '../ports.ts';

export const INDEX = {
  byPrincipal: 'byPrincipal',
  byStatus: 'byStatus',
  byPendingRule: 'byPendingRule',
  all: 'all',
} as const;

const IDEMPOTENCY_TTL_S = 24 * 3600;
const DAY_S = 86400;

export interface DynamoStoreOptions {
  tableName: string;
  /** Closed grants are removed by TTL this many days after they end. */
  retentionDays: number;
}

type Item = Record<string, unknown>;

const GRANT_KEY_ATTRS = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'gsi3pk', 'gsi3sk', 'gsi4pk', 'gsi4sk', 'ttl'];

/** The instant that orders a grant within its status: what the sweeper and expiry jobs wait for. */
export function grantDeadline(g: Pick<Grant, 'status' | 'expiresAt' | 'pendingExpiresAt' | 'startsAt' | 'requestedAt'>): string {
  switch (g.status) {
    case 'ACTIVE':
    case 'REVOKING':
      return g.expiresAt ?? g.requestedAt;
    case 'PENDING_APPROVAL':
      return g.pendingExpiresAt ?? g.requestedAt;
    case 'SCHEDULED':
      return g.startsAt ?? g.requestedAt;
    default:
      return g.requestedAt;
  }
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

/** Epoch seconds at which a closed grant's item expires (TTL); undefined while it is open. */
export function closedGrantTtl(g: Grant, retentionDays: number): number | undefined {
  if (!isTerminal(g.status)) return undefined;
  const ended = Date.parse(g.endedAt ?? g.history.at(-1)?.at ?? g.requestedAt);
  return Math.floor(ended / 1000) + retentionDays * DAY_S;
}

export interface TransitionUpdate {
  Key: { pk: string; sk: string };
  UpdateExpression: string;
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
}

/**
 * The one definition of a status change as a DynamoDB write: conditional on the
 * grant's status and version, the history entry appended in the same write, the
 * by-status index keys moved, the pending index left, the TTL of a closed grant set.
 * DynamoStore.transition sends it; the revoke workflow's final write (a state machine
 * DynamoDB task) sends the same update, prepared by lib/adapters/prepared-transition.ts.
 */
export function transitionUpdate(req: TransitionRequest, retentionDays: number): { next: Grant; update: TransitionUpdate } {
  const { current, to } = req;
  if (!canTransition(current.status, to)) {
    throw new ConflictError(`grant ${current.id} is ${current.status}; it cannot become ${to}`);
  }
  const entry: HistoryEntry = { ...req.entry, from: current.status, to };
  const next: Grant = { ...current, status: to, version: current.version + 1, history: [...current.history, entry] };
  const set: Record<string, unknown> = { ...req.set };
  for (const [k, v] of Object.entries(set)) {
    if (v === undefined) delete (next as unknown as Item)[k];
    else (next as unknown as Item)[k] = v;
  }

  const names: Record<string, string> = { '#status': 'status', '#version': 'version', '#history': 'history' };
  const values: Record<string, unknown> = {
    ':expectedStatus': current.status,
    ':expectedVersion': current.version,
    ':to': to,
    ':nextVersion': next.version,
    ':entry': [entry],
    ':gsi2pk': `STATUS#${to}`,
    ':gsi2sk': `${grantDeadline(next)}#${next.id}`,
  };
  const sets = ['#status = :to', '#version = :nextVersion', '#history = list_append(#history, :entry)', 'gsi2pk = :gsi2pk', 'gsi2sk = :gsi2sk'];
  const removes: string[] = [];
  let i = 0;
  for (const [k, v] of Object.entries(set)) {
    const n = `#f${i}`;
    names[n] = k;
    if (v === undefined) removes.push(n);
    else {
      values[`:f${i}`] = v;
      sets.push(`${n} = :f${i}`);
    }
    i++;
  }
  if (current.status === 'PENDING_APPROVAL' && to !== 'PENDING_APPROVAL') removes.push('gsi3pk', 'gsi3sk');
  const ttl = closedGrantTtl(next, retentionDays);
  if (ttl !== undefined) {
    values[':ttl'] = ttl;
    sets.push('#ttl = :ttl');
    names['#ttl'] = 'ttl';
  }
  return {
    next,
    update: {
      Key: { pk: `GRANT#${current.id}`, sk: 'GRANT' },
      UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
      ConditionExpression: '#status = :expectedStatus AND #version = :expectedVersion',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  };
}

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

  // ---- grants ---------------------------------------------------------------

  private grantItem(g: Grant): Item {
    const item: Item = {
      ...g,
      pk: `GRANT#${g.id}`,
      sk: 'GRANT',
      gsi1pk: `USER#${g.principal.userId}`,
      gsi1sk: g.id,
      gsi2pk: `STATUS#${g.status}`,
      gsi2sk: `${grantDeadline(g)}#${g.id}`,
      gsi4pk: 'GRANT',
      gsi4sk: g.id,
    };
    if (g.status === 'PENDING_APPROVAL') {
      item.gsi3pk = `PENDING#${g.ruleId}`;
      item.gsi3sk = `${g.requestedAt}#${g.id}`;
    }
    const ttl = this.ttlFor(g);
    if (ttl !== undefined) item.ttl = ttl;
    return item;
  }

  private ttlFor(g: Grant): number | undefined {
    return closedGrantTtl(g, this.options.retentionDays);
  }

  private static toGrant(item: Item): Grant {
    const copy: Item = { ...item };
    for (const k of GRANT_KEY_ATTRS) delete copy[k];
    return copy as unknown as Grant;
  }

  async create(grant: Grant): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: this.grantItem(grant),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw new ConflictError(`grant ${grant.id} already exists`);
      throw err;
    }
  }

  async get(id: string): Promise<Grant | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: `GRANT#${id}`, sk: 'GRANT' }, ConsistentRead: true }),
    );
    return out.Item ? DynamoStore.toGrant(out.Item) : undefined;
  }

  async transition(req: TransitionRequest): Promise<Grant> {
    const { next, update } = transitionUpdate(req, this.options.retentionDays);
    try {
      await this.doc.send(new UpdateCommand({ TableName: this.table, ...update }));
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        throw new ConflictError(`grant ${req.current.id} was changed by another request; reload it and try again`);
      }
      throw err;
    }
    return next;
  }

  private async queryGrants(input: Omit<QueryCommandInput, 'TableName'>, page: PageRequest): Promise<Page<Grant>> {
    const start = decodeCursor(page.cursor);
    const out = await queryFrom(start, () =>
      this.doc.send(
        new QueryCommand({
          ...input,
          TableName: this.table,
          Limit: page.limit,
          ExclusiveStartKey: start,
        }),
      ),
    );
    const items = (out.Items ?? []).map(DynamoStore.toGrant);
    const cursor = encodeCursor(out.LastEvaluatedKey);
    return cursor ? { items, cursor } : { items };
  }

  listByPrincipal(userId: string, page: PageRequest, status?: GrantStatus): Promise<Page<Grant>> {
    return this.queryGrants(
      {
        IndexName: INDEX.byPrincipal,
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': `USER#${userId}`, ...(status ? { ':status': status } : {}) },
        ...(status ? { FilterExpression: '#status = :status', ExpressionAttributeNames: { '#status': 'status' } } : {}),
        ScanIndexForward: false,
      },
      page,
    );
  }

  listByStatus(status: GrantStatus, page: PageRequest, deadlineBefore?: string): Promise<Page<Grant>> {
    return this.queryGrants(
      {
        IndexName: INDEX.byStatus,
        KeyConditionExpression: deadlineBefore ? 'gsi2pk = :pk AND gsi2sk < :before' : 'gsi2pk = :pk',
        ExpressionAttributeValues: { ':pk': `STATUS#${status}`, ...(deadlineBefore ? { ':before': deadlineBefore } : {}) },
      },
      page,
    );
  }

  listPendingForRule(ruleId: string, page: PageRequest): Promise<Page<Grant>> {
    return this.queryGrants(
      {
        IndexName: INDEX.byPendingRule,
        KeyConditionExpression: 'gsi3pk = :pk',
        ExpressionAttributeValues: { ':pk': `PENDING#${ruleId}` },
      },
      page,
    );
  }

  listAll(page: PageRequest): Promise<Page<Grant>> {
    return this.queryGrants(
      {
        IndexName: INDEX.all,
        KeyConditionExpression: 'gsi4pk = :pk',
        ExpressionAttributeValues: { ':pk': 'GRANT' },
        ScanIndexForward: false,
      },
      page,
    );
  }

  async claimIdempotencyKey(record: IdempotencyRecord): Promise<IdempotencyRecord | undefined> {
    const Key = { pk: `IDEMPOTENCY#${record.principalId}#${record.key}`, sk: 'IDEMPOTENCY' };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...Key, ...record, ttl: Math.floor(Date.now() / 1000) + IDEMPOTENCY_TTL_S },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return undefined;
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key, ConsistentRead: true }));
    if (!out.Item) throw new ConflictError('idempotency key is being released; retry the request');
    const { key, principalId, bodyHash, grantId } = out.Item as IdempotencyRecord;
    return { key, principalId, bodyHash, grantId };
  }

  async releaseIdempotencyKey(principalId: string, key: string, grantId: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: `IDEMPOTENCY#${principalId}#${key}`, sk: 'IDEMPOTENCY' },
          ConditionExpression: 'grantId = :grantId',
          ExpressionAttributeValues: { ':grantId': grantId },
        }),
      );
    } catch (err) {
      // Already gone, or the key now names another grant: either way not ours to remove.
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  // ---- holders --------------------------------------------------------------

  private static holderKey(key: string) {
    return { pk: `HOLDER#${key}`, sk: 'HOLDER' };
  }

  private static toHolder(item: Item): Holder {
    const { pk: _pk, sk: _sk, gsi4pk: _g4pk, gsi4sk: _g4sk, ...rest } = item;
    return rest as unknown as Holder;
  }

  async getHolder(key: string): Promise<Holder | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: DynamoStore.holderKey(key), ConsistentRead: true }),
    );
    return out.Item ? DynamoStore.toHolder(out.Item) : undefined;
  }

  async createHolder(holder: Omit<Holder, 'version'>): Promise<Holder> {
    const created: Holder = { ...holder, version: 1 };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...DynamoStore.holderKey(holder.key), gsi4pk: 'HOLDER', gsi4sk: holder.key, ...created },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw new ConflictError(`holder ${holder.key} already exists`);
      throw err;
    }
    return created;
  }

  private async updateHolder(key: string, expectedVersion: number, update: string, values: Item, extraCondition = ''): Promise<Holder> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: DynamoStore.holderKey(key),
          UpdateExpression: `${update}, #version = :next`,
          ConditionExpression: `#version = :expected${extraCondition}`,
          ExpressionAttributeNames: { '#version': 'version', ...(`${update}${extraCondition}`.includes('#state') ? { '#state': 'state' } : {}) },
          ExpressionAttributeValues: { ...values, ':expected': expectedVersion, ':next': expectedVersion + 1 },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return DynamoStore.toHolder(out.Attributes ?? {});
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw new ConflictError(`holder ${key} changed concurrently`);
      throw err;
    }
  }

  async joinHolder(key: string, grantId: string, expectedVersion: number): Promise<Holder> {
    const current = await this.getHolder(key);
    if (!current || current.version !== expectedVersion || current.state !== 'PRESENT') {
      throw new ConflictError(`holder ${key} changed concurrently`);
    }
    if (current.grantIds.includes(grantId)) return current;
    return this.updateHolder(key, expectedVersion, 'SET grantIds = list_append(grantIds, :g)', { ':g': [grantId], ':present': 'PRESENT' }, ' AND #state = :present');
  }

  async leaveHolder(key: string, grantId: string, expectedVersion: number): Promise<Holder | undefined> {
    const current = await this.getHolder(key);
    if (!current || current.version !== expectedVersion) throw new ConflictError(`holder ${key} changed concurrently`);
    const remaining = current.grantIds.filter((g) => g !== grantId);
    if (remaining.length > 0 || current.managed) {
      const state = remaining.length > 0 ? 'PRESENT' : 'DELETING';
      return this.updateHolder(key, expectedVersion, 'SET grantIds = :ids, #state = :state', { ':ids': remaining, ':state': state });
    }
    // Unmanaged (pre-existing) access: the last holder leaving just forgets it.
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: DynamoStore.holderKey(key),
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':expected': expectedVersion },
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw new ConflictError(`holder ${key} changed concurrently`);
      throw err;
    }
    return undefined;
  }

  async removeDeletedHolder(key: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: DynamoStore.holderKey(key),
          ConditionExpression: '#state = :deleting',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':deleting': 'DELETING' },
        }),
      );
    } catch (err) {
      // Already removed (a retry) is success; a holder that is PRESENT again belongs to someone else.
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  setMembershipId(key: string, membershipId: string, expectedVersion: number): Promise<Holder> {
    return this.updateHolder(key, expectedVersion, 'SET membershipId = :m', { ':m': membershipId });
  }

  async listHolders(page: PageRequest): Promise<Page<Holder>> {
    // Holders are few (one per live assignment); they share one partition of the `all` index.
    const start = decodeCursor(page.cursor);
    const out = await queryFrom(start, () =>
      this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: INDEX.all,
          KeyConditionExpression: 'gsi4pk = :pk',
          ExpressionAttributeValues: { ':pk': 'HOLDER' },
          Limit: page.limit,
          ExclusiveStartKey: start,
        }),
      ),
    );
    const items = (out.Items ?? []).map(DynamoStore.toHolder);
    const cursor = encodeCursor(out.LastEvaluatedKey);
    return cursor ? { items, cursor } : { items };
  }
}
