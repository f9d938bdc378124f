/**
 * Per-grant Slack bookkeeping in the grants table (item pk `SLACKMSG#<grantId>`, sk `-`):
 * where the approvers' message is (channel + ts, for chat.update) and which
 * DMs were already sent (so an at-least-once trigger does not DM twice).
 */
import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';

export interface ChannelMessageRef {
  channel: string;
  ts: string;
}

export interface SlackMessageStore {
  getChannelMessage(grantId: string): Promise<ChannelMessageRef | undefined>;
  /** Claims the right to post the channel message; false when another worker posted or is posting. */
  claimChannelMessage(grantId: string): Promise<boolean>;
  saveChannelMessage(grantId: string, ref: ChannelMessageRef): Promise<void>;
  /** True the first time a DM key (grant version, or a warning) is claimed for this grant. */
  claimDm(grantId: string, dmKey: string): Promise<boolean>;
}

/** Long enough to outlive any grant including extensions; the items are small. */
const RETENTION_SECONDS = 400 * 24 * 3600;
/** A claim older than this is from a worker that died between claim and post. */
const POSTING_CLAIM_SECONDS = 120;

function isConditionFailure(e: unknown): boolean {
  return e instanceof ConditionalCheckFailedException || (e as { name?: string }).name === 'ConditionalCheckFailedException';
}

export class DynamoSlackMessageStore implements SlackMessageStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  private key(grantId: string) {
    return { pk: { S: `SLACKMSG#${grantId}` }, sk: { S: '-' } };
  }

  async getChannelMessage(grantId: string): Promise<ChannelMessageRef | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: this.key(grantId), ConsistentRead: true, ProjectionExpression: 'channel, ts' }),
    );
    const channel = out.Item?.channel?.S;
    const ts = out.Item?.ts?.S;
    return channel && ts ? { channel, ts } : undefined;
  }

  async claimChannelMessage(grantId: string): Promise<boolean> {
    const now = this.nowSeconds();
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key(grantId),
          UpdateExpression: 'SET postingSince = :now, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(ts) AND (attribute_not_exists(postingSince) OR postingSince < :stale)',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':now': { N: String(now) }, ':stale': { N: String(now - POSTING_CLAIM_SECONDS) }, ':ttl': { N: String(now + RETENTION_SECONDS) } },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  async saveChannelMessage(grantId: string, ref: ChannelMessageRef): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: this.key(grantId),
        UpdateExpression: 'SET channel = :c, ts = :ts, #ttl = :ttl REMOVE postingSince',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':c': { S: ref.channel }, ':ts': { S: ref.ts }, ':ttl': { N: String(this.nowSeconds() + RETENTION_SECONDS) } },
      }),
    );
  }

  async claimDm(grantId: string, dmKey: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key(grantId),
          UpdateExpression: 'ADD sentDms :k SET #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(sentDms) OR NOT contains(sentDms, :one)',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':k': { SS: [dmKey] }, ':one': { S: dmKey }, ':ttl': { N: String(this.nowSeconds() + RETENTION_SECONDS) } },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }
}
