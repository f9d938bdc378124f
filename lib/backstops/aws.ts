/**
 * SDK adapters for the backstop ports: the execution starter (Step Functions) and the
 * access inventory (sso-admin ListAccountAssignments, identitystore ListGroupMemberships).
 * The clients retry throttling themselves (adaptive mode, built in lib/runtime.ts).
 * Step Functions and SSO Admin load on first use (lib/adapters/lazy-sdk.ts).
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import { ListGroupMembershipsCommand } from '@aws-sdk/client-identitystore';
import { errorName } from '../adapters/aws-retry.ts';
import type { IdentityCenterWriter } from '../adapters/identity-center.ts';
import { clientProvider, lazySdk, type ClientSource } from '../adapters/lazy-sdk.ts';
import type { AccessInventory, AssignmentRow, ExecutionStarter, ListPage, MembershipRow, RevokeExecutionInput, RunningExecutions } from '../ports/index.ts';

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
    return this.start(this.stateMachines.revoke, name, JSON.stringify({ grantId: input.grantId, expiresAt: input.expiresAt, mode: input.mode }));
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

/** Lists through the writer's clients and instance (configured ARN/id, or ListInstances once). */
export class IdentityCenterInventory implements AccessInventory {
  constructor(private readonly writer: IdentityCenterWriter) {}

  async listAssignments(accountId: string, permissionSetArn: string, nextToken?: string): Promise<ListPage<AssignmentRow>> {
    const { instanceArn } = await this.writer.instance();
    const { client, sdk } = await this.writer.ssoAdminApi();
    const out = await client.send(
      new sdk.ListAccountAssignmentsCommand({ InstanceArn: instanceArn, AccountId: accountId, PermissionSetArn: permissionSetArn, MaxResults: 100, ...(nextToken ? { NextToken: nextToken } : {}) }),
    );
    const items: AssignmentRow[] = [];
    for (const a of out.AccountAssignments ?? []) {
      if (a.PrincipalId && (a.PrincipalType === 'USER' || a.PrincipalType === 'GROUP')) items.push({ principalType: a.PrincipalType, principalId: a.PrincipalId });
    }
    return out.NextToken ? { items, nextToken: out.NextToken } : { items };
  }

  async listMemberships(groupId: string, nextToken?: string): Promise<ListPage<MembershipRow>> {
    const { identityStoreId } = await this.writer.instance();
    const out = await this.writer.clients.identityStore.send(
      new ListGroupMembershipsCommand({ IdentityStoreId: identityStoreId, GroupId: groupId, MaxResults: 100, ...(nextToken ? { NextToken: nextToken } : {}) }),
    );
    const items: MembershipRow[] = [];
    for (const m of out.GroupMemberships ?? []) {
      if (!m.MembershipId) continue;
      const userId = m.MemberId && 'UserId' in m.MemberId ? m.MemberId.UserId : undefined;
      items.push({ membershipId: m.MembershipId, ...(userId ? { userId } : {}) });
    }
    return out.NextToken ? { items, nextToken: out.NextToken } : { items };
  }
}
