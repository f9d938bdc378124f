import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { AwsError, type JsonService } from '../../local/protocol/aws.ts';
import { startEdge, type Edge } from '../../local/edge.ts';
import { startDynamo, type LocalDynamo } from '../../local/dynamodb.ts';
import { LocalStepFunctions } from '../../local/stepfunctions/service.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** A stand-in sso-admin: throttles the first `throttles` calls of each request id, then answers IN_PROGRESS. */
class FlakySsoAdmin implements JsonService {
  readonly targetPrefixes = ['SWBExternalService'];
  readonly calls: Array<{ operation: string; input: Record<string, unknown> }> = [];
  private readonly seen = new Map<string, number>();
  async handle(operation: string, input: Record<string, unknown>) {
    this.calls.push({ operation, input });
    if (operation === 'CreateAccountAssignment') {
      const key = String(input.TargetId);
      const n = (this.seen.get(key) ?? 0) + 1;
      this.seen.set(key, n);
      if (key.startsWith('throttle') && n <= 2) throw new AwsError('ThrottlingException', 'Rate exceeded');
      if (key.startsWith('denied')) throw new AwsError('AccessDeniedException', 'Not allowed on the management account');
      return { AccountAssignmentCreationStatus: { Status: 'IN_PROGRESS', RequestId: `req-${key}`, TargetId: key } };
    }
    throw new AwsError('UnknownOperationException', operation);
  }
}

