/**
 * A grant transition prepared by a Lambda task and written later by a state machine's
 * DynamoDB SDK integration (UpdateItem / DeleteItem in low-level AttributeValue form),
 * so the revoke workflow needs one Lambda invocation, not two.
 *
 * The update is the one DynamoStore.transition sends (transitionUpdate), in
 * AttributeValue form. test/workflow checks a prepared write reads back through
 * DynamoStore like one made by it.
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import type { TransitionRequest } from '../ports.ts';
import { transitionUpdate } from './dynamo-store.ts';

export interface PreparedUpdate {
  Key: Record<string, unknown>;
  UpdateExpression: string;
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
}

export function prepareTransitionUpdate(req: TransitionRequest, retentionDays: number): PreparedUpdate {
  const { update } = transitionUpdate(req, retentionDays);
  return {
    ...update,
    Key: marshall(update.Key),
    ExpressionAttributeValues: marshall(update.ExpressionAttributeValues, { removeUndefinedValues: true, convertClassInstanceToMap: false }),
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
