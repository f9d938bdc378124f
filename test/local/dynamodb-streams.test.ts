import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateTableCommand, DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { startDynamo, type LocalDynamo } from '../../local/dynamodb.ts';
import { mayConcern, withStreams, type StreamConsumer, type StreamRecord } from '../../local/dynamodb-streams.ts';
import { startEdge, type Edge } from '../../local/edge.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const grantsOnly = [{ dynamodb: { Keys: { pk: { S: [{ prefix: 'GRANT#' }] } } } }];

describe('local DynamoDB streams', () => {
  let edge: Edge;
  let dynamo: LocalDynamo;
  const records: StreamRecord[] = [];
  const consumers: StreamConsumer[] = [{ name: 'grants', filterPatterns: grantsOnly, handle: async (event) => void records.push(...event.Records) }];
  const ddb = () => new DynamoDBClient({ endpoint: edge.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  const delivered = async (n: number) => {
    for (let i = 0; i < 100 && records.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  };

  beforeAll(async () => {
    dynamo = await startDynamo();
    edge = await startEdge({ port: 0, dynamodb: withStreams(dynamo, () => consumers, () => undefined) });
    await ddb().send(
      new CreateTableCommand({
        TableName: 'streams',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  });
  afterAll(async () => {
    await edge?.close();
    await dynamo?.close();
  });

  it('decides from the keys alone only when every filter of every consumer reads nothing but the keys', () => {
    const slot = { pk: { S: 'SLOT#1' }, sk: { S: 'SLOT' } };
    const grant = { pk: { S: 'GRANT#g1' }, sk: { S: 'GRANT' } };
    expect(mayConcern(consumers, slot)).toBe(false);
    expect(mayConcern(consumers, grant)).toBe(true);
    // No filter: every record is delivered. A filter on the images: the images must be read to decide.
    expect(mayConcern([{ name: 'all', handle: async () => undefined }], slot)).toBe(true);
    const onImage = [{ dynamodb: { NewImage: { status: { S: ['ACTIVE'] } } } }];
    expect(mayConcern([{ name: 'image', filterPatterns: onImage, handle: async () => undefined }], slot)).toBe(true);
    expect(mayConcern([...consumers, { name: 'image', filterPatterns: onImage, handle: async () => undefined }], slot)).toBe(true);
  });

  it('delivers INSERT, MODIFY and REMOVE records with their images for matching keys, and applies every write', async () => {
    const Key = { pk: { S: 'GRANT#g2' }, sk: { S: 'GRANT' } };
    await ddb().send(new PutItemCommand({ TableName: 'streams', Item: { ...Key, status: { S: 'PENDING' } } }));
    await ddb().send(new UpdateItemCommand({ TableName: 'streams', Key, UpdateExpression: 'SET #s = :s', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':s': { S: 'ACTIVE' } } }));
    // Writes no consumer wants pass straight through (no record, the write still made).
    const slotKey = { pk: { S: 'SLOT#3' }, sk: { S: 'SLOT' } };
    await ddb().send(new PutItemCommand({ TableName: 'streams', Item: { ...slotKey, owner: { S: 'x' } }, ConditionExpression: 'attribute_not_exists(pk)' }));
    await ddb().send(new UpdateItemCommand({ TableName: 'streams', Key: slotKey, UpdateExpression: 'REMOVE #o', ExpressionAttributeNames: { '#o': 'owner' } }));
    await ddb().send(new DeleteItemCommand({ TableName: 'streams', Key }));
    await delivered(3);
    expect(records.map((r) => [r.eventName, r.dynamodb.Keys.pk])).toEqual([
      ['INSERT', { S: 'GRANT#g2' }],
      ['MODIFY', { S: 'GRANT#g2' }],
      ['REMOVE', { S: 'GRANT#g2' }],
    ]);
    expect(records[1]!.dynamodb.OldImage).toMatchObject({ status: { S: 'PENDING' } });
    expect(records[1]!.dynamodb.NewImage).toMatchObject({ status: { S: 'ACTIVE' } });
    expect((await ddb().send(new GetItemCommand({ TableName: 'streams', Key: slotKey }))).Item).toEqual(slotKey);
    // A failed condition on a passed-through write is DynamoDB's own answer.
    const refused = await ddb()
      .send(new PutItemCommand({ TableName: 'streams', Item: slotKey, ConditionExpression: 'attribute_not_exists(pk)' }))
      .catch((e: unknown) => e);
    expect((refused as Error).name).toBe('ConditionalCheckFailedException');
  });
});
