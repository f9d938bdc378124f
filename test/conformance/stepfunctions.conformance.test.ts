/**
 * Conformance: the local Step Functions API against moto_server (or CONFORMANCE_ENDPOINT).
 * moto does not execute state machines (its executions stay RUNNING), so the scenario
 * holds executions open with a long Wait and compares the API: CreateStateMachine
 * idempotency, DescribeStateMachine, StartExecution name rules (same name + input while
 * open → same execution; different input, or a closed execution → ExecutionAlreadyExists),
 * DescribeExecution, ListExecutions, StopExecution, and the error codes for missing things.
 * Execution semantics (Retry/Catch, aws-sdk tasks, history) are in test/local/stepfunctions.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { startEdge, type Edge } from '../../local/edge.ts';
import { LocalStepFunctions } from '../../local/stepfunctions/service.ts';
import { startExternalEndpoint, type ExternalEndpoint } from './moto.ts';

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const REGION = 'us-east-1';
const DEFINITION = JSON.stringify({ StartAt: 'Hold', States: { Hold: { Type: 'Wait', Seconds: 3600, End: true } } });

async function observe(endpoint: string, runId: string): Promise<unknown[]> {
  const client = new SFNClient({ endpoint, region: REGION, credentials, maxAttempts: 1 });
  const out: unknown[] = [];
  const record = async <T>(step: string, call: () => Promise<T>, pick: (r: T) => unknown = () => 'ok'): Promise<T | undefined> => {
    try {
      const result = await call();
      out.push([step, pick(result)]);
      return result;
    } catch (e) {
      out.push([step, 'error', (e as Error).name]);
      return undefined;
    }
  };
  const roleArn = 'arn:aws:iam::123456789012:role/states';
  const name = `grant-${runId}`;
  const created = await record('create', () => client.send(new CreateStateMachineCommand({ name, definition: DEFINITION, roleArn })), (r) => r.stateMachineArn);
  const arn = created?.stateMachineArn ?? 'arn:aws:states:us-east-1:123456789012:stateMachine:none';
  await record('create again, same definition', () => client.send(new CreateStateMachineCommand({ name, definition: DEFINITION, roleArn })), (r) => r.stateMachineArn);
  await record('describe machine', () => client.send(new DescribeStateMachineCommand({ stateMachineArn: arn })), (r) => ({
    name: r.name,
    status: r.status,
    type: r.type,
    roleArn: r.roleArn,
    definition: JSON.parse(r.definition!),
    hasCreationDate: r.creationDate instanceof Date,
  }));
  const first = await record('start', () => client.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'exec-1', input: '{"g":1}' })), (r) => r.executionArn);
  await record(
    'start same name and input',
    () => client.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'exec-1', input: '{"g":1}' })),
    (r) => r.executionArn === first?.executionArn,
  );
  await record('start same name, other input', () => client.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'exec-1', input: '{"g":2}' })));
  await record('start other name', () => client.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'exec-2', input: '{}' })), (r) => r.executionArn);
  await record('describe execution', () => client.send(new DescribeExecutionCommand({ executionArn: first!.executionArn })), (r) => ({
    name: r.name,
    status: r.status,
    input: r.input,
    stateMachineArn: r.stateMachineArn,
    hasStartDate: r.startDate instanceof Date,
  }));
  await record('list executions', () => client.send(new ListExecutionsCommand({ stateMachineArn: arn })), (r) =>
    r.executions!.map((e) => [e.name, e.status]).sort(),
  );
  await record('stop', () => client.send(new StopExecutionCommand({ executionArn: first!.executionArn })), (r) => r.stopDate instanceof Date);
  // Stopping is asynchronous locally (the engine unwinds); poll the status like a client would.
  let stoppedStatus: string | undefined;
  for (let i = 0; i < 50 && stoppedStatus !== 'ABORTED'; i++) {
    stoppedStatus = (await client.send(new DescribeExecutionCommand({ executionArn: first!.executionArn }))).status;
    if (stoppedStatus !== 'ABORTED') await new Promise((r) => setTimeout(r, 20));
  }
  out.push(['status after stop', stoppedStatus]);
  await record('start closed name', () => client.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'exec-1', input: '{"g":1}' })));
  await record('list running', () => client.send(new ListExecutionsCommand({ stateMachineArn: arn, statusFilter: 'RUNNING' })), (r) =>
    r.executions!.map((e) => e.name),
  );
  await record('describe missing execution', () =>
    client.send(new DescribeExecutionCommand({ executionArn: `arn:aws:states:${REGION}:123456789012:execution:${name}:nope` })),
  );
  await record('start on missing machine', () =>
    client.send(new StartExecutionCommand({ stateMachineArn: `arn:aws:states:${REGION}:123456789012:stateMachine:missing-${runId}` })),
  );
  client.destroy();
  return JSON.parse(JSON.stringify(out).replaceAll(runId, 'RUN').replace(/:\d{12}:/g, ':ACCOUNT:'));
}

describe('Step Functions conformance: local cloud vs moto_server', () => {
  let external: ExternalEndpoint;
  let edge: Edge;
  let sfn: LocalStepFunctions;

  beforeAll(async () => {
    external = await startExternalEndpoint();
    sfn = new LocalStepFunctions({ log: () => {} });
    edge = await startEdge({ port: 0, jsonServices: [sfn], log: () => {} });
  }, 120_000);
  afterAll(async () => {
    await sfn?.close();
    await edge?.close();
    await external?.stop();
  });

  it('answers the API the same way', async () => {
    const runId = randomUUID().slice(0, 8);
    const [local, reference] = await Promise.all([observe(edge.url, runId), observe(external.url, runId)]);
    expect(local).toEqual(reference);
    expect(local).toContainEqual(['start same name and input', true]);
    expect(local).toContainEqual(['start same name, other input', 'error', 'ExecutionAlreadyExists']);
    expect(local).toContainEqual(['start closed name', 'error', 'ExecutionAlreadyExists']);
  }, 60_000);
});
