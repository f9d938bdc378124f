import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ListInstancesCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { startDynamo, type LocalDynamo } from '../../local/dynamodb.ts';
import { DynamoFaults, requestPartitionKeys } from '../../local/dynamodb-faults.ts';
import { startEdge, type Edge, type EdgeRequest, type EdgeRequestLog } from '../../local/edge.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

describe('edge observer and DynamoDB faults', () => {
  let edge: Edge;
  let dynamo: LocalDynamo;
  const faults = new DynamoFaults();
  const seen: EdgeRequest[] = [];
  const logs: EdgeRequestLog[] = [];
  const ddb = (maxAttempts: number) => new DynamoDBClient({ endpoint: edge.url, region: 'us-east-1', credentials, maxAttempts });

  beforeAll(async () => {
    dynamo = await startDynamo();
    edge = await startEdge({
      port: 0,
      jsonServices: [{ targetPrefixes: ['SWBExternalService'], handle: async () => ({}) }],
      dynamodb: dynamo,
      log: (entry) => logs.push(entry),
      observe: (request) => seen.push(request),
      dropDynamo: (operation, input) => faults.drops(operation, input),
    });
    await ddb(1).send(
      new CreateTableCommand({
        TableName: 'faults',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  });
  afterAll(async () => {
    await edge?.close();
    await dynamo?.close();
  });

  it('shows the observer every request with its service, operation and input', async () => {
    await ddb(1).send(new GetItemCommand({ TableName: 'faults', Key: { pk: { S: 'SLOT#1' } } }));
    await new SSOAdminClient({ endpoint: edge.url, region: 'us-east-1', credentials, maxAttempts: 1 }).send(new ListInstancesCommand({ MaxResults: 5 }));
    expect(seen.at(-2)).toEqual({ service: 'dynamodb', operation: 'GetItem', input: { TableName: 'faults', Key: { pk: { S: 'SLOT#1' } } } });
    expect(seen.at(-1)).toEqual({ service: 'SWBExternalService', operation: 'ListInstances', input: { MaxResults: 5 } });
  });

  it('drops matching writes without an answer; the SDK sees a connection reset and retries it', async () => {
    faults.set({ rate: 1, pkPrefix: 'SLOT#' });
    try {
      const err = await ddb(3).send(new PutItemCommand({ TableName: 'faults', Item: { pk: { S: 'SLOT#2' } } })).catch((e: unknown) => e);
      expect((err as NodeJS.ErrnoException).code).toBe('ECONNRESET');
      expect(faults.injected).toBe(3);
      expect(logs.at(-1)).toMatchObject({ service: 'dynamodb', operation: 'PutItem', status: 0, error: 'ConnectionDropped' });
      // Other keys and reads pass; the dropped write never reached the table.
      await ddb(1).send(new PutItemCommand({ TableName: 'faults', Item: { pk: { S: 'GRANT#1' } } }));
      expect((await ddb(1).send(new GetItemCommand({ TableName: 'faults', Key: { pk: { S: 'SLOT#2' } } }))).Item).toBeUndefined();
      expect(faults.injected).toBe(3);
    } finally {
      faults.set(undefined);
    }
    await ddb(1).send(new PutItemCommand({ TableName: 'faults', Item: { pk: { S: 'SLOT#2' } } }));
  });

  it('finds the partition keys a request names', () => {
    expect(requestPartitionKeys('Query', { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'SLOT#WAITERS' } } })).toEqual(['SLOT#WAITERS']);
    expect(requestPartitionKeys('UpdateItem', { Key: { pk: { S: 'SLOT#3' }, sk: { S: 'SLOT' } } })).toEqual(['SLOT#3']);
    expect(requestPartitionKeys('BatchGetItem', { RequestItems: { t: { Keys: [{ pk: { S: 'SLOT#0' } }, { pk: { S: 'SLOT#1' } }] } } })).toEqual(['SLOT#0', 'SLOT#1']);
    expect(
      requestPartitionKeys('TransactWriteItems', { TransactItems: [{ Put: { Item: { pk: { S: 'GRANT#g' } } } }, { Update: { Key: { pk: { S: 'SLOT#4' } } } }] }),
    ).toEqual(['GRANT#g', 'SLOT#4']);
  });
});
