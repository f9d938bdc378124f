/**
 * Conformance: the local EventBridge Scheduler API against moto_server (or CONFORMANCE_ENDPOINT).
 * The same calls go through the real SchedulerClient to both; the observable results
 * (fields, error codes), with account ids and the run id normalised, must be equal.
 *
 * Firing, retries and dead letters are not in moto (API only): test/local/scheduler.test.ts.
 * Compared only on the local cloud because moto 5.2.1 differs from AWS:
 * - CreateScheduleGroup with an existing name: AWS answers ConflictException, moto replaces the group.
 * - CreateSchedule in a missing group: AWS answers ResourceNotFoundException, moto a 500.
 * - Invalid at() expressions: AWS answers ValidationException, moto accepts them.
 * - ConflictException status: the service model (and AWS) say 409, moto sends 400; error codes are
 *   compared on both, the local 409/404 statuses are checked on their own.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateScheduleCommand,
  CreateScheduleGroupCommand,
  DeleteScheduleCommand,
  DeleteScheduleGroupCommand,
  GetScheduleCommand,
  GetScheduleGroupCommand,
  ListScheduleGroupsCommand,
  ListSchedulesCommand,
  SchedulerClient,
  UpdateScheduleCommand,
  type CreateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import { startEdge, type Edge } from '../../local/edge.ts';
import { LocalScheduler } from '../../local/scheduler/service.ts';
import { startExternalEndpoint, type ExternalEndpoint } from './moto.ts';

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const REGION = 'us-east-1';

async function observe(endpoint: string, runId: string, statuses = new Map<string, number | undefined>()): Promise<unknown[]> {
  const client = new SchedulerClient({ endpoint, region: REGION, credentials, maxAttempts: 1 });
  const out: unknown[] = [];
  const record = async (step: string, call: () => Promise<unknown>, pick: (r: any) => unknown = () => 'ok') => {
    try {
      out.push([step, pick(await call())]);
    } catch (e) {
      out.push([step, 'error', (e as Error).name]);
      statuses.set(step, (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode);
    }
  };
  const group = `conf-${runId}`;
  const stateMachine = `arn:aws:states:${REGION}:123456789012:stateMachine:revoke`;
  const schedule = (name: string, extra: Partial<CreateScheduleCommandInput> = {}): CreateScheduleCommandInput => ({
    Name: name,
    ScheduleExpression: 'at(2031-01-01T10:00:00)',
    ScheduleExpressionTimezone: 'Europe/Paris',
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: {
      Arn: 'arn:aws:scheduler:::aws-sdk:sfn:startExecution',
      RoleArn: 'arn:aws:iam::123456789012:role/scheduler',
      Input: JSON.stringify({ StateMachineArn: stateMachine, Name: `revoke-${name}`, Input: '{}' }),
      RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 600 },
      DeadLetterConfig: { Arn: `arn:aws:sqs:${REGION}:123456789012:dlq` },
    },
    ActionAfterCompletion: 'DELETE',
    Description: 'revoke at expiry',
    ...extra,
  });
  const scheduleView = (r: any) => ({
    Arn: r.Arn,
    Name: r.Name,
    GroupName: r.GroupName,
    ScheduleExpression: r.ScheduleExpression,
    ScheduleExpressionTimezone: r.ScheduleExpressionTimezone,
    State: r.State,
    Description: r.Description,
    FlexibleTimeWindow: r.FlexibleTimeWindow,
    ActionAfterCompletion: r.ActionAfterCompletion,
    Target: r.Target,
    hasCreationDate: r.CreationDate instanceof Date,
  });

  await record('create group', () => client.send(new CreateScheduleGroupCommand({ Name: group })), (r) => r.ScheduleGroupArn);
  await record('get group', () => client.send(new GetScheduleGroupCommand({ Name: group })), (r) => [r.Name, r.State, r.Arn]);
  await record('create in default', () => client.send(new CreateScheduleCommand(schedule(`a-${runId}`))), (r) => r.ScheduleArn);
  await record('create in group', () => client.send(new CreateScheduleCommand(schedule(`b-${runId}`, { GroupName: group }))), (r) => r.ScheduleArn);
  await record('create duplicate', () => client.send(new CreateScheduleCommand(schedule(`a-${runId}`))));
  await record('get', () => client.send(new GetScheduleCommand({ Name: `a-${runId}` })), scheduleView);
  await record('get in group', () => client.send(new GetScheduleCommand({ Name: `b-${runId}`, GroupName: group })), scheduleView);
  await record('get missing', () => client.send(new GetScheduleCommand({ Name: `missing-${runId}` })));
  await record('get in missing group', () => client.send(new GetScheduleCommand({ Name: `a-${runId}`, GroupName: `nogroup-${runId}` })));
  await record(
    'update',
    () => client.send(new UpdateScheduleCommand({ ...schedule(`a-${runId}`), ScheduleExpression: 'at(2031-01-01T11:30:00)', State: 'DISABLED' })),
    (r) => r.ScheduleArn,
  );
  await record('get updated', () => client.send(new GetScheduleCommand({ Name: `a-${runId}` })), scheduleView);
  await record('update missing', () => client.send(new UpdateScheduleCommand({ ...schedule(`missing-${runId}`), State: 'ENABLED' })));
  await record(
    'list by group',
    () => client.send(new ListSchedulesCommand({ GroupName: group })),
    (r) => r.Schedules.map((s: any) => [s.Name, s.GroupName, s.State, s.Target?.Arn, s.Arn]),
  );
  await record(
    'list by prefix',
    () => client.send(new ListSchedulesCommand({ NamePrefix: `a-${runId}` })),
    (r) => r.Schedules.map((s: any) => [s.Name, s.GroupName, s.State]).sort(),
  );
  await record(
    'list groups',
    () => client.send(new ListScheduleGroupsCommand({ NamePrefix: `conf-${runId}` })),
    (r) => r.ScheduleGroups.map((g: any) => [g.Name, g.State, g.Arn]),
  );
  await record('delete', () => client.send(new DeleteScheduleCommand({ Name: `a-${runId}` })));
  await record('get deleted', () => client.send(new GetScheduleCommand({ Name: `a-${runId}` })));
  await record('delete again', () => client.send(new DeleteScheduleCommand({ Name: `a-${runId}` })));
  await record('delete group', () => client.send(new DeleteScheduleGroupCommand({ Name: group })));
  await record('get deleted group', () => client.send(new GetScheduleGroupCommand({ Name: group })));
  client.destroy();
  return JSON.parse(JSON.stringify(out).replaceAll(runId, 'RUN').replace(/:\d{12}:/g, ':ACCOUNT:'));
}

describe('EventBridge Scheduler conformance: local cloud vs moto_server', () => {
  let external: ExternalEndpoint;
  let edge: Edge;
  let scheduler: LocalScheduler;

  beforeAll(async () => {
    external = await startExternalEndpoint();
    scheduler = new LocalScheduler({ timer: false, log: () => {} });
    edge = await startEdge({ port: 0, restServices: [scheduler], log: () => {} });
  }, 120_000);
  afterAll(async () => {
    await edge?.close();
    await scheduler?.stop();
    await external?.stop();
  });

  it('answers every schedule and group operation the same way', async () => {
    const runId = randomUUID().slice(0, 8);
    const localStatuses = new Map<string, number | undefined>();
    const [local, reference] = await Promise.all([observe(edge.url, runId, localStatuses), observe(external.url, runId)]);
    expect(local).toEqual(reference);
    // The comparison is only worth something if the scenario did what it says.
    expect(local).toContainEqual(['create duplicate', 'error', 'ConflictException']);
    expect(local).toContainEqual(['get missing', 'error', 'ResourceNotFoundException']);
    expect(local.find((o) => (o as unknown[])[0] === 'list by group')).toEqual([
      'list by group',
      [['b-RUN', 'conf-RUN', 'ENABLED', 'arn:aws:scheduler:::aws-sdk:sfn:startExecution', 'arn:aws:scheduler:us-east-1:ACCOUNT:schedule/conf-RUN/b-RUN']],
    ]);
    expect(localStatuses.get('create duplicate')).toBe(409);
    expect(localStatuses.get('get missing')).toBe(404);
  }, 60_000);
});
