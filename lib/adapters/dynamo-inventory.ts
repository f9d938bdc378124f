/**
 * InventoryStore on the grants table: the reconciler's cursor, its finished passes and the
 * access inventory (keys: lib/table/keys.ts). Every read is GetItem or Query; there is no Scan.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { InventoryEntry, InventoryFilter, InventoryStore, ReconcileCursor, ReconcilePass } from '../ports/index.ts';
import {
  INVENTORY_ALL_PARTITION,
  INVENTORY_INDEX,
  indexKeys,
  inventoryAccountPartition,
  inventoryAssignmentKey,
  inventoryGroupPartition,
  inventoryMembershipKey,
  inventoryPermissionSetPartition,
  inventoryPrincipalPartition,
  KEY_ATTRIBUTES,
  RECONCILE_PASSES_PARTITION,
  reconcileCursorKey,
  reconcilePassKey,
  TTL_ATTRIBUTE,
  type IndexName,
  type TableKey,
} from '../table/keys.ts';

type Item = Record<string, unknown>;

/** Finished passes are kept this long (the freshness answer needs only the last). */
const PASS_RETENTION_S = 30 * 24 * 3600;
/** Puts in flight at once while saving what a unit saw. */
const WRITE_CONCURRENCY = 8;

const withoutKeys = (item: Item): Item => Object.fromEntries(Object.entries(item).filter(([k]) => !KEY_ATTRIBUTES.includes(k)));

function entryKey(e: InventoryEntry): TableKey {
  return e.kind === 'assignment' ? inventoryAssignmentKey(e.accountId, e.permissionSetArn, e.principalType, e.principalId) : inventoryMembershipKey(e.groupId, e.userId);
}

function entryItem(e: InventoryEntry): Item {
  const key = entryKey(e);
  const id = `${key.pk}#${key.sk}`;
  const principal = indexKeys('byPrincipal');
  const all = indexKeys('byPendingRule');
  const item: Item = { ...key, ...e, [principal.partitionKey]: inventoryPrincipalPartition(e.kind === 'assignment' ? e.principalId : e.userId), [principal.sortKey]: id, [all.partitionKey]: INVENTORY_ALL_PARTITION, [all.sortKey]: id };
  if (e.kind === 'assignment') {
    const ps = indexKeys('byStatus');
    item[ps.partitionKey] = inventoryPermissionSetPartition(e.permissionSetArn);
    item[ps.sortKey] = id;
  }
  return item;
}

const matches = (e: InventoryEntry, f: InventoryFilter): boolean => {
  if (f.groupId && (e.kind !== 'membership' || e.groupId !== f.groupId)) return false;
  if (f.accountId && (e.kind !== 'assignment' || e.accountId !== f.accountId)) return false;
  if (f.permissionSetArn && (e.kind !== 'assignment' || e.permissionSetArn !== f.permissionSetArn)) return false;
  if (f.principalId && (e.kind === 'assignment' ? e.principalId : e.userId) !== f.principalId) return false;
  return true;
};

export class DynamoInventoryStore implements InventoryStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async cursor(): Promise<ReconcileCursor | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: reconcileCursorKey(), ConsistentRead: true }));
    return out.Item ? (withoutKeys(out.Item) as unknown as ReconcileCursor) : undefined;
  }

  async saveCursor(cursor: ReconcileCursor): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...reconcileCursorKey(), ...cursor } }));
  }

  async finishPass(pass: ReconcilePass): Promise<void> {
    const ttl = Math.floor(Date.parse(pass.finishedAt) / 1000) + PASS_RETENTION_S;
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...reconcilePassKey(pass.finishedAt, pass.passId), ...pass, [TTL_ATTRIBUTE]: ttl } }));
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: reconcileCursorKey() }));
  }

  async lastPass(): Promise<ReconcilePass | undefined> {
    const out = await this.doc.send(
      new QueryCommand({ TableName: this.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': RECONCILE_PASSES_PARTITION }, ScanIndexForward: false, Limit: 1 }),
    );
    const item = out.Items?.[0];
    return item ? (withoutKeys(item) as unknown as ReconcilePass) : undefined;
  }

  async saveSeen(entries: InventoryEntry[]): Promise<void> {
    for (let i = 0; i < entries.length; i += WRITE_CONCURRENCY) {
      await Promise.all(entries.slice(i, i + WRITE_CONCURRENCY).map((e) => this.doc.send(new PutCommand({ TableName: this.tableName, Item: entryItem(e) }))));
    }
  }

  async removeUnseen(passId: string): Promise<number> {
    let removed = 0;
    const filter = { FilterExpression: 'passId <> :passId', ExpressionAttributeValues: { ':passId': passId } };
    for await (const item of this.query(INVENTORY_INDEX.all, INVENTORY_ALL_PARTITION, filter)) {
      await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: item.pk, sk: item.sk } }));
      removed++;
    }
    return removed;
  }

  async find(filter: InventoryFilter): Promise<InventoryEntry[]> {
    const out: InventoryEntry[] = [];
    for await (const item of this.narrowest(filter)) {
      const entry = withoutKeys(item) as unknown as InventoryEntry;
      if (matches(entry, filter)) out.push(entry);
    }
    return out;
  }

  /** The one partition that holds every entry the filter can match. */
  private narrowest(f: InventoryFilter): AsyncGenerator<Item> {
    if (f.accountId) return this.query(undefined, inventoryAccountPartition(f.accountId));
    if (f.groupId) return this.query(undefined, inventoryGroupPartition(f.groupId));
    if (f.principalId) return this.query(INVENTORY_INDEX.principal, inventoryPrincipalPartition(f.principalId));
    if (f.permissionSetArn) return this.query(INVENTORY_INDEX.permissionSet, inventoryPermissionSetPartition(f.permissionSetArn));
    return this.query(INVENTORY_INDEX.all, INVENTORY_ALL_PARTITION);
  }

  private async *query(index: IndexName | undefined, partition: string, extra: Pick<QueryCommandInput, 'FilterExpression' | 'ExpressionAttributeValues'> = {}): AsyncGenerator<Item> {
    const pk = index ? indexKeys(index).partitionKey : 'pk';
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          ...(index ? { IndexName: index } : {}),
          KeyConditionExpression: '#pk = :pk',
          ...(extra.FilterExpression ? { FilterExpression: extra.FilterExpression } : {}),
          ExpressionAttributeNames: { '#pk': pk },
          ExpressionAttributeValues: { ':pk': partition, ...extra.ExpressionAttributeValues },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of out.Items ?? []) yield item;
      start = out.LastEvaluatedKey;
    } while (start);
  }
}
