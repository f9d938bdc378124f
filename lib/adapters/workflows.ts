/**
 * The Workflows port on Step Functions + EventBridge Scheduler.
 *
 * Names are derived from the grant so that a retry, a double click or a double
 * fire can never cause a second effect:
 *   grant execution      grant-<id>
 *   revoke execution     revoke-<id>-<expiresAt epoch s>   (a new expiry after an extension gets a new name)
 *                        revoke-<id>-early                 (early revoke)
 *                        revoke-<id>-sweep-<window>        (the sweeper's retries: lib/backstops/sweeper.ts)
 *   activation schedule  <id>-start      at(startsAt)
 *   revocation schedule  <id>-revoke     at(beginAt - 60 s), beginAt = expiresAt - 5 s: the Scheduler is
 *                                        only 60 s precise, the revoke workflow waits the rest
 */
import type { CreateScheduleCommandInput, SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { Grant } from '../domain/grant.ts';
import { BEGIN_AT_ONCE, type Clock, type Workflows } from '../ports/index.ts';
import { errorName } from './aws-retry.ts';
import { clientProvider, lazySdk, type ClientSource } from './lazy-sdk.ts';

/** The Scheduler fires up to this much late; schedules are set this much early. */
export const SCHEDULER_PRECISION_MS = 60_000;
/**
 * A revocation's task begins this much ahead of the expiry (`beginAt`): its invocation and reads are
 * done by then, even on a busy day, and it waits inside for the exact instant, so only its writes
 * and the delete come after the expiry.
 */
export const REVOCATION_LEAD_MS = 5_000;
/** Universal target: lets the schedule name the execution it starts. */
export const START_EXECUTION_TARGET = 'arn:aws:scheduler:::aws-sdk:sfn:startExecution';

export interface WorkflowInput {
  grantId: string;
  /** For revocations: the expiry this execution enforces (an extension makes it stale). */
  expiresAt?: string;
  mode?: 'expiry' | 'early' | 'sweep';
  /**
   * For revocations (every one carries it: the revoke workflow begins with a wait until it): an
   * expiry's is REVOCATION_LEAD_MS ahead of expiresAt, an early revoke's is BEGIN_AT_ONCE.
   */
  beginAt?: string;
}

/**
 * When the revocation schedule fires: a full Scheduler precision ahead of `beginAt`, so that even a
 * schedule fired at the end of its minute leaves the task its whole lead.
 */
export function revocationFireAt(expiresAtMs: number): number {
  return expiresAtMs - REVOCATION_LEAD_MS - SCHEDULER_PRECISION_MS;
}

/** The revoke workflow's input for the expiry at `expiresAt`. */
export function expiryInput(grantId: string, expiresAt: string): WorkflowInput {
  return { grantId, expiresAt, mode: 'expiry', beginAt: new Date(Date.parse(expiresAt) - REVOCATION_LEAD_MS).toISOString() };
}

export interface StepFunctionsWorkflowsOptions {
  grantStateMachineArn: string;
  revokeStateMachineArn: string;
  scheduleGroup: string;
  schedulerRoleArn: string;
  deadLetterQueueArn?: string;
  clock: Clock;
}

export const executionNames = {
  grant: (id: string) => `grant-${id}`,
  revoke: (id: string, expiresAt: string) => `revoke-${id}-${Math.floor(Date.parse(expiresAt) / 1000)}`,
  earlyRevoke: (id: string) => `revoke-${id}-early`,
};

export const scheduleNames = {
  activation: (id: string) => `${id}-start`,
  revocation: (id: string) => `${id}-revoke`,
};

/** `at()` expressions take whole seconds in the given timezone (we always use UTC). */
export function atExpression(instantMs: number): string {
  return `at(${new Date(Math.floor(instantMs / 1000) * 1000).toISOString().slice(0, 19)})`;
}

/** Creates the schedule, or replaces it when one of that name exists (an extension moves the time). */
export async function upsertSchedule(scheduler: () => Promise<SchedulerClient>, input: CreateScheduleCommandInput): Promise<void> {
  const [client, { CreateScheduleCommand, UpdateScheduleCommand }] = await Promise.all([scheduler(), lazySdk.scheduler()]);
  try {
    await client.send(new CreateScheduleCommand(input));
  } catch (err) {
    if (errorName(err) !== 'ConflictException') throw err;
    await client.send(new UpdateScheduleCommand(input));
  }
}

/** Both SDK packages load on first use (lib/adapters/lazy-sdk.ts): only the functions that start or schedule workflows pay for them. */
export class StepFunctionsWorkflows implements Workflows {
  private readonly sfn: () => Promise<SFNClient>;
  private readonly scheduler: () => Promise<SchedulerClient>;

  constructor(
    sfn: ClientSource<SFNClient>,
    scheduler: ClientSource<SchedulerClient>,
    private readonly options: StepFunctionsWorkflowsOptions,
  ) {
    this.sfn = clientProvider(sfn);
    this.scheduler = clientProvider(scheduler);
  }

  private async start(stateMachineArn: string, name: string, input: WorkflowInput): Promise<void> {
    const [client, { StartExecutionCommand }] = await Promise.all([this.sfn(), lazySdk.sfn()]);
    try {
      await client.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
    } catch (err) {
      // Same name, other input: an execution for this grant already ran. Names are the idempotency key.
      if (errorName(err) !== 'ExecutionAlreadyExists') throw err;
    }
  }

  startGrant(grant: Grant): Promise<void> {
    return this.start(this.options.grantStateMachineArn, executionNames.grant(grant.id), { grantId: grant.id });
  }

  startRevoke(grant: Grant, mode: 'expiry' | 'early'): Promise<void> {
    const expiresAt = grant.expiresAt ?? this.options.clock.now().toISOString();
    if (mode === 'early') return this.start(this.options.revokeStateMachineArn, executionNames.earlyRevoke(grant.id), { grantId: grant.id, expiresAt, mode, beginAt: BEGIN_AT_ONCE });
    return this.start(this.options.revokeStateMachineArn, executionNames.revoke(grant.id, expiresAt), expiryInput(grant.id, expiresAt));
  }

  private scheduleInput(name: string, fireAtMs: number, stateMachineArn: string, executionName: string, input: WorkflowInput): CreateScheduleCommandInput {
    return {
      Name: name,
      GroupName: this.options.scheduleGroup,
      ScheduleExpression: atExpression(fireAtMs),
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: START_EXECUTION_TARGET,
        RoleArn: this.options.schedulerRoleArn,
        Input: JSON.stringify({ StateMachineArn: stateMachineArn, Name: executionName, Input: JSON.stringify(input) }),
        RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
        ...(this.options.deadLetterQueueArn ? { DeadLetterConfig: { Arn: this.options.deadLetterQueueArn } } : {}),
      },
    };
  }

  private upsertSchedule(input: CreateScheduleCommandInput): Promise<void> {
    return upsertSchedule(this.scheduler, input);
  }

  async scheduleActivation(grant: Grant): Promise<void> {
    if (!grant.startsAt) return this.startGrant(grant);
    const at = Date.parse(grant.startsAt);
    if (at <= this.options.clock.now().getTime()) return this.startGrant(grant);
    await this.upsertSchedule(
      this.scheduleInput(scheduleNames.activation(grant.id), at, this.options.grantStateMachineArn, executionNames.grant(grant.id), { grantId: grant.id }),
    );
  }

  async scheduleRevocation(grant: Grant): Promise<void> {
    if (!grant.expiresAt) throw new Error(`grant ${grant.id} has no expiresAt to schedule`);
    const fireAt = revocationFireAt(Date.parse(grant.expiresAt));
    // Too close for a schedule: the revoke workflow itself waits until beginAt.
    if (fireAt <= this.options.clock.now().getTime()) return this.startRevoke(grant, 'expiry');
    await this.upsertSchedule(
      this.scheduleInput(scheduleNames.revocation(grant.id), fireAt, this.options.revokeStateMachineArn, executionNames.revoke(grant.id, grant.expiresAt), expiryInput(grant.id, grant.expiresAt)),
    );
  }

  async deleteSchedules(grant: Grant): Promise<void> {
    const [client, { DeleteScheduleCommand }] = await Promise.all([this.scheduler(), lazySdk.scheduler()]);
    await Promise.all(
      [scheduleNames.activation(grant.id), scheduleNames.revocation(grant.id)].map(async (Name) => {
        try {
          await client.send(new DeleteScheduleCommand({ Name, GroupName: this.options.scheduleGroup }));
        } catch (err) {
          if (errorName(err) !== 'ResourceNotFoundException') throw err;
        }
      }),
    );
  }
}
