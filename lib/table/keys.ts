/**
 * Keys of the grants table's items, built from its layout (layout.cjs, which shows the items
 * and their keys). Every other module asks here for a key, an index or the slot count.
 */
import layout from './layout.cjs';

const { KEY_PREFIX, SORT_KEY, ALL_PARTITION, PRIMARY_KEY } = layout;

export interface TableKey {
  pk: string;
  sk: string;
}

/** How many slots bound the outstanding Identity Center assignment operations. */
export const SLOT_COUNT = layout.SLOT_COUNT;
/** How many of them activations leave to revocations. */
export const SLOTS_RESERVED_FOR_REVOCATIONS = layout.SLOTS_RESERVED_FOR_REVOCATIONS;
export const TTL_ATTRIBUTE = layout.TTL_ATTRIBUTE;
export const TABLE_KEYS = layout.TABLE_KEYS;
/** What serverless.yml passes the state machines as DefinitionSubstitutions for their slot tasks. */
export const STATE_MACHINE_SUBSTITUTIONS: Readonly<Record<string, string>> = layout.STATE_MACHINE_SUBSTITUTIONS;

export type IndexName = keyof typeof layout.INDEX;
/** Index names, for a Query's IndexName. */
export const INDEX = Object.fromEntries(Object.keys(layout.INDEX).map((name) => [name, name])) as { readonly [N in IndexName]: N };
/** An index's key attributes. */
export const indexKeys = (name: IndexName) => layout.INDEX[name];

/** The attributes that are the item's keys, not the stored value (a grant or holder is the item without them). */
export const KEY_ATTRIBUTES: readonly string[] = [PRIMARY_KEY, ...Object.values(layout.INDEX)].flatMap((k) => [k.partitionKey, k.sortKey]).concat(layout.TTL_ATTRIBUTE);

export const grantKey = (grantId: string): TableKey => ({ pk: `${KEY_PREFIX.grant}${grantId}`, sk: SORT_KEY.grant });
export const isGrantPartition = (pk: unknown): boolean => typeof pk === 'string' && pk.startsWith(KEY_PREFIX.grant);
export const holderKey = (assignmentKey: string): TableKey => ({ pk: `${KEY_PREFIX.holder}${assignmentKey}`, sk: SORT_KEY.holder });
export const idempotencyKey = (principalId: string, key: string): TableKey => ({ pk: `${KEY_PREFIX.idempotency}${principalId}#${key}`, sk: SORT_KEY.idempotency });
export const slackMessageKey = (grantId: string): TableKey => ({ pk: `${KEY_PREFIX.slackMessage}${grantId}`, sk: SORT_KEY.slack });
export const slackReplayKey = (signature: string): TableKey => ({ pk: `${KEY_PREFIX.slackReplay}${signature}`, sk: SORT_KEY.slack });

export const slotKey = (slot: number): TableKey => ({ pk: `${KEY_PREFIX.slot}${slot}`, sk: SORT_KEY.slot });
/** The partition of the slot waiters; a Query reads them in the order they are served. */
export const SLOT_WAITERS_PARTITION = `${KEY_PREFIX.slot}${layout.SLOT_WAITERS}`;
export type SlotWaiterKind = keyof typeof layout.SLOT_WAITER_PRIORITY;
/** Where activations' waiter keys start (after every revocation's). */
export const ACTIVATION_WAITERS_PREFIX = `${layout.SLOT_WAITER_PRIORITY.activate}#`;
export const isActivationWaiter = (sk: string): boolean => sk.startsWith(ACTIVATION_WAITERS_PREFIX);
/** A waiter's key: deletions before creations, then by `place` (an ISO instant), then by owner. */
export const slotWaiterKey = (kind: SlotWaiterKind, place: string, owner: string): TableKey => ({
  pk: SLOT_WAITERS_PARTITION,
  sk: `${layout.SLOT_WAITER_PRIORITY[kind]}#${place}#${owner}`,
});

/** Partition values of the indexes. */
export const principalPartition = (userId: string) => `${KEY_PREFIX.user}${userId}`;
export const statusPartition = (status: string) => `${KEY_PREFIX.status}${status}`;
export const pendingRulePartition = (ruleId: string) => `${KEY_PREFIX.pending}${ruleId}`;
export const ALL_GRANTS_PARTITION = ALL_PARTITION.grant;
export const ALL_HOLDERS_PARTITION = ALL_PARTITION.holder;

