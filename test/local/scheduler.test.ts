import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ConflictException,
  CreateScheduleCommand,
  CreateScheduleGroupCommand,
  DeleteScheduleCommand,
  DeleteScheduleGroupCommand,
  GetScheduleCommand,
  GetScheduleGroupCommand,
  ListScheduleGroupsCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
  ValidationException,
  type CreateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import { AwsError, type JsonService } from '../../local/protocol/aws.ts';
import { startEdge, type Edge } from '../../local/edge.ts';
import { LocalScheduler, UNIVERSAL_SFN_START_EXECUTION, type SchedulerTimer } from '../../local/scheduler/service.ts';
import { LocalStepFunctions } from '../../local/stepfunctions/service.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const ROLE = 'arn:aws:iam::000000000000:role/scheduler';
const T0 = Date.parse('2030-01-01T00:00:00Z');
const FIRING_DELAY_MS = 30_000;

/** Lets a test make StartExecution fail with a given error for the next N calls. */
class FaultySfn implements JsonService {
  readonly targetPrefixes = ['AWSStepFunctions'];
  failures: Array<{ code: string; status: number }> = [];
  constructor(private readonly inner: LocalStepFunctions) {}
  async handle(operation: string, input: Record<string, unknown>) {
    if (operation === 'StartExecution') {
      const failure = this.failures.shift();
      if (failure) throw new AwsError(failure.code, `injected ${failure.code}`, failure.status);
    }
    return this.inner.handle(operation, input);
  }
}

