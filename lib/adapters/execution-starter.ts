/**
 * The sweeper's ExecutionStarter port on Step Functions: starts grant and revoke
 * executions under the names the sweeper chooses, and lists the running ones.
 * The client retries throttling itself (adaptive mode, built in lib/composition/runtime.ts)
 * and loads on first use (lib/adapters/lazy-sdk.ts).
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { ExecutionStarter, RevokeExecutionInput, RunningExecutions } from '../ports/index.ts';
import { errorName } from './aws-retry.ts';
import { clientProvider, lazySdk, type ClientSource } from './lazy-sdk.ts';

export class StepFunctionsExecutionStarter implements ExecutionStarter {
  private readonly sfn: () => Promise<SFNClient>;

  constructor(
    sfn: ClientSource<SFNClient>,
    private readonly stateMachines: { grant: string; revoke: string },
  ) {
    this.sfn = clientProvider(sfn);
  }

  private async start(stateMachineArn: string, name: string, input: string): Promise<'started' | 'exists'> {
    const [client, { StartExecutionCommand }] = await Promise.all([this.sfn(), lazySdk.sfn()]);
    try {
      await client.send(new StartExecutionCommand({ stateMachineArn, name, input }));
      return 'started';
    } catch (err) {
      if (errorName(err) === 'ExecutionAlreadyExists') return 'exists';
      throw err;
    }
  }

  startRevoke(name: string, input: RevokeExecutionInput): Promise<'started' | 'exists'> {
    // Fixed key order: a repeat start of a RUNNING execution must carry the identical input to be a no-op.
    return this.start(this.stateMachines.revoke, name, JSON.stringify({ grantId: input.grantId, expiresAt: input.expiresAt, mode: input.mode, beginAt: input.beginAt }));
  }

  /** The same input as Workflows.startGrant, so the canonical `grant-<id>` start stays idempotent. */
  startGrant(name: string, grantId: string): Promise<'started' | 'exists'> {
    return this.start(this.stateMachines.grant, name, JSON.stringify({ grantId }));
  }

  async runningExecutionNames(): Promise<RunningExecutions> {
    const [grant, revoke] = await Promise.all([this.running(this.stateMachines.grant), this.running(this.stateMachines.revoke)]);
    return { grant, revoke };
  }

  private async running(stateMachineArn: string): Promise<Set<string>> {
    const [client, { ListExecutionsCommand }] = await Promise.all([this.sfn(), lazySdk.sfn()]);
    const names = new Set<string>();
    let nextToken: string | undefined;
    do {
      const page = await client.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', maxResults: 1000, ...(nextToken ? { nextToken } : {}) }));
      for (const e of page.executions ?? []) if (e.name) names.add(e.name);
      nextToken = page.nextToken;
    } while (nextToken);
    return names;
  }
}
