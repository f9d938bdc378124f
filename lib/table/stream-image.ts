/** Grants as the table's stream carries them (NEW_AND_OLD_IMAGES): the images are items in DynamoDB JSON. */
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue as StreamAttributeValue } from 'aws-lambda';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Grant } from '../domain/grant.ts';
import { grantFromItem } from './grant-item.ts';

/** A stream image → Grant; undefined for an item of another kind. */
export function grantFromImage(image: Record<string, StreamAttributeValue> | undefined): Grant | undefined {
  return image ? grantFromItem(unmarshall(image as Record<string, AttributeValue>)) : undefined;
}