describe('local EventBridge Scheduler', () => {
  let edge: Edge;
  let sfn: LocalStepFunctions;
  let faulty: FaultySfn;
  let scheduler: LocalScheduler;
  let client: SchedulerClient;
  let clock = T0;
  let machineArn: string;
  const dir = mkdtempSync(join(tmpdir(), 'jit-scheduler-'));

  const newScheduler = (extra: Partial<ConstructorParameters<typeof LocalScheduler>[0]> = {}) =>
    new LocalScheduler({
      now: () => clock,
      timer: false,
      firingDelayMs: () => FIRING_DELAY_MS,
      retryDelayMs: () => 1000,
      sfnEndpoint: () => edge.url,
      log: () => {},
      ...extra,
    });

  beforeAll(async () => {
    sfn = new LocalStepFunctions({ log: () => {} });
    faulty = new FaultySfn(sfn);
    scheduler = newScheduler();
    edge = await startEdge({ port: 0, jsonServices: [faulty], restServices: [{ signingName: 'scheduler', handle: (r, c) => scheduler.handle(r, c) }], log: () => {} });
    client = new SchedulerClient({ endpoint: edge.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    // Holds executions open so names stay visible as RUNNING.
    machineArn = sfn.createStateMachine({ name: 'revoke', definition: { StartAt: 'Hold', States: { Hold: { Type: 'Wait', Seconds: 3600, End: true } } } }).stateMachineArn;
  });
  beforeEach(async () => {
    clock = T0;
    faulty.failures = [];
    await scheduler.stop();
    scheduler = newScheduler();
  });
  afterAll(async () => {
    client?.destroy();
    await scheduler?.stop();
    await sfn?.close();
    await edge?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const at = (ms: number) => `at(${new Date(ms).toISOString().slice(0, 19)})`;
  const schedule = (name: string, overrides: Partial<CreateScheduleCommandInput> = {}): CreateScheduleCommandInput => ({
    Name: name,
    ScheduleExpression: at(T0 + 120_000),
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: { Arn: machineArn, RoleArn: ROLE, Input: JSON.stringify({ schedule: name }) },
    ActionAfterCompletion: 'DELETE',
    ...overrides,
  });
  const executionsOf = () => sfn.listExecutionRecords(machineArn);

  it('creates, gets, lists, updates and deletes schedules with AWS error codes', async () => {
    const created = await client.send(new CreateScheduleCommand(schedule('crud-1')));
    expect(created.ScheduleArn).toBe('arn:aws:scheduler:us-east-1:000000000000:schedule/default/crud-1');
    const got = await client.send(new GetScheduleCommand({ Name: 'crud-1' }));
    expect(got).toMatchObject({
      Name: 'crud-1',
      GroupName: 'default',
      State: 'ENABLED',
      ScheduleExpression: at(T0 + 120_000),
      ScheduleExpressionTimezone: 'UTC',
      ActionAfterCompletion: 'DELETE',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: machineArn, RoleArn: ROLE, RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 } },
    });
    expect(got.CreationDate).toEqual(new Date(T0));

    const duplicate = await client.send(new CreateScheduleCommand(schedule('crud-1'))).catch((e: unknown) => e);
    expect(duplicate).toBeInstanceOf(ConflictException);

    await client.send(new UpdateScheduleCommand({ ...schedule('crud-1'), ScheduleExpression: at(T0 + 600_000), State: 'DISABLED' }));
    expect(await client.send(new GetScheduleCommand({ Name: 'crud-1' }))).toMatchObject({ ScheduleExpression: at(T0 + 600_000), State: 'DISABLED' });

    const listed = await client.send(new ListSchedulesCommand({ NamePrefix: 'crud-' }));
    expect(listed.Schedules!.map((s) => [s.Name, s.State, s.Target?.Arn])).toEqual([['crud-1', 'DISABLED', machineArn]]);

    await client.send(new DeleteScheduleCommand({ Name: 'crud-1' }));
    for (const call of [
      client.send(new GetScheduleCommand({ Name: 'crud-1' })),
      client.send(new DeleteScheduleCommand({ Name: 'crud-1' })),
      client.send(new UpdateScheduleCommand(schedule('crud-1'))),
      client.send(new CreateScheduleCommand(schedule('crud-2', { GroupName: 'no-such-group' }))),
    ]) {
      expect(await call.catch((e: unknown) => e)).toBeInstanceOf(ResourceNotFoundException);
    }
    const invalid = await client.send(new CreateScheduleCommand(schedule('bad', { ScheduleExpression: 'at(2030-02-30T00:00:00)' }))).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(ValidationException);
  });

  it('manages schedule groups; deleting a group deletes its schedules', async () => {
    await client.send(new CreateScheduleGroupCommand({ Name: 'grants' }));
    expect(await client.send(new CreateScheduleGroupCommand({ Name: 'grants' })).catch((e: unknown) => e)).toBeInstanceOf(ConflictException);
    expect(await client.send(new GetScheduleGroupCommand({ Name: 'grants' }))).toMatchObject({ Name: 'grants', State: 'ACTIVE' });
    const groups = await client.send(new ListScheduleGroupsCommand({}));
    expect(groups.ScheduleGroups!.map((g) => g.Name).sort()).toEqual(['default', 'grants']);
    await client.send(new CreateScheduleCommand(schedule('in-group', { GroupName: 'grants' })));
    expect((await client.send(new GetScheduleCommand({ Name: 'in-group', GroupName: 'grants' }))).GroupName).toBe('grants');
    await client.send(new DeleteScheduleGroupCommand({ Name: 'grants' }));
    expect(await client.send(new GetScheduleGroupCommand({ Name: 'grants' })).catch((e: unknown) => e)).toBeInstanceOf(ResourceNotFoundException);
    expect(scheduler.listStoredSchedules().map((s) => s.Name)).not.toContain('in-group');
  });

  it('fires an at() schedule after its time plus the firing delay, then deletes it (ActionAfterCompletion DELETE)', async () => {
    await client.send(new CreateScheduleCommand(schedule('fire-1')));
    const before = executionsOf().length;
    clock = T0 + 120_000;
    await scheduler.runDue();
    clock = T0 + 120_000 + FIRING_DELAY_MS - 1;
    await scheduler.runDue();
    expect(executionsOf()).toHaveLength(before);

    clock = T0 + 120_000 + FIRING_DELAY_MS;
    await scheduler.runDue();
    const started = executionsOf().slice(before);
    expect(started).toHaveLength(1);
    expect(JSON.parse(started[0]!.input)).toEqual({ schedule: 'fire-1' });
    expect(await client.send(new GetScheduleCommand({ Name: 'fire-1' })).catch((e: unknown) => e)).toBeInstanceOf(ResourceNotFoundException);
  });

  it('keeps a fired schedule with ActionAfterCompletion NONE and does not fire it again', async () => {
    await client.send(new CreateScheduleCommand(schedule('keep-1', { ActionAfterCompletion: 'NONE' })));
    const before = executionsOf().length;
    clock = T0 + 10 * 60_000;
    await scheduler.runDue();
    await scheduler.runDue();
    expect(executionsOf()).toHaveLength(before + 1);
    expect((await client.send(new GetScheduleCommand({ Name: 'keep-1' }))).State).toBe('ENABLED');
  });

  it('lets the universal target name the execution', async () => {
    const input = JSON.stringify({ StateMachineArn: machineArn, Name: 'revoke-01HGRANT', Input: JSON.stringify({ grantId: '01HGRANT' }) });
    await client.send(new CreateScheduleCommand(schedule('universal-1', { Target: { Arn: UNIVERSAL_SFN_START_EXECUTION, RoleArn: ROLE, Input: input } })));
    clock = T0 + 10 * 60_000;
    await scheduler.runDue();
    const execution = executionsOf().find((e) => e.name === 'revoke-01HGRANT');
    expect(execution).toBeDefined();
    expect(JSON.parse(execution!.input)).toEqual({ grantId: '01HGRANT' });
  });

  it('evaluates at() in ScheduleExpressionTimezone', async () => {
    await client.send(new CreateScheduleCommand(schedule('tz-1', { ScheduleExpression: 'at(2030-07-01T09:00:00)', ScheduleExpressionTimezone: 'Europe/Paris' })));
    const stored = scheduler.listStoredSchedules().find((s) => s.Name === 'tz-1')!;
    expect(new Date(stored.scheduledAt!).toISOString()).toBe('2030-07-01T07:00:00.000Z');
    expect(stored.dueAt).toBe(stored.scheduledAt! + FIRING_DELAY_MS);
  });

  it('retries a throttled delivery per RetryPolicy, then dead-letters it', async () => {
    const dlq = 'arn:aws:sqs:us-east-1:000000000000:revoke-dlq';
    faulty.failures = Array.from({ length: 3 }, () => ({ code: 'ThrottlingException', status: 400 }));
    await client.send(
      new CreateScheduleCommand(
        schedule('retry-1', { Target: { Arn: machineArn, RoleArn: ROLE, Input: '{"n":1}', RetryPolicy: { MaximumRetryAttempts: 2 }, DeadLetterConfig: { Arn: dlq } } }),
      ),
    );
    const before = executionsOf().length;
    clock = T0 + 10 * 60_000;
    await scheduler.runDue(); // attempt 1 fails
    expect(scheduler.deadLetters(dlq)).toHaveLength(0);
    clock += 1000;
    await scheduler.runDue(); // retry 1 fails
    clock += 1000;
    await scheduler.runDue(); // retry 2 fails: policy exhausted
    expect(executionsOf()).toHaveLength(before);
    const letters = scheduler.deadLetters(dlq);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ body: '{"n":1}', attributes: { ERROR_CODE: 'ThrottlingException', RETRY_ATTEMPTS: '2', TARGET_ARN: machineArn } });
    expect(await client.send(new GetScheduleCommand({ Name: 'retry-1' })).catch((e: unknown) => e)).toBeInstanceOf(ResourceNotFoundException);
  });

  it('delivers on a retry after a transient failure', async () => {
    faulty.failures = [{ code: 'ServiceUnavailable', status: 503 }];
    await client.send(new CreateScheduleCommand(schedule('retry-2', { Target: { Arn: machineArn, RoleArn: ROLE, Input: '{"n":2}' } })));
    const before = executionsOf().length;
    clock = T0 + 10 * 60_000;
    await scheduler.runDue();
    expect(executionsOf()).toHaveLength(before);
    clock += 1000;
    await scheduler.runDue();
    expect(executionsOf()).toHaveLength(before + 1);
    expect(scheduler.deadLetters()).toHaveLength(0);
  });

  it('retries a delivery that got no answer (the connection was reset), as a network failure', async () => {
    const resetting = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => resetting.listen(0, '127.0.0.1', r));
    const dlq = 'arn:aws:sqs:us-east-1:000000000000:dlq-reset';
    try {
      const cut = newScheduler({ sfnEndpoint: () => `http://127.0.0.1:${(resetting.address() as AddressInfo).port}` });
      const created = await cut.handle(
        { method: 'POST', path: '/schedules/reset-1', query: new URLSearchParams(), headers: {}, body: JSON.stringify(schedule('reset-1', { Target: { Arn: machineArn, RoleArn: ROLE, DeadLetterConfig: { Arn: dlq } } })) },
        { region: 'us-east-1', accountId: '000000000000' },
      );
      expect(created.status).toBe(200);
      clock = T0 + 10 * 60_000;
      await cut.runDue();
      expect(cut.deadLetters(dlq)).toEqual([]);
      // Still stored, its next attempt due after the retry pause.
      expect(cut.listStoredSchedules().map((s) => [s.Name, s.failedAttempts])).toEqual([['reset-1', 1]]);
    } finally {
      resetting.close();
    }
  });

  it('dead-letters a non-retryable failure at once (missing state machine)', async () => {
    const dlq = 'arn:aws:sqs:us-east-1:000000000000:dlq-2';
    const missing = machineArn.replace(':revoke', ':gone');
    await client.send(new CreateScheduleCommand(schedule('dead-1', { Target: { Arn: missing, RoleArn: ROLE, DeadLetterConfig: { Arn: dlq } } })));
    clock = T0 + 10 * 60_000;
    await scheduler.runDue();
    expect(scheduler.deadLetters(dlq).map((d) => d.attributes.ERROR_CODE)).toEqual(['StateMachineDoesNotExist']);
  });

  it('keeps schedules across a restart and fires overdue ones on start', async () => {
    const statePath = join(dir, 'schedules.json');
    const first = newScheduler({ statePath });
    await first.handle(
      { method: 'POST', path: '/schedules/persist-1', query: new URLSearchParams(), headers: {}, body: JSON.stringify(schedule('persist-1')) },
      { region: 'us-east-1', accountId: '000000000000' },
    );
    await first.stop();

    clock = T0 + 60 * 60_000; // the local cloud was down past the schedule's time
    const second = newScheduler({ statePath });
    expect(second.listStoredSchedules().map((s) => s.Name)).toEqual(['persist-1']);
    const before = executionsOf().length;
    await second.start();
    expect(executionsOf()).toHaveLength(before + 1);
    expect(second.listStoredSchedules()).toEqual([]);
    await second.stop();
    expect(newScheduler({ statePath }).listStoredSchedules()).toEqual([]);
  });

  it('fault knobs: a duplicated delivery of a named execution is a no-op; a lost one never starts', async () => {
    const named = (name: string) =>
      schedule(name, {
        Target: { Arn: UNIVERSAL_SFN_START_EXECUTION, RoleArn: ROLE, Input: JSON.stringify({ StateMachineArn: machineArn, Name: `x-${name}`, Input: '{}' }) },
      });
    const twice = newScheduler({ duplicateDeliveryRate: 1 });
    await twice.handle(
      { method: 'POST', path: '/schedules/dup-1', query: new URLSearchParams(), headers: {}, body: JSON.stringify(named('dup-1')) },
      { region: 'us-east-1', accountId: '000000000000' },
    );
    const lost = newScheduler({ loseRate: 1 });
    await lost.handle(
      { method: 'POST', path: '/schedules/lost-1', query: new URLSearchParams(), headers: {}, body: JSON.stringify(named('lost-1')) },
      { region: 'us-east-1', accountId: '000000000000' },
    );
    clock = T0 + 10 * 60_000;
    await twice.runDue();
    await lost.runDue();
    expect(executionsOf().filter((e) => e.name === 'x-dup-1')).toHaveLength(1);
    expect(executionsOf().filter((e) => e.name === 'x-lost-1')).toHaveLength(0);
    expect(lost.listStoredSchedules()).toEqual([]);
  });

  it('arms its timer for the next due invocation', async () => {
    const armed: Array<{ fn: () => void; ms: number }> = [];
    const timer: SchedulerTimer = { set: (fn, ms) => armed.push({ fn, ms }), clear: () => {} };
    const timed = newScheduler({ timer });
    await timed.start();
    await timed.handle(
      { method: 'POST', path: '/schedules/timed-1', query: new URLSearchParams(), headers: {}, body: JSON.stringify(schedule('timed-1')) },
      { region: 'us-east-1', accountId: '000000000000' },
    );
    expect(armed.at(-1)!.ms).toBe(120_000 + FIRING_DELAY_MS);
    const before = executionsOf().length;
    clock = T0 + 120_000 + FIRING_DELAY_MS;
    armed.at(-1)!.fn();
    await timed.idle();
    expect(executionsOf()).toHaveLength(before + 1);
    await timed.stop();
  });
});

