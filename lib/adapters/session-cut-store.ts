/**
 * `SessionCutStore` on the grants table (keys: lib/table/keys.ts): per account, a lease item
 * and one item per cut entry (also on the byStatus index under the lift partition, sorted by
 * lift time, so the sweeper Queries only what is due); the pending cuts in one partition.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { HistoryEntry } from '../domain/grant.ts';
import type { SessionCutEntry } from '../domain/session-cut.ts';
import type { Clock } from '../ports/index.ts';
import type { PendingCut, SessionCutStore } from '../ports/sessions.ts';
import { ifConditionHolds } from '../table/conditional.ts';
import {
  grantKey,
  INDEX,
  indexKeys,
  PENDING_CUTS_PARTITION,
  pendingCutKey,
  SESSION_CUT_SORT_PREFIX,
  SESSION_LIFT_PARTITION,
  sessionCutKey,
  sessionLeaseKey,
  sessionLiftSortKey,
} from '../table/keys.ts';
import { backoffDelay, withAwsRetry } from './aws-retry.ts';

export interface DynamoSessionCutStoreOptions {
  tableName: string;
  clock: Clock;
  /** How long a lease lasts if its holder dies (a cut or lift of one account takes seconds). */
  leaseMs?: number;
  /** How long a writer waits for an account's lease before giving up (the sweeper retries); within cutSessions' Lambda timeout. */
  leaseWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Another writer held the account's lease for longer than the wait. */
export class AccountLeaseBusy extends Error {
  override readonly name = 'AccountLeaseBusy';
}

const byStatus = indexKeys(INDEX.byStatus);

function toEntry(item: Record<string, unknown>): SessionCutEntry {
  return { accountId: String(item.accountId), userId: String(item.userId), cutoff: String(item.cutoff), liftAt: String(item.liftAt), grantId: String(item.grantId) };
}

