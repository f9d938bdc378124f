/**
 * Local identitystore (X-Amz-Target `AWSIdentityStore`): the fixture's users and groups, read
 * only, and group memberships, written synchronously (see local/idc/emulator.ts).
 */
import { randomUUID } from 'node:crypto';
import { AwsError, requireObject, requireString, type JsonService } from '../protocol/aws.ts';
import { identityCenterPage as page, validation, type IdcState, type MembershipView, type Operations } from './state.ts';

export const IDENTITY_STORE_TARGET_PREFIX = 'AWSIdentityStore';

export function createIdentityStore(state: IdcState): JsonService {
  const { fixture, usersById, groupsById } = state;
  const storeId = fixture.instance.identityStoreId;

  const checkStore = (input: Record<string, unknown>) => {
    const id = requireString(input, 'IdentityStoreId');
    if (id !== storeId) throw new AwsError('ResourceNotFoundException', `IdentityStore ${id} does not exist.`);
  };
  const notFound = (type: string, id?: string) =>
    new AwsError('ResourceNotFoundException', `${type} not found.${id ? ` (${id})` : ''}`);

  const uniqueAttribute = (input: Record<string, unknown>) => {
    const alt = requireObject(input, 'AlternateIdentifier');
    if (alt.ExternalId) throw validation('ExternalId alternate identifiers are not supported by this Identity Store (no external IdP).');
    const unique = alt.UniqueAttribute as { AttributePath?: unknown; AttributeValue?: unknown } | undefined;
    if (!unique || typeof unique.AttributePath !== 'string') throw validation('AlternateIdentifier must have a UniqueAttribute or an ExternalId');
    if (typeof unique.AttributeValue !== 'string' || unique.AttributeValue === '') {
      throw validation('attribute value cannot be empty or null for attribute path');
    }
    return { path: unique.AttributePath, value: unique.AttributeValue };
  };

  const describeUser = (id: string) => {
    const u = usersById.get(id);
    if (!u) throw notFound('USER', id);
    return {
      IdentityStoreId: storeId,
      UserId: u.id,
      UserName: u.userName,
      Name: { GivenName: u.givenName, FamilyName: u.familyName, Formatted: `${u.givenName} ${u.familyName}` },
      DisplayName: u.displayName,
      Emails: [{ Value: u.email, Type: 'work', Primary: true }],
    };
  };

  const groupView = (g: (typeof fixture.groups)[number]) => ({
    GroupId: g.id,
    DisplayName: g.displayName,
    ...(g.description ? { Description: g.description } : {}),
    // A group an IdP provisions by SCIM carries the IdP's id for it.
    ...(g.externalIds?.length ? { ExternalIds: g.externalIds.map((e) => ({ Issuer: e.issuer, Id: e.id })) } : {}),
    IdentityStoreId: storeId,
  });

  const noFilters = (input: Record<string, unknown>) => {
    if (input.Filters !== undefined) throw validation('Filters are deprecated and not supported by the local Identity Store: use GetUserId / GetGroupId');
  };

  const memberUserId = (input: Record<string, unknown>) => {
    const member = requireObject(input, 'MemberId');
    if (typeof member.UserId !== 'string' || !member.UserId) throw validation('MemberId must have a UserId');
    return member.UserId;
  };

  const membershipView = (m: MembershipView) => ({
    IdentityStoreId: storeId,
    MembershipId: m.membershipId,
    GroupId: m.groupId,
    MemberId: { UserId: m.userId },
  });

  const findMembership = (groupId: string, userId: string) => [...state.memberships.values()].find((m) => m.groupId === groupId && m.userId === userId);

  const operations: Operations = {
    GetUserId: (input) => {
      checkStore(input);
      const { path, value } = uniqueAttribute(input);
      let user;
      if (path.toLowerCase() === 'username') user = fixture.users.find((u) => u.userName === value);
      else if (path.toLowerCase() === 'emails.value') user = fixture.users.find((u) => u.email.toLowerCase() === value.toLowerCase());
      else throw validation(`The attribute ${path} is not a unique attribute`);
      if (!user) throw notFound('USER');
      return { UserId: user.id, IdentityStoreId: storeId };
    },
    DescribeUser: (input) => {
      checkStore(input);
      return describeUser(requireString(input, 'UserId'));
    },
    GetGroupId: (input) => {
      checkStore(input);
      const { path, value } = uniqueAttribute(input);
      if (path.toLowerCase() !== 'displayname') throw validation(`The attribute ${path} is not a unique attribute`);
      const group = fixture.groups.find((g) => g.displayName === value);
      if (!group) throw notFound('GROUP');
      return { GroupId: group.id, IdentityStoreId: storeId };
    },
    DescribeGroup: (input) => {
      checkStore(input);
      const id = requireString(input, 'GroupId');
      const g = groupsById.get(id);
      if (!g) throw notFound('GROUP', id);
      return groupView(g);
    },
    ListUsers: (input) => {
      checkStore(input);
      noFilters(input);
      return page('Users', fixture.users.map((u) => describeUser(u.id)), input);
    },
    ListGroups: (input) => {
      checkStore(input);
      noFilters(input);
      return page('Groups', fixture.groups.map(groupView), input);
    },
    CreateGroupMembership: (input) => {
      checkStore(input);
      const groupId = requireString(input, 'GroupId');
      const userId = memberUserId(input);
      if (!groupsById.has(groupId)) throw notFound('GROUP', groupId);
      if (!usersById.has(userId)) throw notFound('USER', userId);
      if (findMembership(groupId, userId)) {
        throw new AwsError('ConflictException', 'Member is already in the group. (UNIQUENESS_CONSTRAINT_VIOLATION)');
      }
      // Each new membership gets a fresh id, as in AWS (a re-created one differs from the deleted one).
      const id = randomUUID();
      state.memberships.set(id, { membershipId: id, groupId, userId, preExisting: false });
      state.changed();
      return { MembershipId: id, IdentityStoreId: storeId };
    },
    DeleteGroupMembership: (input) => {
      checkStore(input);
      const id = requireString(input, 'MembershipId');
      if (!state.memberships.delete(id)) throw notFound('GROUP_MEMBERSHIP', id);
      state.changed();
      return {};
    },
    GetGroupMembershipId: (input) => {
      checkStore(input);
      const groupId = requireString(input, 'GroupId');
      const userId = memberUserId(input);
      const m = findMembership(groupId, userId);
      if (!m) throw notFound('GROUP_MEMBERSHIP');
      return { MembershipId: m.membershipId, IdentityStoreId: storeId };
    },
    ListGroupMemberships: (input) => {
      checkStore(input);
      const groupId = requireString(input, 'GroupId');
      return page('GroupMemberships', [...state.memberships.values()].filter((m) => m.groupId === groupId).map(membershipView), input);
    },
    ListGroupMembershipsForMember: (input) => {
      checkStore(input);
      const userId = memberUserId(input);
      return page('GroupMemberships', [...state.memberships.values()].filter((m) => m.userId === userId).map(membershipView), input);
    },
    IsMemberInGroups: (input) => {
      checkStore(input);
      const userId = memberUserId(input);
      const groupIds = input.GroupIds;
      if (!Array.isArray(groupIds) || groupIds.length === 0 || groupIds.length > 100 || groupIds.some((g) => typeof g !== 'string')) {
        throw validation('GroupIds must be a list of 1 to 100 group ids');
      }
      return {
        Results: (groupIds as string[]).map((groupId) => ({ GroupId: groupId, MemberId: { UserId: userId }, MembershipExists: !!findMembership(groupId, userId) })),
      };
    },
  };

  return state.service(IDENTITY_STORE_TARGET_PREFIX, operations, true);
}
