/**
 * The conditional writes on the grants table that both a store and a state machine make:
 * a grant's status change, a DELETING holder's removal, a slot's lease and release.
 * Document form (plain values) for the DynamoDB document client; `lowLevel` turns one into
 * the AttributeValue form a state machine's DynamoDB SDK task sends, so the two are one write.
 * The slot release, give and reclaim are also spelled in statemachines/revoke.asl.json (ReleaseSlot,
 * GiveSlot, ReclaimSlot), which cannot call code: test/workflow runs both. Its GiveSlot also passes
 * the revocation's own slot on without a release in between (`#owner = :self`).
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import type { AppliedTransition, TransitionRequest } from '../domain/transition.ts';
import type { PreparedWrite } from '../ports/index.ts';
import { closedGrantTtl, PENDING_INDEX_ATTRIBUTES, statusIndexKeys, type Item } from './grant-item.ts';
import { grantKey, holderKey, slotKey, TTL_ATTRIBUTE, type TableKey } from './keys.ts';

export interface TableWrite {
  Key: TableKey;
  UpdateExpression?: string;
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Item;
}

export function lowLevel(write: TableWrite): PreparedWrite {
  return {
    ...write,
    Key: marshall(write.Key),
    ExpressionAttributeValues: marshall(write.ExpressionAttributeValues, { removeUndefinedValues: true, convertClassInstanceToMap: false }),
  };
}

/**
 * A status change (lib/domain/transition.ts) as one UpdateItem: conditional on the grant's
 * status and version, the history entry appended in the same write, the byStatus keys moved,
 * the pending index left, the TTL of a closed grant set.
 */
export function transitionWrite(request: TransitionRequest, { next, entry }: AppliedTransition, retentionDays: number): TableWrite {
  const { current } = request;
  const names: Record<string, string> = { '#status': 'status', '#version': 'version', '#history': 'history' };
  const values: Item = {
    ':expectedStatus': current.status,
    ':expectedVersion': current.version,
    ':to': next.status,
    ':nextVersion': next.version,
    ':entry': [entry],
  };
  const sets = ['#status = :to', '#version = :nextVersion', '#history = list_append(#history, :entry)'];
  for (const [attribute, value] of Object.entries(statusIndexKeys(next))) {
    values[`:${attribute}`] = value;
    sets.push(`${attribute} = :${attribute}`);
  }
  const removes: string[] = [];
  let i = 0;
  for (const [k, v] of Object.entries(request.set ?? {})) {
    const n = `#f${i}`;
    names[n] = k;
    if (v === undefined) removes.push(n);
    else {
      values[`:f${i}`] = v;
      sets.push(`${n} = :f${i}`);
    }
    i++;
  }
  if (current.status === 'PENDING_APPROVAL' && next.status !== 'PENDING_APPROVAL') removes.push(...PENDING_INDEX_ATTRIBUTES);
  const ttl = closedGrantTtl(next, retentionDays);
  if (ttl !== undefined) {
    values[':ttl'] = ttl;
    sets.push('#ttl = :ttl');
    names['#ttl'] = TTL_ATTRIBUTE;
  }
  return {
    Key: grantKey(current.id),
    UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
    ConditionExpression: '#status = :expectedStatus AND #version = :expectedVersion',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/** DeleteItem of a holder whose access is gone: only while it is DELETING (a PRESENT one belongs to a newer grant). */
export function holderRemovalWrite(assignmentKey: string): TableWrite {
  return {
    Key: holderKey(assignmentKey),
    ConditionExpression: '#state = :deleting',
    ExpressionAttributeNames: { '#state': 'state' },
    ExpressionAttributeValues: { ':deleting': 'DELETING' },
  };
}

const SLOT_NAMES = { '#owner': 'owner', '#leaseExpiresAt': 'leaseExpiresAt', '#wakeToken': 'wakeToken', '#handedOverAt': 'handedOverAt' };

/**
 * Leases a slot to `owner` until `leaseExpiresAt` if it is free, lapsed (before `now`) or already the
 * owner's (a slot handed over to it is taken up: the wake-up it came with is done).
 */
export function slotLeaseWrite(slot: number, owner: string, leaseExpiresAt: string, now: string): TableWrite {
  return {
    Key: slotKey(slot),
    UpdateExpression: 'SET #owner = :owner, #leaseExpiresAt = :leaseExpiresAt REMOVE #wakeToken, #handedOverAt',
    ConditionExpression: 'attribute_not_exists(#owner) OR #owner = :owner OR #leaseExpiresAt < :now',
    ExpressionAttributeNames: SLOT_NAMES,
    ExpressionAttributeValues: { ':owner': owner, ':leaseExpiresAt': leaseExpiresAt, ':now': now },
  };
}

/** Gives a slot back, only if `owner` still holds it: a late release never frees someone else's slot. */
export function slotReleaseWrite(slot: number, owner: string): TableWrite {
  return {
    Key: slotKey(slot),
    UpdateExpression: 'REMOVE #owner, #leaseExpiresAt, #wakeToken, #handedOverAt',
    ConditionExpression: '#owner = :owner',
    ExpressionAttributeNames: SLOT_NAMES,
    ExpressionAttributeValues: { ':owner': owner },
  };
}

/** Hands a slot to a waiter, free (or lapsed) or passed on by its holder `from`, with the token that wakes it, so a lost wake-up can be sent again. */
export function slotGiveWrite(slot: number, owner: string, leaseExpiresAt: string, now: string, wakeToken: string, from?: string): TableWrite {
  return {
    Key: slotKey(slot),
    UpdateExpression: 'SET #owner = :owner, #leaseExpiresAt = :leaseExpiresAt, #wakeToken = :wakeToken, #handedOverAt = :now',
    // Passed on by its holder (`from`): only while it still holds it. Otherwise the slot must be free.
    ConditionExpression: from ? '#owner = :from' : 'attribute_not_exists(#owner) OR #leaseExpiresAt < :now',
    ExpressionAttributeNames: SLOT_NAMES,
    ExpressionAttributeValues: { ':owner': owner, ':leaseExpiresAt': leaseExpiresAt, ':now': now, ':wakeToken': wakeToken, ...(from ? { ':from': from } : {}) },
  };
}

/** Clears the hand-over marks of a slot its waiter has taken up (its wake-up token answers 'gone'), unless it was handed over again since. */
export function slotTakenUpWrite(slot: number, owner: string, handedOverAt: string): TableWrite {
  return {
    Key: slotKey(slot),
    UpdateExpression: 'REMOVE #wakeToken, #handedOverAt',
    ConditionExpression: '#owner = :owner AND #handedOverAt = :handedOverAt',
    ExpressionAttributeNames: SLOT_NAMES,
    ExpressionAttributeValues: { ':owner': owner, ':handedOverAt': handedOverAt },
  };
}

/** Takes back a slot handed to a waiter (at `handedOverAt`) whose task no longer waits, unless that waiter has taken it up meanwhile. */
export function slotReclaimWrite(slot: number, owner: string, handedOverAt: string): TableWrite {
  return {
    Key: slotKey(slot),
    UpdateExpression: 'REMOVE #owner, #leaseExpiresAt, #wakeToken, #handedOverAt',
    ConditionExpression: '#owner = :owner AND #handedOverAt = :handedOverAt',
    ExpressionAttributeNames: SLOT_NAMES,
    ExpressionAttributeValues: { ':owner': owner, ':handedOverAt': handedOverAt },
  };
}
