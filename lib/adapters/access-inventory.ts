/**
 * The reconciler's AccessInventory port on Identity Center: sso-admin
 * ListAccountAssignments and identitystore ListGroupMemberships, one page per call.
 * The clients retry throttling themselves (adaptive mode, built in lib/composition/runtime.ts);
 * SSO Admin loads on first use (lib/adapters/lazy-sdk.ts).
 */
import { ListGroupMembershipsCommand } from '@aws-sdk/client-identitystore';
import type { AccessInventory, AssignmentRow, ListPage, MembershipRow } from '../ports/index.ts';
import type { IdentityCenterWriter } from './identity-center.ts';

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
