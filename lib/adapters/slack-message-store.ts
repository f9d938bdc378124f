/**
 * The SlackMessageStore port: per-grant Slack bookkeeping in the grants table (one item per grant, lib/table/keys.ts):
 * where the approvers' message is (channel + ts, for chat.update) and which
 * DMs were already sent (so an at-least-once trigger does not DM twice).
 */
import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { ChannelMessageRef, SlackMessageStore } from '../ports/index.ts';
import { ifConditionHolds } from '../table/conditional.ts';
import { slackMessageKey, TTL_ATTRIBUTE } from '../table/keys.ts';

/** Long enough to outlive any grant including extensions; the items are small. */
const RETENTION_SECONDS = 400 * 24 * 3600;
/** A claim older than this is from a worker that died between claim and post. */
const POSTING_CLAIM_SECONDS = 120;

export class DynamoSlackMessageStore implements SlackMessageStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  private key(grantId: string) {
    return marshall(slackMessageKey(grantId));
  }

  /** An UpdateItem on the grant's item that also renews its TTL; false when `condition` did not hold. */
  private update(grantId: string, expression: { set?: string; add?: string; remove?: string; condition?: string }, values: Record<string, unknown>): Promise<boolean> {
    const { set, add, remove, condition } = expression;
    const ttl = { ':ttl': this.nowSeconds() + RETENTION_SECONDS };
    return ifConditionHolds(() =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key(grantId),
          UpdateExpression: [add && `ADD ${add}`, `SET ${set ? `${set}, ` : ''}#ttl = :ttl`, remove && `REMOVE ${remove}`].filter(Boolean).join(' '),
          ...(condition ? { ConditionExpression: condition } : {}),
          ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: marshall({ ...values, ...ttl }),
        }),
      ),
    );
  }

  async getChannelMessage(grantId: string): Promise<ChannelMessageRef | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: this.key(grantId), ConsistentRead: true, ProjectionExpression: 'channel, ts' }),
    );
    const channel = out.Item?.channel?.S;
    const ts = out.Item?.ts?.S;
    return channel && ts ? { channel, ts } : undefined;
  }

  claimChannelMessage(grantId: string): Promise<boolean> {
    const now = this.nowSeconds();
    return this.update(
      grantId,
      { set: 'postingSince = :now', condition: 'attribute_not_exists(ts) AND (attribute_not_exists(postingSince) OR postingSince < :stale)' },
      { ':now': now, ':stale': now - POSTING_CLAIM_SECONDS },
    );
  }

  async saveChannelMessage(grantId: string, ref: ChannelMessageRef): Promise<void> {
    await this.update(grantId, { set: 'channel = :c, ts = :ts', remove: 'postingSince' }, { ':c': ref.channel, ':ts': ref.ts });
  }

  claimDm(grantId: string, dmKey: string): Promise<boolean> {
    return this.update(
      grantId,
      { add: 'sentDms :k', condition: 'attribute_not_exists(sentDms) OR NOT contains(sentDms, :one)' },
      { ':k': new Set([dmKey]), ':one': dmKey },
    );
  }
}
