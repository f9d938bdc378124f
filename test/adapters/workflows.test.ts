import 'aws-sdk-client-mock-vitest/extend';
import { ConflictException, CreateScheduleCommand, DeleteScheduleCommand, ResourceNotFoundException, SchedulerClient, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { atExpression, START_EXECUTION_TARGET, StepFunctionsWorkflows } from '../../lib/adapters/workflows.ts';
import { makeGrant } from '../support/grants.ts';

const sfn = mockClient(SFNClient);
const scheduler = mockClient(SchedulerClient);
const NOW = Date.parse('2030-05-01T12:00:00Z');
const workflows = new StepFunctionsWorkflows(new SFNClient({}), new SchedulerClient({}), {
  grantStateMachineArn: 'arn:grant',
  revokeStateMachineArn: 'arn:revoke',
  scheduleGroup: 'jit',
  schedulerRoleArn: 'arn:role',
  deadLetterQueueArn: 'arn:dlq',
  clock: { now: () => new Date(NOW) },
});

beforeEach(() => {
  sfn.reset();
  scheduler.reset();
  sfn.onAnyCommand().resolves({});
  scheduler.onAnyCommand().resolves({});
});

describe('StepFunctionsWorkflows', () => {
  it('starts the grant workflow under a name derived from the grant id', async () => {
    const g = makeGrant({ status: 'APPROVED' });
    await workflows.startGrant(g);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { stateMachineArn: 'arn:grant', name: `grant-${g.id}`, input: JSON.stringify({ grantId: g.id }) });
  });

  it('treats ExecutionAlreadyExists as the no-op it is', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    await expect(workflows.startGrant(makeGrant())).resolves.toBeUndefined();
  });

  it('schedules revocation 65 s before expiry (60 s of Scheduler precision ahead of the 5 s lead), naming the execution after grant and expiry', async () => {
    const expiresAt = new Date(NOW + 3600_000).toISOString();
    const g = makeGrant({ status: 'ACTIVE', expiresAt });
    await workflows.scheduleRevocation(g);
    const input = scheduler.commandCalls(CreateScheduleCommand)[0]!.args[0].input;
    expect(input).toMatchObject({
      Name: `${g.id}-revoke`,
      GroupName: 'jit',
      ScheduleExpression: atExpression(NOW + 3600_000 - 65_000),
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: { Arn: START_EXECUTION_TARGET, RoleArn: 'arn:role', DeadLetterConfig: { Arn: 'arn:dlq' } },
    });
    expect(input.ScheduleExpression).toBe('at(2030-05-01T12:58:55)');
    const target = JSON.parse(input.Target!.Input!);
    expect(target).toEqual({
      StateMachineArn: 'arn:revoke',
      Name: `revoke-${g.id}-${Math.floor(Date.parse(expiresAt) / 1000)}`,
      Input: JSON.stringify({ grantId: g.id, expiresAt, mode: 'expiry', beginAt: '2030-05-01T12:59:55.000Z' }),
    });
  });

  it('moves an existing schedule on extension (Conflict → Update)', async () => {
    scheduler.on(CreateScheduleCommand).rejects(new ConflictException({ message: 'exists', Message: 'exists', $metadata: {} }));
    const g = makeGrant({ status: 'ACTIVE', expiresAt: new Date(NOW + 7200_000).toISOString() });
    await workflows.scheduleRevocation(g);
    expect(scheduler).toHaveReceivedCommandWith(UpdateScheduleCommand, { Name: `${g.id}-revoke`, ScheduleExpression: 'at(2030-05-01T13:58:55)' });
  });

  it('starts the revoke workflow directly when expiry is under a minute away', async () => {
    const g = makeGrant({ status: 'ACTIVE', expiresAt: new Date(NOW + 30_000).toISOString() });
    await workflows.scheduleRevocation(g);
    expect(scheduler).not.toHaveReceivedCommand(CreateScheduleCommand);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { stateMachineArn: 'arn:revoke', name: `revoke-${g.id}-${Math.floor((NOW + 30_000) / 1000)}` });
  });

  it('schedules a future activation, and starts at once when the start has passed', async () => {
    const future = makeGrant({ status: 'SCHEDULED', startsAt: new Date(NOW + 600_000).toISOString() });
    await workflows.scheduleActivation(future);
    expect(scheduler).toHaveReceivedCommandWith(CreateScheduleCommand, { Name: `${future.id}-start`, ScheduleExpression: 'at(2030-05-01T12:10:00)' });
    const past = makeGrant({ status: 'SCHEDULED', startsAt: new Date(NOW - 1000).toISOString() });
    await workflows.scheduleActivation(past);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { name: `grant-${past.id}` });
  });

  it('deletes both schedules, ignoring the ones already gone', async () => {
    scheduler.on(DeleteScheduleCommand).rejects(new ResourceNotFoundException({ message: 'gone', Message: 'gone', $metadata: {} }));
    const g = makeGrant();
    await workflows.deleteSchedules(g);
    expect(scheduler).toHaveReceivedCommandTimes(DeleteScheduleCommand, 2);
  });

  it('early revoke uses its own execution name and begins at once (beginAt long past, not the expiry)', async () => {
    const expiresAt = new Date(NOW + 3600_000).toISOString();
    const g = makeGrant({ status: 'REVOKING', expiresAt });
    await workflows.startRevoke(g, 'early');
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { name: `revoke-${g.id}-early` });
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.input!);
    expect(input).toEqual({ grantId: g.id, expiresAt, mode: 'early', beginAt: '1970-01-01T00:00:00.000Z' });
  });
});