export class DynamoSessionCutStore implements SessionCutStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    client: DynamoDBClient,
    private readonly options: DynamoSessionCutStoreOptions,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  private get table() {
    return this.options.tableName;
  }

  async withAccountLease<T>(accountId: string, owner: string, work: () => Promise<T>): Promise<T> {
    const leaseMs = this.options.leaseMs ?? 60_000;
    const waitUntil = this.options.clock.now().getTime() + (this.options.leaseWaitMs ?? 90_000);
    for (let attempt = 0; ; attempt++) {
      const now = this.options.clock.now();
      const taken = await ifConditionHolds(() =>
        this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { ...sessionLeaseKey(accountId), owner, leaseExpiresAt: new Date(now.getTime() + leaseMs).toISOString() },
            ConditionExpression: 'attribute_not_exists(pk) OR leaseExpiresAt < :now OR #owner = :owner',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: { ':now': now.toISOString(), ':owner': owner },
          }),
        ),
      );
      if (taken) break;
      if (now.getTime() >= waitUntil) throw new AccountLeaseBusy(`the session cut lease of account ${accountId} stayed busy`);
      await this.sleep(backoffDelay(attempt, { baseDelayMs: 100, maxDelayMs: 2_000 }));
    }
    try {
      return await work();
    } finally {
      await ifConditionHolds(() =>
        this.doc.send(
          new DeleteCommand({
            TableName: this.table,
            Key: sessionLeaseKey(accountId),
            ConditionExpression: '#owner = :owner',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: { ':owner': owner },
          }),
        ),
      );
    }
  }

  async entries(accountId: string): Promise<SessionCutEntry[]> {
    const out: SessionCutEntry[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :cut)',
          ExpressionAttributeValues: { ':pk': sessionLeaseKey(accountId).pk, ':cut': SESSION_CUT_SORT_PREFIX },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      out.push(...(page.Items ?? []).map(toEntry));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  private async batch(requests: Record<string, unknown>[]): Promise<void> {
    for (let i = 0; i < requests.length; i += 25) {
      let pending = requests.slice(i, i + 25);
      for (let attempt = 0; pending.length; attempt++) {
        const out = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.table]: pending } }));
        pending = (out.UnprocessedItems?.[this.table] ?? []) as Record<string, unknown>[];
        if (pending.length) await this.sleep(backoffDelay(attempt));
      }
    }
  }

  putEntries(entries: readonly SessionCutEntry[]): Promise<void> {
    return this.batch(
      entries.map((e) => ({ PutRequest: { Item: { ...sessionCutKey(e), ...e, [byStatus.partitionKey]: SESSION_LIFT_PARTITION, [byStatus.sortKey]: sessionLiftSortKey(e) } } })),
    );
  }

  removeEntries(entries: readonly SessionCutEntry[]): Promise<void> {
    return this.batch(entries.map((e) => ({ DeleteRequest: { Key: sessionCutKey(e) } })));
  }

  async dueForLift(now: string, limit: number): Promise<SessionCutEntry[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: INDEX.byStatus,
        KeyConditionExpression: `${byStatus.partitionKey} = :pk AND ${byStatus.sortKey} <= :before`,
        // `<now>~` sorts after every `<now>#...` key: entries due exactly now are included.
        ExpressionAttributeValues: { ':pk': SESSION_LIFT_PARTITION, ':before': `${now}~` },
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map(toEntry);
  }

  async markPending(cut: PendingCut): Promise<PendingCut> {
    const made = await ifConditionHolds(() =>
      this.doc.send(new PutCommand({ TableName: this.table, Item: { ...pendingCutKey(cut.grantId), ...cut }, ConditionExpression: 'attribute_not_exists(pk)' })),
    );
    if (made) return cut;
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: pendingCutKey(cut.grantId), ConsistentRead: true }));
    const item = out.Item;
    return item ? { grantId: cut.grantId, cutoff: String(item.cutoff), since: String(item.since) } : cut;
  }

  async clearPending(grantId: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: pendingCutKey(grantId) }));
  }

  async pendingSince(before: string, limit: number): Promise<PendingCut[]> {
    const out: PendingCut[] = [];
    let start: Record<string, unknown> | undefined;
    // Few items (cuts that failed and wait for the next sweep): read the partition, keep the old enough ones.
    do {
      const page = await this.doc.send(
        new QueryCommand({ TableName: this.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': PENDING_CUTS_PARTITION }, ...(start ? { ExclusiveStartKey: start } : {}) }),
      );
      for (const item of page.Items ?? []) if (String(item.since) < before) out.push({ grantId: String(item.grantId), cutoff: String(item.cutoff), since: String(item.since) });
      start = page.LastEvaluatedKey;
    } while (start && out.length < limit);
    return out.sort((a, b) => a.since.localeCompare(b.since)).slice(0, limit);
  }

  async appendHistory(grantId: string, entry: Omit<HistoryEntry, 'from' | 'to'>): Promise<void> {
    // The entry keeps the grant's status (from = to): read it, then append conditional on the version read.
    await withAwsRetry(
      async () => {
        const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: grantKey(grantId), ConsistentRead: true, ProjectionExpression: '#status, #version', ExpressionAttributeNames: { '#status': 'status', '#version': 'version' } }));
        if (!out.Item) return;
        const status = out.Item.status as HistoryEntry['to'];
        const full: HistoryEntry = { ...entry, from: status, to: status };
        await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: grantKey(grantId),
            UpdateExpression: 'SET #history = list_append(#history, :entry), #version = :next',
            ConditionExpression: '#version = :version',
            ExpressionAttributeNames: { '#history': 'history', '#version': 'version' },
            ExpressionAttributeValues: { ':entry': [full], ':version': out.Item.version, ':next': Number(out.Item.version) + 1 },
          }),
        );
      },
      { retryable: (err) => (err as { name?: string }).name === 'ConditionalCheckFailedException', maxAttempts: 8, sleep: this.sleep },
    );
  }
}
