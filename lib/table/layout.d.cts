/** Types of layout.cjs (the values live there). */
interface KeyPair {
  readonly partitionKey: string;
  readonly sortKey: string;
}
interface KeySchemaElement {
  readonly AttributeName: string;
  readonly KeyType: 'HASH' | 'RANGE';
}
declare const layout: {
  readonly SLOT_COUNT: number;
  readonly SLOTS_RESERVED_FOR_REVOCATIONS: number;
  readonly KEY_PREFIX: Readonly<Record<'grant' | 'user' | 'status' | 'pending' | 'holder' | 'slot' | 'idempotency' | 'slackMessage' | 'slackReplay' | 'audit' | 'auditUser' | 'auditAccount' | 'sessions' | 'inventory' | 'reconcile', string>>;
  readonly SORT_KEY: Readonly<Record<'grant' | 'holder' | 'slot' | 'idempotency' | 'slack' | 'sessionLease' | 'sessionCut' | 'reconcile', string>>;
  readonly RECONCILE: Readonly<Record<'cursor' | 'passes' | 'inventoryAll', string>>;
  readonly SLOT_WAITERS: string;
  readonly SLOT_WAITER_PRIORITY: Readonly<Record<'revoke' | 'activate', string>>;
  readonly SESSION_PARTITION: Readonly<Record<'pending' | 'lift', string>>;
  readonly ALL_PARTITION: Readonly<Record<'grant' | 'holder', string>>;
  readonly PRIMARY_KEY: KeyPair;
  readonly INDEX: Readonly<Record<'byPrincipal' | 'byStatus' | 'byPendingRule' | 'all', KeyPair>>;
  readonly TTL_ATTRIBUTE: string;
  readonly TABLE_KEYS: {
    readonly AttributeDefinitions: ReadonlyArray<{ readonly AttributeName: string; readonly AttributeType: 'S' }>;
    readonly KeySchema: readonly KeySchemaElement[];
    readonly GlobalSecondaryIndexes: ReadonlyArray<{ readonly IndexName: string; readonly KeySchema: readonly KeySchemaElement[]; readonly Projection: { readonly ProjectionType: 'ALL' } }>;
  };
  readonly STATE_MACHINE_SUBSTITUTIONS: Readonly<Record<'SlotCount' | 'SlotKeyPrefix' | 'SlotSortKey' | 'SlotWaitersKey' | 'SlotRevocationWaiters' | 'SessionsPendingKey', string>>;
};
export = layout;