/** Audit entries: one per history entry, under the month of its instant; the user and account variants live in the byPrincipal and byStatus indexes. */
export const AUDIT_INDEX = { byUser: INDEX.byPrincipal, byAccount: INDEX.byStatus } as const;
/** `2026-11-30T12:00:00.000Z` → `AUDIT#2026-11`. */
export const auditMonthPartition = (month: string) => `${KEY_PREFIX.audit}${month}`;
export const auditSortKey = (at: string, grantId: string, position: number) => `${at}#${grantId}#${String(position).padStart(4, '0')}`;
export const auditUserPartition = (userName: string) => `${KEY_PREFIX.auditUser}${userName.toLowerCase()}`;
export const auditAccountPartition = (accountId: string) => `${KEY_PREFIX.auditAccount}${accountId}`;
/** Session revocation: an account's SCP writer lease, its cut entries, the lift index and the pending cuts. */
export const sessionLeaseKey = (accountId: string): TableKey => ({ pk: `${KEY_PREFIX.sessions}${accountId}`, sk: SORT_KEY.sessionLease });
export const sessionCutKey = (e: { accountId: string; cutoff: string; userId: string; grantId: string }): TableKey => ({
  pk: `${KEY_PREFIX.sessions}${e.accountId}`,
  sk: `${SORT_KEY.sessionCut}${e.cutoff}#${e.userId}#${e.grantId}`,
});
export const SESSION_CUT_SORT_PREFIX = SORT_KEY.sessionCut;
/** The byStatus index partition of the cut entries, sorted by lift time. */
export const SESSION_LIFT_PARTITION = layout.SESSION_PARTITION.lift;
export const sessionLiftSortKey = (e: { accountId: string; cutoff: string; userId: string; grantId: string; liftAt: string }) =>
  `${e.liftAt}#${e.accountId}#${e.cutoff}#${e.userId}#${e.grantId}`;
export const PENDING_CUTS_PARTITION = layout.STATE_MACHINE_SUBSTITUTIONS.SessionsPendingKey;
export const pendingCutKey = (grantId: string): TableKey => ({ pk: PENDING_CUTS_PARTITION, sk: grantId });
/** The reconciler's cursor: where the current pass stands. */
export const reconcileCursorKey = (): TableKey => ({ pk: `${KEY_PREFIX.reconcile}${layout.RECONCILE.cursor}`, sk: SORT_KEY.reconcile });
/** The partition of finished reconcile passes, sorted by when they finished. */
export const RECONCILE_PASSES_PARTITION = `${KEY_PREFIX.reconcile}${layout.RECONCILE.passes}`;
export const reconcilePassKey = (finishedAt: string, passId: string): TableKey => ({ pk: RECONCILE_PASSES_PARTITION, sk: `${finishedAt}#${passId}` });

/** Access inventory: one item per assignment (account partition) or membership (group partition). */
export const inventoryAssignmentKey = (accountId: string, permissionSetArn: string, principalType: string, principalId: string): TableKey => ({
  pk: `${KEY_PREFIX.inventory}ACCOUNT#${accountId}`,
  sk: `${permissionSetArn}#${principalType}#${principalId}`,
});
export const inventoryMembershipKey = (groupId: string, userId: string): TableKey => ({ pk: `${KEY_PREFIX.inventory}GROUP#${groupId}`, sk: `USER#${userId}` });
/** Partitions of the inventory: in the table (account, group) and in the indexes (principal on byPrincipal, permission set on byStatus, all on byPendingRule). */
export const inventoryAccountPartition = (accountId: string) => inventoryAssignmentKey(accountId, '', '', '').pk;
export const inventoryGroupPartition = (groupId: string) => inventoryMembershipKey(groupId, '').pk;
export const inventoryPrincipalPartition = (principalId: string) => `${KEY_PREFIX.inventory}PRINCIPAL#${principalId}`;
export const inventoryPermissionSetPartition = (permissionSetArn: string) => `${KEY_PREFIX.inventory}PS#${permissionSetArn}`;
export const INVENTORY_ALL_PARTITION = `${KEY_PREFIX.inventory}${layout.RECONCILE.inventoryAll}`;
/** Which index holds which inventory partition. */
export const INVENTORY_INDEX = { principal: 'byPrincipal', permissionSet: 'byStatus', all: 'byPendingRule' } as const satisfies Record<string, IndexName>;
