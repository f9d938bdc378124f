/**
 * The reconciler's AccessInventory port on Identity Center: sso-admin ListAccountAssignments,
 * ListPermissionSetsProvisionedToAccount and ListAccountAssignmentsForPrincipal, identitystore
 * ListGroupMemberships, ListUsers and ListGroups, one page (at most 100 rows) per call.
 * The clients retry throttling themselves (adaptive mode, built in lib/composition/runtime.ts);
 * SSO Admin loads on first use (lib/adapters/lazy-sdk.ts).
 */
import { DescribeGroupCommand, ListGroupMembershipsCommand, ListGroupsCommand, ListUsersCommand, type Group } from '@aws-sdk/client-identitystore';
import type { AccessInventory, AssignmentRow, DirectoryGroupRow, DirectoryUserRow, ListPage, MembershipRow, PrincipalAssignmentRow } from '../ports/index.ts';
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

  async listProvisionedPermissionSets(accountId: string, nextToken?: string): Promise<ListPage<string>> {
    const { instanceArn } = await this.writer.instance();
    const { client, sdk } = await this.writer.ssoAdminApi();
    const out = await client.send(new sdk.ListPermissionSetsProvisionedToAccountCommand({ InstanceArn: instanceArn, AccountId: accountId, MaxResults: 100, ...(nextToken ? { NextToken: nextToken } : {}) }));
    return page(out.PermissionSets ?? [], out.NextToken);
  }

  async listAssignmentsForPrincipal(principalType: 'USER' | 'GROUP', principalId: string, nextToken?: string): Promise<ListPage<PrincipalAssignmentRow>> {
    const { instanceArn } = await this.writer.instance();
    const { client, sdk } = await this.writer.ssoAdminApi();
    const out = await client.send(
      new sdk.ListAccountAssignmentsForPrincipalCommand({ InstanceArn: instanceArn, PrincipalType: principalType, PrincipalId: principalId, MaxResults: 100, ...(nextToken ? { NextToken: nextToken } : {}) }),
    );
    const items = (out.AccountAssignments ?? []).flatMap((a) => (a.AccountId && a.PermissionSetArn ? [{ accountId: a.AccountId, permissionSetArn: a.PermissionSetArn }] : []));
    return page(items, out.NextToken);
  }

  async listUsers(nextToken?: string): Promise<ListPage<DirectoryUserRow>> {
    const { identityStoreId } = await this.writer.instance();
    const out = await this.writer.clients.identityStore.send(new ListUsersCommand({ IdentityStoreId: identityStoreId, MaxResults: 100, ...(nextToken ? { NextToken: nextToken } : {}) }));
    return page(
      (out.Users ?? []).flatMap((u) => (u.UserId ? [{ userId: u.UserId, userName: u.UserName ?? u.UserId }] : [])),
      out.NextToken,
    );
  }

  async listGroups(nextToken?: string): Promise<ListPage<DirectoryGroupRow>> {
    const { identityStoreId } = await this.writer.instance();
    const out = await this.writer.clients.identityStore.send(new ListGroupsCommand({ IdentityStoreId: identityStoreId, MaxResults: 100, ...(nextToken ? { NextToken: nextToken } : {}) }));
    return page((out.Groups ?? []).flatMap((g) => (g.GroupId ? [groupRow(g.GroupId, g)] : [])), out.NextToken);
  }

  async describeGroup(groupId: string): Promise<DirectoryGroupRow> {
    const { identityStoreId } = await this.writer.instance();
    return groupRow(groupId, await this.writer.clients.identityStore.send(new DescribeGroupCommand({ IdentityStoreId: identityStoreId, GroupId: groupId })));
  }
}

const page = <T>(items: T[], nextToken: string | undefined): ListPage<T> => (nextToken ? { items, nextToken } : { items });

const groupRow = (groupId: string, g: Pick<Group, 'DisplayName' | 'ExternalIds'>): DirectoryGroupRow => ({
  groupId,
  displayName: g.DisplayName ?? groupId,
  externalIds: (g.ExternalIds ?? []).flatMap((e) => (e.Issuer && e.Id ? [{ issuer: e.Issuer, id: e.Id }] : [])),
});
