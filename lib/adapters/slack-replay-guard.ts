/**
 * The ReplayGuard port on the grants table: a (timestamp, signature) pair of a signed
 * Slack request is accepted once. The signature covers the timestamp, so the signature alone is the key.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { ReplayGuard } from '../ports/index.ts';
import { ifConditionHolds } from '../table/conditional.ts';
import { slackReplayKey, TTL_ATTRIBUTE } from '../table/keys.ts';
import { SLACK_MAX_SKEW_SECONDS } from '../slack/signature.ts';

export class DynamoReplayGuard implements ReplayGuard {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async consume(signature: string, timestamp: number): Promise<boolean> {
    const key = marshall(slackReplayKey(signature));
    // A nonce tells our own SDK retry (first attempt written, response lost) apart from a real replay.
    const nonce = randomUUID();
    const first = await ifConditionHolds(() =>
      this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            ...key,
            nonce: { S: nonce },
            // Past this instant the timestamp check refuses the request anyway, so the item can go.
            [TTL_ATTRIBUTE]: { N: String(timestamp + SLACK_MAX_SKEW_SECONDS + 60) },
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    if (first) return true;
    const existing = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: key, ConsistentRead: true, ProjectionExpression: 'nonce' }));
    return existing.Item?.nonce?.S === nonce;
  }
}
