import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConditionalCheckFailedException, CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ListInstancesCommand, SSOAdminClient, ThrottlingException } from '@aws-sdk/client-sso-admin';
import { GetScheduleCommand, ResourceNotFoundException, SchedulerClient } from '@aws-sdk/client-scheduler';
import { GetParameterCommand, GetParametersCommand, ParameterNotFound, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AwsError, type JsonService, type RestService } from '../../local/protocol/aws.ts';
import { startEdge, type Edge, type EdgeRequestLog } from '../../local/edge.ts';
import { startDynamo, type LocalDynamo } from '../../local/dynamodb.ts';
import { LocalSsm } from '../../local/ssm.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

describe('local edge endpoint', () => {
  let edge: Edge;
  let dynamo: LocalDynamo;
  const logs: EdgeRequestLog[] = [];
  const seenByJson: Array<{ operation: string; region: string }> = [];

  const ssoAdmin: JsonService = {
    targetPrefixes: ['SWBExternalService'],
    async handle(operation, _input, ctx) {
      seenByJson.push({ operation, region: ctx.region });
      if (operation === 'ListInstances') throw new AwsError('ThrottlingException', 'Rate exceeded');
      return { answered: operation };
    },
  };
  const scheduler: RestService = {
    signingName: 'scheduler',
    async handle(req) {
      throw new AwsError('ResourceNotFoundException', `Schedule ${req.path} does not exist.`, 404);
    },
  };

  beforeAll(async () => {
    dynamo = await startDynamo();
    edge = await startEdge({
      port: 0,
      jsonServices: [ssoAdmin, new LocalSsm({ seed: { '/jit/slack/signing-secret': 's3cr3t', '/jit/plain': { value: 'p', type: 'String' } } })],
      restServices: [scheduler],
      dynamodb: dynamo,
      log: (entry) => logs.push(entry),
    });
  });
  afterAll(async () => {
    await edge?.close();
    await dynamo?.close();
  });

  const client = <T>(Ctor: new (config: object) => T, region = 'eu-west-1'): T =>
    new Ctor({ endpoint: edge.url, region, credentials, maxAttempts: 1 });

  it('routes awsJson by X-Amz-Target and encodes AwsError so the SDK names it', async () => {
    const err = await client(SSOAdminClient).send(new ListInstancesCommand({})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottlingException);
    expect((err as Error).name).toBe('ThrottlingException');
    expect((err as Error).message).toBe('Rate exceeded');
    expect((err as ThrottlingException).$metadata.httpStatusCode).toBe(400);
    expect(seenByJson.at(-1)).toEqual({ operation: 'ListInstances', region: 'eu-west-1' });
    expect(logs.at(-1)).toMatchObject({ service: 'SWBExternalService', operation: 'ListInstances', status: 400, error: 'ThrottlingException' });
  });

  it('routes restJson by the signing name and encodes errors as restJson1', async () => {
    const err = await client(SchedulerClient).send(new GetScheduleCommand({ Name: 'nope' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourceNotFoundException);
    expect((err as Error).name).toBe('ResourceNotFoundException');
    expect((err as ResourceNotFoundException).$metadata.httpStatusCode).toBe(404);
    expect(logs.at(-1)).toMatchObject({ service: 'scheduler', operation: 'GET /schedules/nope', status: 404 });
  });

  it('passes DynamoDB through to the embedded dynalite, errors included', async () => {
    const ddb = client(DynamoDBClient);
    await ddb.send(
      new CreateTableCommand({
        TableName: 'edge-test',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await ddb.send(new PutItemCommand({ TableName: 'edge-test', Item: { pk: { S: 'a' }, v: { N: '1' } } }));
    const got = await ddb.send(new GetItemCommand({ TableName: 'edge-test', Key: { pk: { S: 'a' } } }));
    expect(got.Item).toEqual({ pk: { S: 'a' }, v: { N: '1' } });
    const err = await ddb
      .send(new PutItemCommand({ TableName: 'edge-test', Item: { pk: { S: 'a' } }, ConditionExpression: 'attribute_not_exists(pk)' }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConditionalCheckFailedException);
    expect(logs.at(-1)).toMatchObject({ service: 'dynamodb', operation: 'PutItem', status: 400 });
  });

  it('serves SSM parameters, decrypting SecureString only when asked', async () => {
    const ssm = client(SSMClient);
    const plain = await ssm.send(new GetParameterCommand({ Name: '/jit/slack/signing-secret', WithDecryption: true }));
    expect(plain.Parameter).toMatchObject({ Name: '/jit/slack/signing-secret', Type: 'SecureString', Value: 's3cr3t', Version: 1 });
    expect(plain.Parameter?.LastModifiedDate).toBeInstanceOf(Date);
    const cipher = await ssm.send(new GetParameterCommand({ Name: '/jit/slack/signing-secret' }));
    expect(cipher.Parameter?.Value).not.toBe('s3cr3t');
    const many = await ssm.send(new GetParametersCommand({ Names: ['/jit/plain', '/jit/missing'], WithDecryption: true }));
    expect(many.Parameters?.map((p) => p.Value)).toEqual(['p']);
    expect(many.InvalidParameters).toEqual(['/jit/missing']);
    expect(await ssm.send(new PutParameterCommand({ Name: '/jit/plain', Value: 'q', Overwrite: true }))).toMatchObject({ Version: 2 });
    const missing = await ssm.send(new GetParameterCommand({ Name: '/jit/none' })).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ParameterNotFound);
  });

  it('answers an unknown target with UnknownOperationException', async () => {
    const res = await fetch(edge.url, {
      method: 'POST',
      headers: { 'x-amz-target': 'NoSuchService.DoIt', 'content-type': 'application/x-amz-json-1.1' },
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    expect(res.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(await res.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });
});

describe('embedded DynamoDB persistence', () => {
  it('keeps tables and items across a restart when given a folder', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const folder = mkdtempSync(join(tmpdir(), 'jit-dynamo-'));
    try {
      const first = await startDynamo({ path: folder });
      const ddb1 = new DynamoDBClient({ endpoint: first.url, region: 'us-east-1', credentials });
      await ddb1.send(
        new CreateTableCommand({
          TableName: 'kept',
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      await ddb1.send(new PutItemCommand({ TableName: 'kept', Item: { pk: { S: 'x' } } }));
      ddb1.destroy();
      await first.close();

      const second = await startDynamo({ path: folder });
      const ddb2 = new DynamoDBClient({ endpoint: second.url, region: 'us-east-1', credentials });
      const got = await ddb2.send(new GetItemCommand({ TableName: 'kept', Key: { pk: { S: 'x' } } }));
      expect(got.Item).toEqual({ pk: { S: 'x' } });
      ddb2.destroy();
      await second.close();
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
