/**
 * A grant transition prepared by a Lambda task and written later by a state machine's
 * DynamoDB SDK integration (UpdateItem / DeleteItem in low-level AttributeValue form),
 * so the revoke workflow needs one Lambda invocation, not two.
 *
 * The update is the one DynamoStore.transition sends: conditional on status and
 * version, history appended with list_append, the byStatus index keys and the TTL of
 * closed grants set alongside. test/workflow checks a prepared write reads back
 * through DynamoStore like one made by it.
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import { canTransition, isTerminal, type Grant, type HistoryEntry } from '../domain/grant.ts';
import type { TransitionRequest } from '../ports.ts';
import { grantDeadline } from './dynamo-store.ts';

const DAY_S = 86_400;

export interface PreparedUpdate {
  Key: Record<string, unknown>;
  UpdateExpression: string;
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
}

export function prepareTransitionUpdate(req: TransitionRequest, retentionDays: number): PreparedUpdate {
  const { current, to } = req;
  if (!canTransition(current.status, to)) throw new Error(`grant ${current.id} is ${current.status}; it cannot become ${to}`);
  const entry: HistoryEntry = { ...req.entry, from: current.status, to };
  const next: Grant = { ...current, status: to, version: current.version + 1, history: [...current.history, entry] };
  const names: Record<string, string> = { '#status': 'status', '#version': 'version', '#history': 'history' };
  const values: Record<string, unknown> = {
    ':expectedStatus': current.status,
    ':expectedVersion': current.version,
    ':to': to,
    ':nextVersion': next.version,
    ':entry': [entry],
  };
  const sets = ['#status = :to', '#version = :nextVersion', '#history = list_append(#history, :entry)'];
  const removes: string[] = [];
  let i = 0;
  for (const [k, v] of Object.entries(req.set ?? {})) {
    names[`#f${i}`] = k;
    if (v === undefined) removes.push(`#f${i}`);
    else {
      values[`:f${i}`] = v;
      sets.push(`#f${i} = :f${i}`);
      (next as unknown as Record<string, unknown>)[k] = v;
    }
    i++;
  }
  values[':gsi2pk'] = `STATUS#${to}`;
  values[':gsi2sk'] = `${grantDeadline(next)}#${next.id}`;
  sets.push('gsi2pk = :gsi2pk', 'gsi2sk = :gsi2sk');
  if (isTerminal(to)) {
    const ended = Date.parse(next.endedAt ?? entry.at);
    values[':ttl'] = Math.floor(ended / 1000) + retentionDays * DAY_S;
    names['#ttl'] = 'ttl';
    sets.push('#ttl = :ttl');
  }
  return {
    Key: marshall({ pk: `GRANT#${current.id}`, sk: 'GRANT' }),
    UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
    ConditionExpression: '#status = :expectedStatus AND #version = :expectedVersion',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: marshall(values, { removeUndefinedValues: true, convertClassInstanceToMap: false }),
  };
}

/** DeleteItem of a DELETING holder, in low-level form (the same condition as DynamoStore.removeDeletedHolder). */
export function prepareHolderRemoval(holderKey: string) {
  return {
    Key: marshall({ pk: `HOLDER#${holderKey}`, sk: 'HOLDER' }),
    ConditionExpression: '#state = :deleting',
    ExpressionAttributeNames: { '#state': 'state' },
    ExpressionAttributeValues: marshall({ ':deleting': 'DELETING' }),
  };
}

/** Slot release in low-level form (same as DynamoCreateSlots.release). */
export function prepareSlotRelease(slot: number, owner: string) {
  return {
    Key: marshall({ pk: `SLOT#${slot}`, sk: 'SLOT' }),
    UpdateExpression: 'REMOVE #owner, leaseExpiresAt',
    ConditionExpression: '#owner = :owner',
    ExpressionAttributeNames: { '#owner': 'owner' },
    ExpressionAttributeValues: marshall({ ':owner': owner }),
  };
}
