/**
 * The local Step Functions' callback pattern (`.waitForTaskToken`): a DynamoDB PutItem records the
 * token, the state waits until SendTaskSuccess / SendTaskFailure answers it, or its TimeoutSeconds or
 * HeartbeatSeconds lapse; answered or stale tokens get AWS's error codes. The same scenario runs
 * against moto's executing Step Functions in test/conformance/stepfunctions.conformance.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { startDynamo, type LocalDynamo } from '../../local/dynamodb.ts';
import { startEdge, type Edge } from '../../local/edge.ts';
import { LocalStepFunctions } from '../../local/stepfunctions/service.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Records the token under `key`, then waits for it; a timeout or failure is caught into the output. */
function waiterDefinition(limits: { TimeoutSeconds?: number; HeartbeatSeconds?: number } = {}) {
  return {
    StartAt: 'Wait for a slot',
    States: {
      'Wait for a slot': {
        Type: 'Task',
        Resource: 'arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken',
        Parameters: {
          TableName: 'waiters',
          Item: { pk: { 'S.$': '$.key' }, token: { 'S.$': '$$.Task.Token' } },
        },
        ...limits,
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Gave up' }],
        ResultPath: '$.answer',
        End: true,
      },
      'Gave up': { Type: 'Pass', End: true },
    },
  };
}

describe('local Step Functions: callback tasks', () => {
  let dynamo: LocalDynamo;
  let edge: Edge;
  let sfn: LocalStepFunctions;
  let client: SFNClient;
  let ddb: DynamoDBClient;

  beforeAll(async () => {
    dynamo = await startDynamo();
    sfn = new LocalStepFunctions({ log: () => {} });
    edge = await startEdge({ port: 0, jsonServices: [sfn], dynamodb: dynamo, log: () => {} });
    sfn.setSdkEndpoint(edge.url);
    client = new SFNClient({ endpoint: edge.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    ddb = new DynamoDBClient({ endpoint: edge.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    await ddb.send(
      new CreateTableCommand({
        TableName: 'waiters',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  });
  afterAll(async () => {
    client?.destroy();
    ddb?.destroy();
    await sfn?.close();
    await edge?.close();
    await dynamo?.close();
  });

  async function start(name: string, key: string, limits?: Parameters<typeof waiterDefinition>[0]) {
    const { stateMachineArn } = await client.send(
      new CreateStateMachineCommand({ name, definition: JSON.stringify(waiterDefinition(limits)), roleArn: 'arn:aws:iam::000000000000:role/sfn' }),
    );
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify({ key }) }));
    return executionArn!;
  }

  async function recordedToken(key: string): Promise<string> {
    for (let i = 0; i < 200; i++) {
      const item = await ddb.send(new GetItemCommand({ TableName: 'waiters', Key: { pk: { S: key } }, ConsistentRead: true }));
      if (item.Item?.token?.S) return item.Item.token.S;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no token recorded under ${key}`);
  }

  async function status(executionArn: string) {
    return client.send(new DescribeExecutionCommand({ executionArn }));
  }

  it('waits while nobody answers, then carries on with the SendTaskSuccess output', async () => {
    const executionArn = await start('callback-success', 'a');
    const token = await recordedToken('a');
    expect(token).not.toContain('placeholder');
    await new Promise((r) => setTimeout(r, 300));
    expect((await status(executionArn)).status).toBe('RUNNING');

    await client.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ slot: 3 }) }));
    const done = await sfn.waitForExecution(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toEqual({ key: 'a', answer: { slot: 3 } });

    // The task has ended: its token is stale, and a token never issued is invalid.
    await expect(client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toBeInstanceOf(TaskTimedOut);
    await expect(client.send(new SendTaskSuccessCommand({ taskToken: 'not-a-token', output: '{}' }))).rejects.toBeInstanceOf(InvalidToken);
  });

  it('fails the task with the error and cause given to SendTaskFailure', async () => {
    const executionArn = await start('callback-failure', 'b');
    const token = await recordedToken('b');
    await client.send(new SendTaskFailureCommand({ taskToken: token, error: 'SlotWithdrawn', cause: 'the holder crashed' }));
    const done = await sfn.waitForExecution(executionArn);
    expect(JSON.parse(done.output!).error).toEqual({ Error: 'SlotWithdrawn', Cause: 'the holder crashed' });
  });

  it('ends a task that outlives TimeoutSeconds with States.Timeout', async () => {
    const executionArn = await start('callback-timeout', 'c', { TimeoutSeconds: 1 });
    const token = await recordedToken('c');
    const done = await sfn.waitForExecution(executionArn);
    expect(JSON.parse(done.output!).error.Error).toBe('States.Timeout');
    await expect(client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toBeInstanceOf(TaskTimedOut);
  });

  it('keeps a task alive while heartbeats arrive, and times it out when they stop', async () => {
    const executionArn = await start('callback-heartbeat', 'd', { HeartbeatSeconds: 1 });
    const token = await recordedToken('d');
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 600));
      await client.send(new SendTaskHeartbeatCommand({ taskToken: token }));
    }
    expect((await status(executionArn)).status).toBe('RUNNING');
    const done = await sfn.waitForExecution(executionArn);
    expect(JSON.parse(done.output!).error.Error).toBe('States.Timeout');
  });

  it('rejects output that is not JSON, leaving the task waiting', async () => {
    const executionArn = await start('callback-bad-output', 'e');
    const token = await recordedToken('e');
    await expect(client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{not json' }))).rejects.toMatchObject({ name: 'InvalidOutput' });
    expect((await status(executionArn)).status).toBe('RUNNING');
    await client.send(new SendTaskSuccessCommand({ taskToken: token, output: '"ok"' }));
    expect((await sfn.waitForExecution(executionArn)).status).toBe('SUCCEEDED');
  });
});
