/**
 * Grants and holders as items of the grants table: the value plus its keys (keys.ts).
 * Reading an item back drops every key attribute, so an item maps to exactly the value written.
 */
import { isTerminal, type Grant } from '../domain/grant.ts';
import type { Holder } from '../domain/holder.ts';
import {
  ALL_GRANTS_PARTITION,
  ALL_HOLDERS_PARTITION,
  grantKey,
  holderKey,
  INDEX,
  indexKeys,
  isGrantPartition,
  KEY_ATTRIBUTES,
  pendingRulePartition,
  principalPartition,
  statusPartition,
  TTL_ATTRIBUTE,
} from './keys.ts';

export type Item = Record<string, unknown>;

const DAY_S = 86400;

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

/** Epoch seconds at which a closed grant's item expires (TTL); undefined while it is open. */
export function closedGrantTtl(g: Grant, retentionDays: number): number | undefined {
  if (!isTerminal(g.status)) return undefined;
  const ended = Date.parse(g.endedAt ?? g.history.at(-1)?.at ?? g.requestedAt);
  return Math.floor(ended / 1000) + retentionDays * DAY_S;
}

const byStatus = indexKeys(INDEX.byStatus);
const byPendingRule = indexKeys(INDEX.byPendingRule);

/** The byStatus index keys: they move with every status change. */
export function statusIndexKeys(g: Grant): Item {
  return { [byStatus.partitionKey]: statusPartition(g.status), [byStatus.sortKey]: `${grantDeadline(g)}#${g.id}` };
}

/** The byPendingRule attributes, present only while the grant is PENDING_APPROVAL. */
export const PENDING_INDEX_ATTRIBUTES: readonly string[] = [byPendingRule.partitionKey, byPendingRule.sortKey];

export function grantItem(g: Grant, retentionDays: number): Item {
  const byPrincipal = indexKeys(INDEX.byPrincipal);
  const all = indexKeys(INDEX.all);
  const item: Item = {
    ...g,
    ...grantKey(g.id),
    [byPrincipal.partitionKey]: principalPartition(g.principal.userId),
    [byPrincipal.sortKey]: g.id,
    ...statusIndexKeys(g),
    [all.partitionKey]: ALL_GRANTS_PARTITION,
    [all.sortKey]: g.id,
  };
  if (g.status === 'PENDING_APPROVAL') {
    item[byPendingRule.partitionKey] = pendingRulePartition(g.ruleId);
    item[byPendingRule.sortKey] = `${g.requestedAt}#${g.id}`;
  }
  const ttl = closedGrantTtl(g, retentionDays);
  if (ttl !== undefined) item[TTL_ATTRIBUTE] = ttl;
  return item;
}

function withoutKeys(item: Item): Item {
  const copy: Item = { ...item };
  for (const k of KEY_ATTRIBUTES) delete copy[k];
  return copy;
}

/** A grant item → Grant; undefined for an item of another kind (a stream carries every item). */
export function grantFromItem(item: Item): Grant | undefined {
  return isGrantPartition(item.pk) ? (withoutKeys(item) as unknown as Grant) : undefined;
}

export function holderItem(holder: Holder): Item {
  const all = indexKeys(INDEX.all);
  return { ...holderKey(holder.key), [all.partitionKey]: ALL_HOLDERS_PARTITION, [all.sortKey]: holder.key, ...holder };
}

export function holderFromItem(item: Item): Holder {
  return withoutKeys(item) as unknown as Holder;
}