describe('local Step Functions', () => {
  let edge: Edge;
  let dynamo: LocalDynamo;
  let sfn: LocalStepFunctions;
  let client: SFNClient;
  const ssoAdmin = new FlakySsoAdmin();
  const lines: string[] = [];

  beforeAll(async () => {
    dynamo = await startDynamo();
    sfn = new LocalStepFunctions({ retryIntervalMs: 1, log: (l) => lines.push(l) });
    edge = await startEdge({ port: 0, jsonServices: [sfn, ssoAdmin], dynamodb: dynamo, log: () => {} });
    sfn.setSdkEndpoint(edge.url);
    client = new SFNClient({ endpoint: edge.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    const ddb = new DynamoDBClient({ endpoint: edge.url, region: 'us-east-1', credentials });
    await ddb.send(
      new CreateTableCommand({
        TableName: 'holders',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    ddb.destroy();
  });
  afterAll(async () => {
    client?.destroy();
    await sfn?.close();
    await edge?.close();
    await dynamo?.close();
  });

  async function create(name: string, definition: object): Promise<string> {
    const out = await client.send(
      new CreateStateMachineCommand({ name, definition: JSON.stringify(definition), roleArn: 'arn:aws:iam::000000000000:role/sfn' }),
    );
    return out.stateMachineArn!;
  }

  async function runToEnd(stateMachineArn: string, input: unknown, name?: string) {
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input), ...(name ? { name } : {}) }));
    await sfn.waitForExecution(executionArn!);
    return client.send(new DescribeExecutionCommand({ executionArn }));
  }

  const assign = {
    Type: 'Task',
    Resource: 'arn:aws:states:::aws-sdk:ssoadmin:createAccountAssignment',
    Parameters: {
      InstanceArn: 'arn:aws:sso:::instance/ssoins-1',
      'TargetId.$': '$.account',
      TargetType: 'AWS_ACCOUNT',
      PermissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-1/ps-1',
      PrincipalType: 'USER',
      PrincipalId: 'user-1',
    },
  };

  it('retries an aws-sdk task on SsoAdmin.ThrottlingException and succeeds', async () => {
    const arn = await create('retry', {
      StartAt: 'Assign',
      States: {
        Assign: {
          ...assign,
          Retry: [{ ErrorEquals: ['SsoAdmin.ThrottlingException'], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 }],
          ResultSelector: { 'status.$': '$.AccountAssignmentCreationStatus.Status', 'requestId.$': '$.AccountAssignmentCreationStatus.RequestId' },
          End: true,
        },
      },
    });
    const out = await runToEnd(arn, { account: 'throttle-111111111111' });
    expect(out.status).toBe('SUCCEEDED');
    expect(JSON.parse(out.output!)).toEqual({ status: 'IN_PROGRESS', requestId: 'req-throttle-111111111111' });
    const calls = ssoAdmin.calls.filter((c) => c.input.TargetId === 'throttle-111111111111');
    expect(calls).toHaveLength(3);
    expect(calls[0]!.input).toMatchObject({ InstanceArn: 'arn:aws:sso:::instance/ssoins-1', PrincipalId: 'user-1', TargetType: 'AWS_ACCOUNT' });

    const history = await client.send(new GetExecutionHistoryCommand({ executionArn: out.executionArn }));
    const types = history.events!.map((e) => e.type);
    expect(types).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskFailed',
      'TaskFailed',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    const failed = history.events!.find((e) => e.type === 'TaskFailed')!;
    expect(failed.taskFailedEventDetails).toMatchObject({ error: 'SsoAdmin.ThrottlingException', resourceType: 'aws-sdk:ssoadmin', resource: 'createAccountAssignment' });
    expect(failed.taskFailedEventDetails!.cause).toContain('Rate exceeded');
  });

  it('fails the execution with the exact error name when retries run out', async () => {
    const arn = await create('retry-exhausted', {
      StartAt: 'Assign',
      States: { Assign: { ...assign, Retry: [{ ErrorEquals: ['SsoAdmin.ThrottlingException'], MaxAttempts: 1 }], End: true } },
    });
    const out = await runToEnd(arn, { account: 'throttle-222222222222' });
    expect(out.status).toBe('FAILED');
    expect(out.error).toBe('SsoAdmin.ThrottlingException');
    expect(out.cause).toContain('Rate exceeded');
  });

  it('catches any service error with States.TaskFailed, passing Error and Cause', async () => {
    const arn = await create('catch-any', {
      StartAt: 'Assign',
      States: {
        Assign: { ...assign, Catch: [{ ErrorEquals: ['States.TaskFailed'], ResultPath: '$.failure', Next: 'Failed' }], End: true },
        Failed: { Type: 'Pass', End: true },
      },
    });
    const out = await runToEnd(arn, { account: 'denied-333333333333' });
    expect(out.status).toBe('SUCCEEDED');
    const output = JSON.parse(out.output!);
    expect(output.failure.Error).toBe('SsoAdmin.AccessDeniedException');
    expect(output.failure.Cause).toContain('management account');
  });

  it('catches a named DynamoDB error (DynamoDb.ConditionalCheckFailedException) from a conditional put', async () => {
    const arn = await create('catch-named', {
      StartAt: 'Claim',
      States: {
        Claim: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:dynamodb:putItem',
          Parameters: { TableName: 'holders', Item: { pk: { 'S.$': '$.key' } }, ConditionExpression: 'attribute_not_exists(pk)' },
          Catch: [{ ErrorEquals: ['DynamoDb.ConditionalCheckFailedException'], Next: 'AlreadyHeld' }],
          Next: 'Claimed',
        },
        Claimed: { Type: 'Pass', Result: 'claimed', End: true },
        AlreadyHeld: { Type: 'Pass', Result: 'already-held', End: true },
      },
    });
    expect(JSON.parse((await runToEnd(arn, { key: 'k1' })).output!)).toBe('claimed');
    expect(JSON.parse((await runToEnd(arn, { key: 'k1' })).output!)).toBe('already-held');
  });

  it('runs Choice, intrinsics, the Context Object and Wait with TimestampPath', async () => {
    const arn = await create('flow', {
      StartAt: 'Compute',
      States: {
        Compute: {
          Type: 'Pass',
          Parameters: {
            'greeting.$': "States.Format('hello {}', $$.Execution.Name)",
            'sum.$': 'States.MathAdd($.a, 2)',
            'machine.$': '$$.StateMachine.Name',
            'state.$': '$$.State.Name',
            'entered.$': '$$.State.EnteredTime',
            'at.$': '$.at',
          },
          Next: 'Decide',
        },
        Decide: { Type: 'Choice', Choices: [{ Variable: '$.sum', NumericEquals: 3, Next: 'WaitUntil' }], Default: 'Wrong' },
        WaitUntil: { Type: 'Wait', TimestampPath: '$.at', Next: 'Done' },
        Wrong: { Type: 'Fail', Error: 'Wrong', Cause: 'sum was not 3' },
        Done: { Type: 'Succeed' },
      },
    });
    const at = new Date(Date.now() + 50).toISOString();
    const out = await runToEnd(arn, { a: 1, at }, 'exec-flow-1');
    expect(out.status).toBe('SUCCEEDED');
    const output = JSON.parse(out.output!);
    expect(output).toEqual({ greeting: 'hello exec-flow-1', sum: 3, machine: 'flow', state: 'Compute', entered: expect.any(String), at });
    expect(Date.parse(output.entered)).toBeGreaterThanOrEqual(out.startDate!.getTime() - 1000);
    const history = await client.send(new GetExecutionHistoryCommand({ executionArn: out.executionArn }));
    expect(history.events!.map((e) => e.stateEnteredEventDetails?.name).filter(Boolean)).toEqual(['Compute', 'Decide', 'WaitUntil', 'Done']);

    const wrong = await runToEnd(arn, { a: 5, at });
    expect(wrong.status).toBe('FAILED');
    expect(wrong.error).toBe('Wrong');
    expect(wrong.cause).toBe('sum was not 3');
  });

  it('runs aws-sdk tasks inside a Map state', async () => {
    const arn = await create('map', {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemsPath: '$.accounts',
          ItemSelector: { 'account.$': '$$.Map.Item.Value' },
          ItemProcessor: {
            StartAt: 'AssignOne',
            States: { AssignOne: { ...assign, ResultSelector: { 'id.$': '$.AccountAssignmentCreationStatus.TargetId' }, End: true } },
          },
          End: true,
        },
      },
    });
    const out = await runToEnd(arn, { accounts: ['map-1', 'map-2'] });
    expect(out.status).toBe('SUCCEEDED');
    expect(JSON.parse(out.output!)).toEqual([{ id: 'map-1' }, { id: 'map-2' }]);
  });

  it('invokes registered Lambda handlers; their error names reach Retry and Catch', async () => {
    let attempts = 0;
    sfn.registerLambda('arn:aws:lambda:us-east-1:000000000000:function:flaky', async (event: { n: number }, context) => {
      attempts++;
      if (attempts === 1) {
        const e = new Error('version moved');
        e.name = 'GrantConflict';
        throw e;
      }
      return { doubled: event.n * 2, fn: context.functionName };
    });
    sfn.registerLambda('broken', async () => {
      class PolicyDenied extends Error {
        override name = 'PolicyDenied';
      }
      throw new PolicyDenied('not eligible');
    });
    const arn = await create('lambdas', {
      StartAt: 'Flaky',
      States: {
        Flaky: {
          Type: 'Task',
          Resource: 'arn:aws:lambda:us-east-1:000000000000:function:flaky',
          Retry: [{ ErrorEquals: ['GrantConflict'], MaxAttempts: 2 }],
          ResultPath: '$.flaky',
          Next: 'Broken',
        },
        Broken: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:broken:$LATEST', 'Payload.$': '$' },
          Catch: [{ ErrorEquals: ['PolicyDenied'], ResultPath: '$.denied', Next: 'Done' }],
          End: true,
        },
        Done: { Type: 'Succeed' },
      },
    });
    const out = await runToEnd(arn, { n: 21 });
    expect(out.status).toBe('SUCCEEDED');
    const output = JSON.parse(out.output!);
    expect(output.flaky).toEqual({ doubled: 42, fn: 'flaky' });
    expect(output.denied.Error).toBe('PolicyDenied');
    expect(JSON.parse(output.denied.Cause)).toMatchObject({ errorType: 'PolicyDenied', errorMessage: 'not eligible' });
    expect(attempts).toBe(2);
  });

  it('treats StartExecution names as AWS does: same name and input while open is a no-op, otherwise ExecutionAlreadyExists', async () => {
    const arn = await create('long', {
      StartAt: 'Hold',
      States: { Hold: { Type: 'Wait', Seconds: 3600, End: true } },
    });
    const first = await client.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'grant-01', input: '{"g":1}' }));
    const again = await client.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'grant-01', input: '{"g":1}' }));
    expect(again.executionArn).toBe(first.executionArn);
    expect(again.startDate).toEqual(first.startDate);

    const clash = await client.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'grant-01', input: '{"g":2}' })).catch((e: unknown) => e);
    expect(clash).toBeInstanceOf(ExecutionAlreadyExists);

    const listed = await client.send(new ListExecutionsCommand({ stateMachineArn: arn }));
    expect(listed.executions!.map((e) => [e.name, e.status])).toEqual([['grant-01', 'RUNNING']]);

    await client.send(new StopExecutionCommand({ executionArn: first.executionArn, error: 'Stopped', cause: 'test' }));
    const stopped = await sfn.waitForExecution(first.executionArn!);
    expect(stopped.status).toBe('ABORTED');
    const described = await client.send(new DescribeExecutionCommand({ executionArn: first.executionArn }));
    expect(described).toMatchObject({ status: 'ABORTED', error: 'Stopped', cause: 'test', name: 'grant-01', input: '{"g":1}' });
    expect(described.stopDate).toBeInstanceOf(Date);

    // Closed: the name is taken whatever the input.
    const closed = await client.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'grant-01', input: '{"g":1}' })).catch((e: unknown) => e);
    expect(closed).toBeInstanceOf(ExecutionAlreadyExists);
  });

  it('pages ListExecutions by cursor: executions that end between two pages make the listing skip none that still run', async () => {
    const arn = await create('paged', { StartAt: 'Hold', States: { Hold: { Type: 'Wait', Seconds: 3600, End: true } } });
    const started: string[] = [];
    for (let i = 0; i < 7; i++) {
      started.push((await client.send(new StartExecutionCommand({ stateMachineArn: arn, name: `paged-${i}`, input: '{}' }))).executionArn!);
      await new Promise((r) => setTimeout(r, 5));
    }
    const first = await client.send(new ListExecutionsCommand({ stateMachineArn: arn, statusFilter: 'RUNNING', maxResults: 3 }));
    expect(first.executions!.map((e) => e.name)).toEqual(['paged-6', 'paged-5', 'paged-4']);
    // Two of the first page end before the next page is asked for (an offset would now skip paged-3 and paged-2).
    for (const arnToStop of [started[6]!, started[5]!]) await client.send(new StopExecutionCommand({ executionArn: arnToStop }));
    const seen = first.executions!.map((e) => e.name!);
    let nextToken = first.nextToken;
    while (nextToken) {
      const page = await client.send(new ListExecutionsCommand({ stateMachineArn: arn, statusFilter: 'RUNNING', maxResults: 3, nextToken }));
      seen.push(...page.executions!.map((e) => e.name!));
      nextToken = page.nextToken;
    }
    expect(seen).toEqual(['paged-6', 'paged-5', 'paged-4', 'paged-3', 'paged-2', 'paged-1', 'paged-0']);
    const bad = await client.send(new ListExecutionsCommand({ stateMachineArn: arn, nextToken: 'not-a-token' })).catch((e: unknown) => e);
    expect((bad as Error).name).toBe('InvalidToken');
    for (const a of started.slice(0, 5)) await client.send(new StopExecutionCommand({ executionArn: a }));
  });

  it('describes state machines and reports missing ones with AWS error codes', async () => {
    const arn = await create('described', { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });
    const described = await client.send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
    expect(described).toMatchObject({ name: 'described', status: 'ACTIVE', type: 'STANDARD', stateMachineArn: arn });
    expect(JSON.parse(described.definition!)).toEqual({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });
    const missing = await client
      .send(new StartExecutionCommand({ stateMachineArn: arn.replace('described', 'nothere') }))
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(StateMachineDoesNotExist);
    const invalid = await client
      .send(new CreateStateMachineCommand({ name: 'bad', definition: '{"StartAt":"X","States":{}}', roleArn: 'arn:aws:iam::000000000000:role/r' }))
      .catch((e: unknown) => e);
    expect((invalid as Error).name).toBe('InvalidDefinition');
  });

  it('snapshots and restores definitions and executions; a running one comes back ABORTED', async () => {
    const arn = await create('snap', { StartAt: 'Hold', States: { Hold: { Type: 'Wait', SecondsPath: '$.wait', End: true } } });
    const done = await runToEnd(arn, { wait: 0 }, 'snap-done');
    const running = await client.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'snap-running', input: '{"wait":3600}' }));
    const snapshot = JSON.parse(JSON.stringify(sfn.snapshot())) as ReturnType<LocalStepFunctions['snapshot']>;

    const restarted = new LocalStepFunctions({ log: () => {} });
    restarted.restore(snapshot);
    expect(restarted.describeExecution(done.executionArn!)).toMatchObject({ status: 'SUCCEEDED', output: '{"wait":0}' });
    expect(restarted.describeExecution(running.executionArn!)).toMatchObject({ status: 'ABORTED', error: 'States.Runtime' });
    const again = restarted.startExecution(arn, 'snap-again', '{"wait":0}');
    expect((await restarted.waitForExecution(again.executionArn)).status).toBe('SUCCEEDED');
    await restarted.close();
    await client.send(new StopExecutionCommand({ executionArn: running.executionArn }));
  });

  it('logs one line per state transition', () => {
    expect(lines.some((l) => l.includes('retry/') && l.includes('→ Assign'))).toBe(true);
    expect(lines.some((l) => l.includes('SUCCEEDED'))).toBe(true);
  });
});
