/**
 * The 5-minutes-before-expiry DM is driven by a one-off EventBridge Scheduler
 * schedule that invokes the slackNotify function. The name derives from the
 * grant id, so an extension moves the one schedule instead of adding another.
 */
import { ConflictException, CreateScheduleCommand, UpdateScheduleCommand, type CreateScheduleCommandInput, type SchedulerClient } from '@aws-sdk/client-scheduler';
import { atExpression } from '../adapters/workflows.ts';
import type { Grant } from '../domain/grant.ts';
import { EXPIRY_WARNING_LEAD_MS, type ExpiryWarningScheduler } from './notifier.ts';

export interface ExpiryWarningInput {
  kind: 'expiry-warning';
  grantId: string;
  /** The expiry this warning is for; a later extension makes it moot. */
  expiresAt: string;
}

export interface SchedulerExpiryWarningsOptions {
  /** ARN of the slackNotify function. */
  targetArn: string;
  /** Role the scheduler assumes to invoke it (lambda:InvokeFunction). */
  roleArn: string;
  groupName: string;
  now?: () => number;
}

export const expiryWarningScheduleName = (grantId: string) => `slack-warn-${grantId}`;

export class SchedulerExpiryWarnings implements ExpiryWarningScheduler {
  constructor(
    private readonly scheduler: SchedulerClient,
    private readonly options: SchedulerExpiryWarningsOptions,
  ) {}

  async schedule(grant: Grant): Promise<void> {
    if (!grant.expiresAt) return;
    const fireAt = Date.parse(grant.expiresAt) - EXPIRY_WARNING_LEAD_MS;
    // Scheduler is 60 s precise; a warning that close to its own time is not worth a schedule.
    if (fireAt <= (this.options.now ?? Date.now)() + 60_000) return;
    const input: ExpiryWarningInput = { kind: 'expiry-warning', grantId: grant.id, expiresAt: grant.expiresAt };
    const schedule: CreateScheduleCommandInput = {
      Name: expiryWarningScheduleName(grant.id),
      GroupName: this.options.groupName,
      ScheduleExpression: atExpression(fireAt),
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: this.options.targetArn,
        RoleArn: this.options.roleArn,
        Input: JSON.stringify(input),
        // A warning delivered late is useless: few retries, short age.
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 240 },
      },
    };
    try {
      await this.scheduler.send(new CreateScheduleCommand(schedule));
    } catch (e) {
      if (!(e instanceof ConflictException) && (e as { name?: string }).name !== 'ConflictException') throw e;
      await this.scheduler.send(new UpdateScheduleCommand(schedule));
    }
  }
}
