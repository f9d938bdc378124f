/**
 * The ExpiryWarningScheduler port on EventBridge Scheduler.
 * The 5-minutes-before-expiry DM is driven by a one-off EventBridge Scheduler
 * schedule that invokes the slackNotify function. The name derives from the
 * grant id, so an extension moves the one schedule instead of adding another.
 */
import type { CreateScheduleCommandInput, SchedulerClient } from '@aws-sdk/client-scheduler';
import { clientProvider, type ClientSource } from './lazy-sdk.ts';
import { atExpression, upsertSchedule } from './workflows.ts';
import type { Grant } from '../domain/grant.ts';
import type { ExpiryWarningInput, ExpiryWarningScheduler } from '../ports/index.ts';
import { EXPIRY_WARNING_LEAD_MS } from '../slack/notifier.ts';

export interface SchedulerExpiryWarningsOptions {
  /** ARN of the slackNotify function. */
  targetArn: string;
  /** Role the scheduler assumes to invoke it (lambda:InvokeFunction). */
  roleArn: string;
  groupName: string;
  now?: () => number;
}

export const expiryWarningScheduleName = (grantId: string) => `slack-warn-${grantId}`;

/** The Scheduler package loads on first use (lib/adapters/lazy-sdk.ts): only a grant turning ACTIVE schedules a warning. */
export class SchedulerExpiryWarnings implements ExpiryWarningScheduler {
  private readonly scheduler: () => Promise<SchedulerClient>;

  constructor(
    scheduler: ClientSource<SchedulerClient>,
    private readonly options: SchedulerExpiryWarningsOptions,
  ) {
    this.scheduler = clientProvider(scheduler);
  }

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
    await upsertSchedule(this.scheduler, schedule);
  }
}
