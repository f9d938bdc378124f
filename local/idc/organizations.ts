/**
 * Local Organizations (X-Amz-Target `AWSOrganizationsV20161128`): the fixture's organization
 * (its structure read only), its service control policies and tags (organization-policies.ts).
 * Not part of Identity Center's throttle bucket; its List* pages hold at most 20.
 */
import { AwsError, pageAnswer, requireString, type JsonService } from '../protocol/aws.ts';
import type { OrgFixture } from './fixture.ts';
import type { IdcState, Operations } from './state.ts';

export const ORGANIZATIONS_TARGET_PREFIX = 'AWSOrganizationsV20161128';

const invalidInput = (message: string) => new AwsError('InvalidInputException', message);

export function createOrganizations(state: IdcState): JsonService {
  const { fixture, accountsById, ousById } = state;
  const mgmt = fixture.organization.managementAccountId;
  const orgId = fixture.organization.id;
  const rootId = fixture.organization.rootId;

  const page = (member: string, items: readonly unknown[], input: Record<string, unknown>) =>
    pageAnswer(member, items, { maxResults: input.MaxResults, nextToken: input.NextToken }, { defaultMax: 20, maxMax: 20, invalid: invalidInput });
  const accountView = (a: OrgFixture['accounts'][number]) => ({
    Id: a.id,
    Arn: `arn:aws:organizations::${mgmt}:account/${orgId}/${a.id}`,
    Email: a.email,
    Name: a.name,
    Status: 'ACTIVE',
    State: 'ACTIVE',
    JoinedMethod: a.id === mgmt ? 'INVITED' : 'CREATED',
    JoinedTimestamp: 1_600_000_000,
  });
  const ouView = (o: OrgFixture['ous'][number]) => ({ Id: o.id, Arn: `arn:aws:organizations::${mgmt}:ou/${orgId}/${o.id}`, Name: o.name });
  const requireParent = (input: Record<string, unknown>) => {
    const id = requireString(input, 'ParentId');
    if (id !== rootId && !ousById.has(id)) throw new AwsError('ParentNotFoundException', 'We can\'t find a root or OU with the ParentId that you specified.');
    return id;
  };
  const requireAccount = (id: string) => {
    const a = accountsById.get(id);
    if (!a) throw new AwsError('AccountNotFoundException', 'You specified an account that doesn\'t exist.');
    return a;
  };

  const policies = state.organizationPolicies.operations();
  const changing = (name: string) => (input: Record<string, unknown>) => {
    const out = policies[name]!(input);
    state.changed();
    return out;
  };
  const paged = (name: string, member: string) => (input: Record<string, unknown>) => page(member, (policies[name]!(input) as Record<string, unknown[]>)[member]!, input);

  const operations: Operations = {
    DescribeOrganization: () => ({
      Organization: {
        Id: orgId,
        Arn: `arn:aws:organizations::${mgmt}:organization/${orgId}`,
        FeatureSet: 'ALL',
        MasterAccountArn: `arn:aws:organizations::${mgmt}:account/${orgId}/${mgmt}`,
        MasterAccountId: mgmt,
        MasterAccountEmail: fixture.organization.managementAccountEmail,
        AvailablePolicyTypes: [],
      },
    }),
    ListRoots: (input) => page('Roots', [{ Id: rootId, Arn: `arn:aws:organizations::${mgmt}:root/${orgId}/${rootId}`, Name: 'Root', PolicyTypes: [{ Type: 'SERVICE_CONTROL_POLICY', Status: 'ENABLED' }] }], input),
    ListAccounts: (input) => page('Accounts', fixture.accounts.map(accountView), input),
    DescribeAccount: (input) => ({ Account: accountView(requireAccount(requireString(input, 'AccountId'))) }),
    ListAccountsForParent: (input) => {
      const parentId = requireParent(input);
      return page('Accounts', fixture.accounts.filter((a) => a.parentId === parentId).map(accountView), input);
    },
    ListOrganizationalUnitsForParent: (input) => {
      const parentId = requireParent(input);
      return page('OrganizationalUnits', fixture.ous.filter((o) => o.parentId === parentId).map(ouView), input);
    },
    DescribeOrganizationalUnit: (input) => {
      const id = requireString(input, 'OrganizationalUnitId');
      const ou = ousById.get(id);
      if (!ou) throw new AwsError('OrganizationalUnitNotFoundException', 'We can\'t find an OU with the OrganizationalUnitId that you specified.');
      return { OrganizationalUnit: ouView(ou) };
    },
    ListParents: (input) => {
      const id = requireString(input, 'ChildId');
      const parentId = accountsById.get(id)?.parentId ?? ousById.get(id)?.parentId;
      if (!parentId) throw new AwsError('ChildNotFoundException', 'We can\'t find an organizational unit (OU) or AWS account with the ChildId that you specified.');
      return page('Parents', [{ Id: parentId, Type: parentId === rootId ? 'ROOT' : 'ORGANIZATIONAL_UNIT' }], input);
    },
    ListChildren: (input) => {
      const parentId = requireParent(input);
      const type = requireString(input, 'ChildType');
      let children: { Id: string; Type: string }[];
      if (type === 'ACCOUNT') children = fixture.accounts.filter((a) => a.parentId === parentId).map((a) => ({ Id: a.id, Type: 'ACCOUNT' }));
      else if (type === 'ORGANIZATIONAL_UNIT') children = fixture.ous.filter((o) => o.parentId === parentId).map((o) => ({ Id: o.id, Type: 'ORGANIZATIONAL_UNIT' }));
      else throw invalidInput('You specified an invalid value.');
      return page('Children', children, input);
    },
    CreatePolicy: changing('CreatePolicy'),
    DescribePolicy: (input) => policies.DescribePolicy!(input),
    UpdatePolicy: changing('UpdatePolicy'),
    DeletePolicy: changing('DeletePolicy'),
    AttachPolicy: changing('AttachPolicy'),
    DetachPolicy: changing('DetachPolicy'),
    ListPolicies: paged('ListPolicies', 'Policies'),
    ListPoliciesForTarget: paged('ListPoliciesForTarget', 'Policies'),
    ListTargetsForPolicy: paged('ListTargetsForPolicy', 'Targets'),
    TagResource: changing('TagResource'),
    UntagResource: changing('UntagResource'),
    ListTagsForResource: paged('ListTagsForResource', 'Tags'),
  };

  return state.service(ORGANIZATIONS_TARGET_PREFIX, operations, false);
}