describe('local EventBridge Scheduler, Lambda targets', () => {
  it('invokes a Lambda target asynchronously with the rendered input', async () => {
    let clock = T0;
    const received: Array<{ arn: string; payload: unknown }> = [];
    const scheduler = new LocalScheduler({
      now: () => clock,
      timer: false,
      firingDelayMs: () => 0,
      log: () => {},
      invokeLambda: async (arn, payload) => {
        received.push({ arn, payload });
        throw new Error('handler failures are the function’s business, not the schedule’s');
      },
    });
    const fn = 'arn:aws:lambda:us-east-1:000000000000:function:jit-dev-slackNotify';
    await scheduler.handle(
      {
        method: 'POST',
        path: '/schedules/warn-1',
        query: new URLSearchParams(),
        headers: {},
        body: JSON.stringify({
          ScheduleExpression: `at(${new Date(T0 + 60_000).toISOString().slice(0, 19)})`,
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          Target: { Arn: fn, RoleArn: ROLE, Input: '{"kind":"expiry-warning","at":"<aws.scheduler.scheduled-time>"}' },
        }),
      },
      { region: 'us-east-1', accountId: '000000000000' },
    );
    clock = T0 + 60_000;
    await scheduler.runDue();
    await scheduler.idle();
    expect(received).toEqual([{ arn: fn, payload: { kind: 'expiry-warning', at: new Date(T0 + 60_000).toISOString().replace('.000Z', 'Z') } }]);
    expect(scheduler.listStoredSchedules()).toEqual([]);
    expect(scheduler.deadLetters()).toEqual([]);
  });
});
