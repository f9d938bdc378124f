/**
 * Conformance of the callback pattern the workflows' slot admission uses: a
 * `aws-sdk:dynamodb:putItem.waitForTaskToken` task records `$$.Task.Token` in a table, the
 * execution waits, SendTaskSuccess resumes it with the given output, SendTaskFailure fails the
 * task with the given error (caught by the definition), and a token never issued is
 * InvalidToken. moto_server runs the definition for real (its `execute_state_machine` mode).
 *
 * Left out of the comparison, with the local answer checked in test/local/stepfunctions-callbacks.test.ts:
 *  - the Cause of SendTaskFailure, which moto drops and Step Functions passes on to Catch;
 *  - answering a token whose task has ended: TaskTimedOut, as the Step Functions API reference
 *    says; moto answers InvalidToken. Callers treat both alike (the waiter is gone).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateStateMachineCommand, DescribeExecutionCommand, SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { startDynamo, type LocalDynamo } from '../../local/dynamodb.ts';
import { startEdge, type Edge } from '../../local/edge.ts';
import { LocalStepFunctions } from '../../local/stepfunctions/service.ts';
import { startExternalEndpoint, type ExternalEndpoint } from './moto.ts';

const REGION = 'us-east-1';

const DEFINITION = JSON.stringify({
  StartAt: 'Wait for a slot',
  States: {
    'Wait for a slot': {
      Type: 'Task',
      Resource: 'arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken',
      Parameters: { TableName: 'waiters', Item: { pk: { 'S.$': '$.key' }, token: { 'S.$': '$$.Task.Token' } } },
      ResultPath: '$.answer',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Withdrawn' }],
      End: true,
    },
    Withdrawn: { Type: 'Pass', End: true },
  },
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Makes moto ready for one more execution: in its executing mode it can run one execution per server life, so it is reset between them. */
async function resetMoto(url: string): Promise<void> {
  expect((await fetch(`${url}/moto-api/reset`, { method: 'POST' })).ok).toBe(true);
  const res = await fetch(`${url}/moto-api/config`, { method: 'POST', body: JSON.stringify({ stepfunctions: { execute_state_machine: true } }) });
  expect(res.ok).toBe(true);
}

async function observe(endpoint: string, runId: string, beforeEachExecution: () => Promise<void>): Promise<unknown[]> {
  const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  const sfn = new SFNClient({ endpoint, region: REGION, credentials, maxAttempts: 1 });
  const ddb = new DynamoDBClient({ endpoint, region: REGION, credentials, maxAttempts: 1 });
  const out: unknown[] = [];
  const createTable = () =>
    ddb.send(
      new CreateTableCommand({
        TableName: 'waiters',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  try {
    const token = async (key: string, executionArn: string) => {
      for (let i = 0; i < 150; i++) {
        const item = await ddb.send(new GetItemCommand({ TableName: 'waiters', Key: { pk: { S: key } }, ConsistentRead: true }));
        if (item.Item?.token?.S) return item.Item.token.S;
        await sleep(50);
      }
      const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      throw new Error(`${endpoint}: no token recorded for ${key}; the execution is ${d.status}: ${d.output ?? d.cause ?? ''}`);
    };
    const closed = async (executionArn: string) => {
      for (let i = 0; i < 150; i++) {
        const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
        if (d.status !== 'RUNNING') return [d.status, JSON.parse(d.output ?? 'null')];
        await sleep(50);
      }
      return ['RUNNING'];
    };
    const start = async (key: string) => {
      await beforeEachExecution();
      await createTable().catch((e: Error) => {
        if (e.name !== 'ResourceInUseException') throw e;
      });
      const { stateMachineArn } = await sfn.send(
        new CreateStateMachineCommand({ name: `admission-${key}-${runId}`, definition: DEFINITION, roleArn: 'arn:aws:iam::123456789012:role/states' }),
      );
      return (await sfn.send(new StartExecutionCommand({ stateMachineArn, name: key, input: JSON.stringify({ key }) }))).executionArn!;
    };

    const woken = await start('woken');
    const wokenToken = await token('woken', woken);
    out.push(['recorded token is a string', typeof wokenToken === 'string' && wokenToken.length > 0]);
    await sleep(300);
    out.push(['status before the answer', (await sfn.send(new DescribeExecutionCommand({ executionArn: woken }))).status]);
    await sfn.send(new SendTaskSuccessCommand({ taskToken: wokenToken, output: JSON.stringify({ slot: 'SLOT#3' }) }));
    out.push(['after SendTaskSuccess', await closed(woken)]);

    const withdrawn = await start('withdrawn');
    await sfn.send(new SendTaskFailureCommand({ taskToken: await token('withdrawn', withdrawn), error: 'SlotWithdrawn', cause: 'the waiter was replaced' }));
    const [failedStatus, failedOutput] = (await closed(withdrawn)) as [string, { error?: { Error?: string } }];
    out.push(['after SendTaskFailure', failedStatus, failedOutput?.error?.Error]);

    try {
      await sfn.send(new SendTaskSuccessCommand({ taskToken: `never-issued-${runId}`, output: '{}' }));
      out.push(['unknown token', 'accepted']);
    } catch (e) {
      out.push(['unknown token', (e as Error).name]);
    }
  } finally {
    sfn.destroy();
    ddb.destroy();
  }
  return out;
}

describe('Step Functions callback conformance: local cloud vs moto_server', () => {
  let external: ExternalEndpoint;
  let dynamo: LocalDynamo;
  let edge: Edge;
  let sfn: LocalStepFunctions;

  beforeAll(async () => {
    external = await startExternalEndpoint();
    dynamo = await startDynamo();
    sfn = new LocalStepFunctions({ log: () => {} });
    edge = await startEdge({ port: 0, jsonServices: [sfn], dynamodb: dynamo, log: () => {} });
    sfn.setSdkEndpoint(edge.url);
  }, 120_000);
  afterAll(async () => {
    await sfn?.close();
    await edge?.close();
    await dynamo?.close();
    await external?.stop();
  });

  it('waits, resumes and fails callback tasks the same way', async () => {
    const runId = randomUUID().slice(0, 8);
    const [local, reference] = await Promise.all([observe(edge.url, runId, async () => {}), observe(external.url, runId, () => resetMoto(external.url))]);
    expect(local).toEqual(reference);
    expect(local).toEqual([
      ['recorded token is a string', true],
      ['status before the answer', 'RUNNING'],
      ['after SendTaskSuccess', ['SUCCEEDED', { key: 'woken', answer: { slot: 'SLOT#3' } }]],
      ['after SendTaskFailure', 'SUCCEEDED', 'SlotWithdrawn'],
      ['unknown token', 'InvalidToken'],
    ]);
  }, 90_000);
});
