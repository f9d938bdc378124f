import 'aws-sdk-client-mock-vitest/extend';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoStore } from '../../lib/adapters/dynamo-store.ts';
import { INDEX } from '../../lib/table/keys.ts';
import { ConflictError } from '../../lib/errors.ts';
import { makeGrant, testActor } from '../support/grants.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const store = new DynamoStore(new DynamoDBClient({ region: 'us-east-1' }), { tableName: 'grants', retentionDays: 30 });
const entry = { at: '2030-01-01T00:00:00.000Z', actor: testActor, action: 'x' };

beforeEach(() => {
  ddb.reset();
  ddb.onAnyCommand().resolves({});
});

describe('DynamoStore (unit, SDK mocked)', () => {
  it('creates a grant with its index keys, only if the id is new', async () => {
    const g = makeGrant();
    await store.create(g);
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'grants',
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: expect.objectContaining({ pk: `GRANT#${g.id}`, gsi1pk: `USER#${g.principal.userId}`, gsi2pk: 'STATUS#PENDING_APPROVAL', gsi3pk: `PENDING#${g.ruleId}`, gsi4pk: 'GRANT' }),
    });
  });

  it('writes a transition conditional on status and version, appending history and leaving the pending index', async () => {
    const g = makeGrant();
    await store.transition({ current: g, to: 'APPROVED', set: { pendingExpiresAt: undefined }, entry });
    const input = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(input.ConditionExpression).toBe('#status = :expectedStatus AND #version = :expectedVersion');
    expect(input.ExpressionAttributeValues).toMatchObject({ ':expectedStatus': 'PENDING_APPROVAL', ':expectedVersion': 1, ':to': 'APPROVED', ':nextVersion': 2 });
    expect(input.UpdateExpression).toContain('#history = list_append(#history, :entry)');
    expect(input.UpdateExpression).toMatch(/REMOVE .*gsi3pk, gsi3sk/);
  });

  it('turns a lost condition into a 409 ConflictError', async () => {
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    await expect(store.transition({ current: makeGrant(), to: 'DENIED', entry })).rejects.toBeInstanceOf(ConflictError);
  });

  it('sets a TTL when a grant ends', async () => {
    await store.transition({ current: makeGrant(), to: 'DENIED', set: { endedAt: '2030-01-01T00:00:00.000Z' }, entry });
    const values = ddb.commandCalls(UpdateCommand)[0]!.args[0].input.ExpressionAttributeValues!;
    expect(values[':ttl']).toBe(Date.parse('2030-01-01T00:00:00.000Z') / 1000 + 30 * 86400);
  });

  it('queries the sweeper index by status and deadline, never scanning', async () => {
    ddb.on(QueryCommand).resolves({ Items: [], LastEvaluatedKey: { pk: 'a', sk: 'b' } });
    const page = await store.listByStatus('ACTIVE', { limit: 10 }, '2030-01-01T00:00:00.000Z');
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      IndexName: INDEX.byStatus,
      KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk < :before',
      ExpressionAttributeValues: { ':pk': 'STATUS#ACTIVE', ':before': '2030-01-01T00:00:00.000Z' },
      Limit: 10,
    });
    expect(page.cursor).toBeDefined();
  });
});
