import { describe, expect, it } from 'vitest';
import {
  ACTION_TABLE,
  ActionInputError,
  UnknownActionError,
  functionArn,
  iamServiceForTarget,
  requiredPermissions,
  reservedSsoRoleArn,
  schedulerOperation,
  type ActionEnvironment,
  type AwsCall,
  type RequiredPermission,
} from '../../local/iam/actions.ts';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const INSTANCE = 'arn:aws:sso:::instance/ssoins-1234567890abcdef';
const PERMISSION_SET = 'arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1234567890abcdef';
const MANAGEMENT = '111111111111';
const MEMBER = '222222222222';
const ENV: ActionEnvironment = {
  organization: { id: 'o-abcde12345', managementAccountId: MANAGEMENT },
  permissionSetName: (arn) => (arn === PERMISSION_SET ? 'ReadOnly' : undefined),
};

const call = (service: AwsCall['service'], operation: string, input: Record<string, unknown>): AwsCall => ({ service, operation, input, region: REGION, accountId: ACCOUNT });
const perms = (service: AwsCall['service'], operation: string, input: Record<string, unknown>, env: ActionEnvironment = ENV): RequiredPermission[] =>
  requiredPermissions(call(service, operation, input), env);
const table = (name: string) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`;

describe('dynamodb', () => {
  const cases: [operation: string, input: Record<string, unknown>, expected: RequiredPermission[]][] = [
    ['GetItem', { TableName: 'grants', Key: {} }, [{ action: 'dynamodb:GetItem', resource: table('grants') }]],
    ['PutItem', { TableName: 'grants', Item: {} }, [{ action: 'dynamodb:PutItem', resource: table('grants') }]],
    ['UpdateItem', { TableName: table('grants'), Key: {} }, [{ action: 'dynamodb:UpdateItem', resource: table('grants') }]],
    ['DeleteItem', { TableName: 'grants', Key: {} }, [{ action: 'dynamodb:DeleteItem', resource: table('grants') }]],
    ['Query', { TableName: 'grants', IndexName: 'byStatus' }, [{ action: 'dynamodb:Query', resource: `${table('grants')}/index/byStatus` }]],
    ['Query', { TableName: 'grants' }, [{ action: 'dynamodb:Query', resource: table('grants') }]],
    ['Scan', { TableName: 'grants', IndexName: 'byExpiry' }, [{ action: 'dynamodb:Scan', resource: `${table('grants')}/index/byExpiry` }]],
    [
      'BatchGetItem',
      { RequestItems: { grants: { Keys: [] }, holders: { Keys: [] } } },
      [
        { action: 'dynamodb:BatchGetItem', resource: table('grants') },
        { action: 'dynamodb:BatchGetItem', resource: table('holders') },
      ],
    ],
    ['BatchWriteItem', { RequestItems: { grants: [] } }, [{ action: 'dynamodb:BatchWriteItem', resource: table('grants') }]],
    [
      'TransactWriteItems',
      {
        TransactItems: [
          { ConditionCheck: { TableName: 'grants', Key: {} } },
          { Put: { TableName: 'holders', Item: {} } },
          { Update: { TableName: 'grants', Key: {} } },
          { Delete: { TableName: 'holders', Key: {} } },
          { Put: { TableName: 'holders', Item: {} } },
        ],
      },
      [
        { action: 'dynamodb:ConditionCheckItem', resource: table('grants'), context: { 'dynamodb:EnclosingOperation': 'TransactWriteItems' } },
        { action: 'dynamodb:PutItem', resource: table('holders'), context: { 'dynamodb:EnclosingOperation': 'TransactWriteItems' } },
        { action: 'dynamodb:UpdateItem', resource: table('grants'), context: { 'dynamodb:EnclosingOperation': 'TransactWriteItems' } },
        { action: 'dynamodb:DeleteItem', resource: table('holders'), context: { 'dynamodb:EnclosingOperation': 'TransactWriteItems' } },
      ],
    ],
    [
      'TransactGetItems',
      { TransactItems: [{ Get: { TableName: 'grants', Key: {} } }] },
      [{ action: 'dynamodb:GetItem', resource: table('grants'), context: { 'dynamodb:EnclosingOperation': 'TransactGetItems' } }],
    ],
    ['DescribeTable', { TableName: 'grants' }, [{ action: 'dynamodb:DescribeTable', resource: table('grants') }]],
    ['CreateTable', { TableName: 'grants' }, [{ action: 'dynamodb:CreateTable', resource: table('grants') }]],
    ['DescribeStream', { StreamArn: `${table('grants')}/stream/2030-01-01T00:00:00.000` }, [{ action: 'dynamodb:DescribeStream', resource: `${table('grants')}/stream/2030-01-01T00:00:00.000` }]],
    ['GetShardIterator', { StreamArn: `${table('grants')}/stream/L`, ShardId: 's' }, [{ action: 'dynamodb:GetShardIterator', resource: `${table('grants')}/stream/L` }]],
    ['ListStreams', {}, [{ action: 'dynamodb:ListStreams', resource: '*' }]],
  ];
  it.each(cases)('%s %j', (operation, input, expected) => {
    expect(perms('dynamodb', operation, input)).toEqual(expected);
  });

  it('GetRecords finds its stream through the shard iterator', () => {
    const stream = `${table('grants')}/stream/L`;
    expect(perms('dynamodb', 'GetRecords', { ShardIterator: 'it-1' }, { streamArnOfShardIterator: (it) => (it === 'it-1' ? stream : undefined) })).toEqual([
      { action: 'dynamodb:GetRecords', resource: stream },
    ]);
    expect(() => perms('dynamodb', 'GetRecords', { ShardIterator: 'it-2' }, {})).toThrow(ActionInputError);
  });

  it('a request without the member that names the resource is an input error', () => {
    expect(() => perms('dynamodb', 'PutItem', { Item: {} })).toThrow(ActionInputError);
    expect(() => perms('dynamodb', 'BatchGetItem', { RequestItems: {} })).toThrow(ActionInputError);
    expect(() => perms('dynamodb', 'TransactWriteItems', { TransactItems: [{ Nope: {} }] })).toThrow(ActionInputError);
  });
});

describe('states', () => {
  const SM = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:grant`;
  const EXEC = `arn:aws:states:${REGION}:${ACCOUNT}:execution:grant:g-01`;
  const cases: [operation: string, input: Record<string, unknown>, expected: RequiredPermission[]][] = [
    ['StartExecution', { stateMachineArn: SM, name: 'g-01', input: '{}' }, [{ action: 'states:StartExecution', resource: SM }]],
    ['DescribeStateMachine', { stateMachineArn: SM }, [{ action: 'states:DescribeStateMachine', resource: SM }]],
    ['DescribeExecution', { executionArn: EXEC }, [{ action: 'states:DescribeExecution', resource: EXEC }]],
    ['StopExecution', { executionArn: EXEC }, [{ action: 'states:StopExecution', resource: EXEC }]],
    ['GetExecutionHistory', { executionArn: EXEC }, [{ action: 'states:GetExecutionHistory', resource: EXEC }]],
    ['ListExecutions', { stateMachineArn: SM }, [{ action: 'states:ListExecutions', resource: SM }]],
    ['SendTaskSuccess', { taskToken: 't', output: '{}' }, [{ action: 'states:SendTaskSuccess', resource: '*' }]],
    ['SendTaskFailure', { taskToken: 't' }, [{ action: 'states:SendTaskFailure', resource: '*' }]],
    ['SendTaskHeartbeat', { taskToken: 't' }, [{ action: 'states:SendTaskHeartbeat', resource: '*' }]],
  ];
  it.each(cases)('%s', (operation, input, expected) => {
    expect(perms('states', operation, input)).toEqual(expected);
  });
});

describe('scheduler', () => {
  const ROLE = `arn:aws:iam::${ACCOUNT}:role/jit-scheduler`;
  const target = { Arn: 'arn:aws:scheduler:::aws-sdk:sfn:startExecution', RoleArn: ROLE, Input: '{}' };

  it('CreateSchedule needs the schedule and iam:PassRole of the target role to the Scheduler', () => {
    expect(perms('scheduler', 'CreateSchedule', { Name: 'revoke-g-01', GroupName: 'jit', Target: target })).toEqual([
      { action: 'scheduler:CreateSchedule', resource: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/jit/revoke-g-01` },
      { action: 'iam:PassRole', resource: ROLE, context: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    ]);
  });

  it('UpdateSchedule in the default group passes the role too', () => {
    expect(perms('scheduler', 'UpdateSchedule', { Name: 'revoke-g-01', Target: target })).toEqual([
      { action: 'scheduler:UpdateSchedule', resource: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/default/revoke-g-01` },
      { action: 'iam:PassRole', resource: ROLE, context: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    ]);
    expect(() => perms('scheduler', 'UpdateSchedule', { Name: 'x', Target: { Arn: 'a' } })).toThrow(ActionInputError);
  });

  it('Get/Delete/List and groups', () => {
    expect(perms('scheduler', 'GetSchedule', { Name: 'n', GroupName: 'jit' })).toEqual([{ action: 'scheduler:GetSchedule', resource: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/jit/n` }]);
    expect(perms('scheduler', 'DeleteSchedule', { Name: 'n' })).toEqual([{ action: 'scheduler:DeleteSchedule', resource: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/default/n` }]);
    expect(perms('scheduler', 'ListSchedules', {})).toEqual([{ action: 'scheduler:ListSchedules', resource: '*' }]);
    expect(perms('scheduler', 'CreateScheduleGroup', { Name: 'jit' })).toEqual([{ action: 'scheduler:CreateScheduleGroup', resource: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/jit` }]);
    expect(perms('scheduler', 'GetScheduleGroup', { Name: 'jit' })).toEqual([{ action: 'scheduler:GetScheduleGroup', resource: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/jit` }]);
  });

  it('schedulerOperation routes the REST API', () => {
    const q = (s = '') => new URLSearchParams(s);
    const cases: [method: string, path: string, query: string, expected: ReturnType<typeof schedulerOperation>][] = [
      ['POST', '/schedules/revoke-g-01', '', { operation: 'CreateSchedule', pathMembers: { Name: 'revoke-g-01' } }],
      ['PUT', '/schedules/revoke-g-01', '', { operation: 'UpdateSchedule', pathMembers: { Name: 'revoke-g-01' } }],
      ['GET', '/schedules/revoke-g-01', 'groupName=jit', { operation: 'GetSchedule', pathMembers: { Name: 'revoke-g-01', GroupName: 'jit' } }],
      ['GET', '/schedules/revoke-g-01', '', { operation: 'GetSchedule', pathMembers: { Name: 'revoke-g-01' } }],
      ['DELETE', '/schedules/a%20b', 'groupName=jit&clientToken=x', { operation: 'DeleteSchedule', pathMembers: { Name: 'a b', GroupName: 'jit' } }],
      ['GET', '/schedules', 'ScheduleGroup=jit', { operation: 'ListSchedules', pathMembers: {} }],
      ['POST', '/schedule-groups/jit', '', { operation: 'CreateScheduleGroup', pathMembers: { Name: 'jit' } }],
      ['GET', '/schedule-groups/jit', '', { operation: 'GetScheduleGroup', pathMembers: { Name: 'jit' } }],
      ['DELETE', '/schedule-groups/jit', '', { operation: 'DeleteScheduleGroup', pathMembers: { Name: 'jit' } }],
      ['get', '/schedule-groups', '', { operation: 'ListScheduleGroups', pathMembers: {} }],
      ['PATCH', '/schedules/x', '', undefined],
      ['POST', '/schedules', '', undefined],
      ['GET', '/tags/arn', '', undefined],
      ['GET', '/schedules/x/extra', '', undefined],
    ];
    for (const [method, path, query, expected] of cases) expect(schedulerOperation(method, path, q(query)), `${method} ${path}`).toEqual(expected);
  });
});

describe('sso', () => {
  const assignment = (target: string) => ({ InstanceArn: INSTANCE, TargetId: target, TargetType: 'AWS_ACCOUNT', PermissionSetArn: PERMISSION_SET, PrincipalType: 'USER', PrincipalId: 'u-1' });
  const ssoOn = (action: string) => [
    { action, resource: INSTANCE },
    { action, resource: PERMISSION_SET },
  ];

  it('CreateAccountAssignment on a member account needs instance, permission set and account', () => {
    expect(perms('sso', 'CreateAccountAssignment', assignment(MEMBER))).toEqual([
      ...ssoOn('sso:CreateAccountAssignment'),
      { action: 'sso:CreateAccountAssignment', resource: `arn:aws:sso:::account/${MEMBER}` },
    ]);
  });

  it('CreateAccountAssignment on the management account also needs the caller to provision the role', () => {
    const role = reservedSsoRoleArn(MANAGEMENT, 'ReadOnly', PERMISSION_SET);
    expect(role).toMatch(new RegExp(`^arn:aws:iam::${MANAGEMENT}:role/aws-reserved/sso\\.amazonaws\\.com/AWSReservedSSO_ReadOnly_[0-9a-f]{16}$`));
    expect(reservedSsoRoleArn(MANAGEMENT, 'ReadOnly', PERMISSION_SET)).toBe(role);
    expect(reservedSsoRoleArn(MANAGEMENT, 'ReadOnly', `${PERMISSION_SET}0`)).not.toBe(role);
    expect(perms('sso', 'CreateAccountAssignment', assignment(MANAGEMENT))).toEqual([
      ...ssoOn('sso:CreateAccountAssignment'),
      { action: 'sso:CreateAccountAssignment', resource: `arn:aws:sso:::account/${MANAGEMENT}` },
      { action: 'iam:GetSAMLProvider', resource: `arn:aws:iam::${MANAGEMENT}:saml-provider/AWSSSO_1234567890abcdef_DO_NOT_DELETE` },
      ...['iam:CreateRole', 'iam:GetRole', 'iam:ListRolePolicies', 'iam:ListAttachedRolePolicies', 'iam:AttachRolePolicy', 'iam:PutRolePolicy', 'iam:UpdateRole', 'iam:UpdateRoleDescription'].map((action) => ({ action, resource: role })),
    ]);
  });

  it('DeleteAccountAssignment on the management account needs the role clean-up permissions', () => {
    const role = reservedSsoRoleArn(MANAGEMENT, 'ReadOnly', PERMISSION_SET);
    const got = perms('sso', 'DeleteAccountAssignment', assignment(MANAGEMENT));
    expect(got.map((p) => p.action)).toEqual([
      'sso:DeleteAccountAssignment',
      'sso:DeleteAccountAssignment',
      'sso:DeleteAccountAssignment',
      'iam:GetRole',
      'iam:ListRolePolicies',
      'iam:ListAttachedRolePolicies',
      'iam:DeleteRole',
      'iam:DeleteRolePolicy',
      'iam:DetachRolePolicy',
    ]);
    expect(got.filter((p) => p.action.startsWith('iam:')).every((p) => p.resource === role)).toBe(true);
    expect(perms('sso', 'DeleteAccountAssignment', assignment(MEMBER)).map((p) => p.action)).toEqual(Array(3).fill('sso:DeleteAccountAssignment'));
  });

  it('without an organization the management account is not recognised; without names the role cannot be built', () => {
    expect(perms('sso', 'CreateAccountAssignment', assignment(MANAGEMENT), {})).toHaveLength(3);
    expect(() => perms('sso', 'CreateAccountAssignment', assignment(MANAGEMENT), { organization: ENV.organization! })).toThrow(/permissionSetName/);
  });

  const cases: [operation: string, input: Record<string, unknown>, expected: RequiredPermission[]][] = [
    ['ListInstances', {}, [{ action: 'sso:ListInstances', resource: '*' }]],
    [
      'ListAccountAssignments',
      { InstanceArn: INSTANCE, AccountId: MEMBER, PermissionSetArn: PERMISSION_SET },
      [...ssoOn('sso:ListAccountAssignments'), { action: 'sso:ListAccountAssignments', resource: `arn:aws:sso:::account/${MEMBER}` }],
    ],
    ['DescribeAccountAssignmentCreationStatus', { InstanceArn: INSTANCE, AccountAssignmentCreationRequestId: 'r' }, [{ action: 'sso:DescribeAccountAssignmentCreationStatus', resource: INSTANCE }]],
    ['DescribeAccountAssignmentDeletionStatus', { InstanceArn: INSTANCE, AccountAssignmentDeletionRequestId: 'r' }, [{ action: 'sso:DescribeAccountAssignmentDeletionStatus', resource: INSTANCE }]],
    ['ListPermissionSets', { InstanceArn: INSTANCE }, [{ action: 'sso:ListPermissionSets', resource: INSTANCE }]],
    ['DescribePermissionSet', { InstanceArn: INSTANCE, PermissionSetArn: PERMISSION_SET }, ssoOn('sso:DescribePermissionSet')],
    ['ListAccountsForProvisionedPermissionSet', { InstanceArn: INSTANCE, PermissionSetArn: PERMISSION_SET }, ssoOn('sso:ListAccountsForProvisionedPermissionSet')],
    [
      'ListPermissionSetsProvisionedToAccount',
      { InstanceArn: INSTANCE, AccountId: MEMBER },
      [
        { action: 'sso:ListPermissionSetsProvisionedToAccount', resource: INSTANCE },
        { action: 'sso:ListPermissionSetsProvisionedToAccount', resource: `arn:aws:sso:::account/${MEMBER}` },
      ],
    ],
    ['ListAccountAssignmentsForPrincipal', { InstanceArn: INSTANCE, PrincipalId: 'u-1', PrincipalType: 'USER' }, [{ action: 'sso:ListAccountAssignmentsForPrincipal', resource: INSTANCE }]],
  ];
  it.each(cases)('%s', (operation, input, expected) => {
    expect(perms('sso', operation, input)).toEqual(expected);
  });
});

describe('identitystore', () => {
  const STORE_ID = 'd-1234567890';
  const STORE = `arn:aws:identitystore::${ACCOUNT}:identitystore/${STORE_ID}`;
  const ids = (operation: string, input: Record<string, unknown>, env: ActionEnvironment = ENV) =>
    perms('identitystore', operation, { IdentityStoreId: STORE_ID, ...input }, env).map((p) => {
      expect(p.action).toBe(`identitystore:${operation}`);
      return p.resource;
    });

  const cases: [operation: string, input: Record<string, unknown>, resources: string[]][] = [
    ['GetUserId', { AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: 'alice' } } }, [STORE, 'arn:aws:identitystore:::user/*']],
    ['DescribeUser', { UserId: 'u-1' }, [STORE, 'arn:aws:identitystore:::user/u-1']],
    ['ListUsers', {}, [STORE, 'arn:aws:identitystore:::user/*']],
    ['GetGroupId', { AlternateIdentifier: {} }, [STORE, 'arn:aws:identitystore:::group/*']],
    ['DescribeGroup', { GroupId: 'g-1' }, [STORE, 'arn:aws:identitystore:::group/g-1']],
    ['ListGroups', {}, [STORE, 'arn:aws:identitystore:::group/*']],
    ['ListGroupMemberships', { GroupId: 'g-1' }, [STORE, 'arn:aws:identitystore:::group/g-1', 'arn:aws:identitystore:::membership/*']],
    ['ListGroupMembershipsForMember', { MemberId: { UserId: 'u-1' } }, [STORE, 'arn:aws:identitystore:::user/u-1', 'arn:aws:identitystore:::membership/*']],
    [
      'IsMemberInGroups',
      { MemberId: { UserId: 'u-1' }, GroupIds: ['g-1', 'g-2'] },
      [STORE, 'arn:aws:identitystore:::user/u-1', 'arn:aws:identitystore:::group/g-1', 'arn:aws:identitystore:::group/g-2', 'arn:aws:identitystore:::membership/*'],
    ],
    ['GetGroupMembershipId', { GroupId: 'g-1', MemberId: { UserId: 'u-1' } }, [STORE, 'arn:aws:identitystore:::group/g-1', 'arn:aws:identitystore:::user/u-1', 'arn:aws:identitystore:::membership/*']],
    ['CreateGroupMembership', { GroupId: 'g-1', MemberId: { UserId: 'u-1' } }, [STORE, 'arn:aws:identitystore:::group/g-1', 'arn:aws:identitystore:::user/u-1']],
    ['DeleteGroupMembership', { MembershipId: 'm-1' }, [STORE, 'arn:aws:identitystore:::group/*', 'arn:aws:identitystore:::user/*', 'arn:aws:identitystore:::membership/m-1']],
  ];
  it.each(cases)('%s', (operation, input, resources) => {
    expect(ids(operation, input)).toEqual(resources);
  });

  it('ListGroupMemberships needs membership/* besides the store and the group', () => {
    expect(ids('ListGroupMemberships', { GroupId: 'g-1' })).toContain('arn:aws:identitystore:::membership/*');
  });

  it('DeleteGroupMembership names the membership’s group and user when the directory knows them', () => {
    const env: ActionEnvironment = { groupMembership: (store, id) => (store === STORE_ID && id === 'm-1' ? { groupId: 'g-1', userId: 'u-1' } : undefined) };
    expect(ids('DeleteGroupMembership', { MembershipId: 'm-1' }, env)).toEqual([STORE, 'arn:aws:identitystore:::group/g-1', 'arn:aws:identitystore:::user/u-1', 'arn:aws:identitystore:::membership/m-1']);
  });
});

describe('organizations', () => {
  const ORG = 'arn:aws:organizations::111111111111';
  const cases: [operation: string, input: Record<string, unknown>, resource: string][] = [
    ['DescribeOrganization', {}, '*'],
    ['ListAccounts', {}, '*'],
    ['ListRoots', {}, '*'],
    ['DescribeAccount', { AccountId: MEMBER }, `${ORG}:account/o-abcde12345/${MEMBER}`],
    ['ListParents', { ChildId: MEMBER }, `${ORG}:account/o-abcde12345/${MEMBER}`],
    ['ListParents', { ChildId: 'ou-ab12-cdef3456' }, `${ORG}:ou/o-abcde12345/ou-ab12-cdef3456`],
    ['ListChildren', { ParentId: 'r-ab12', ChildType: 'ACCOUNT' }, `${ORG}:root/o-abcde12345/r-ab12`],
    ['ListAccountsForParent', { ParentId: 'ou-ab12-cdef3456' }, `${ORG}:ou/o-abcde12345/ou-ab12-cdef3456`],
    ['ListTagsForResource', { ResourceId: MEMBER }, `${ORG}:account/o-abcde12345/${MEMBER}`],
    ['DescribeOrganizationalUnit', { OrganizationalUnitId: 'ou-ab12-cdef3456' }, `${ORG}:ou/o-abcde12345/ou-ab12-cdef3456`],
  ];
  it.each(cases)('%s %j', (operation, input, resource) => {
    expect(perms('organizations', operation, input)).toEqual([{ action: `organizations:${operation}`, resource }]);
  });

  it('service control policies: the policy with its tags and type, the target of an attachment, the request tags of a creation', () => {
    const env: ActionEnvironment = { ...ENV, organizationsTags: (id): Record<string, string> => (id === 'p-1a2b3c4d' ? { 'identity-center-jit:owner': 'stack' } : {}) };
    const policy = `${ORG}:policy/o-abcde12345/service_control_policy/p-1a2b3c4d`;
    const tagged = { 'aws:ResourceTag/identity-center-jit:owner': 'stack', 'organizations:PolicyType': 'SERVICE_CONTROL_POLICY' };
    expect(perms('organizations', 'UpdatePolicy', { PolicyId: 'p-1a2b3c4d', Content: '{}' }, env)).toEqual([{ action: 'organizations:UpdatePolicy', resource: policy, context: tagged }]);
    expect(perms('organizations', 'AttachPolicy', { PolicyId: 'p-1a2b3c4d', TargetId: MEMBER }, env)).toEqual([
      { action: 'organizations:AttachPolicy', resource: policy, context: tagged },
      { action: 'organizations:AttachPolicy', resource: `${ORG}:account/o-abcde12345/${MEMBER}`, context: { 'organizations:PolicyType': 'SERVICE_CONTROL_POLICY' } },
    ]);
    const created = perms('organizations', 'CreatePolicy', { Name: 'n', Type: 'SERVICE_CONTROL_POLICY', Content: '{}', Tags: [{ Key: 'identity-center-jit:owner', Value: 'stack' }] }, env);
    const request = { 'aws:RequestTag/identity-center-jit:owner': 'stack', 'aws:TagKeys': ['identity-center-jit:owner'], 'organizations:PolicyType': 'SERVICE_CONTROL_POLICY' };
    expect(created).toEqual([
      { action: 'organizations:CreatePolicy', resource: '*', context: request },
      { action: 'organizations:TagResource', resource: '*', context: request },
    ]);
    expect(perms('organizations', 'ListPoliciesForTarget', { TargetId: MEMBER, Filter: 'SERVICE_CONTROL_POLICY' }, env)).toEqual([
      { action: 'organizations:ListPoliciesForTarget', resource: `${ORG}:account/o-abcde12345/${MEMBER}` },
    ]);
  });

  it('resource-level actions need the organization from the environment', () => {
    expect(() => perms('organizations', 'DescribeAccount', { AccountId: MEMBER }, {})).toThrow(/env\.organization/);
    expect(perms('organizations', 'ListAccounts', {}, {})).toEqual([{ action: 'organizations:ListAccounts', resource: '*' }]);
  });
});

describe('ssm, sts, lambda, iam', () => {
  it('ssm parameters drop the leading slash and any version selector', () => {
    const param = (name: string) => `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/${name}`;
    expect(perms('ssm', 'GetParameter', { Name: '/jit/slack/signing-secret', WithDecryption: true })).toEqual([{ action: 'ssm:GetParameter', resource: param('jit/slack/signing-secret') }]);
    expect(perms('ssm', 'GetParameter', { Name: 'plain:3' })).toEqual([{ action: 'ssm:GetParameter', resource: param('plain') }]);
    expect(perms('ssm', 'GetParameters', { Names: ['/a', '/b'] })).toEqual([
      { action: 'ssm:GetParameters', resource: param('a') },
      { action: 'ssm:GetParameters', resource: param('b') },
    ]);
  });

  it('sts', () => {
    const role = `arn:aws:iam::${MANAGEMENT}:role/jit-idc`;
    expect(perms('sts', 'AssumeRole', { RoleArn: role, RoleSessionName: 'jit' })).toEqual([{ action: 'sts:AssumeRole', resource: role, context: { 'sts:RoleSessionName': 'jit' } }]);
    expect(perms('sts', 'GetCallerIdentity', {})).toEqual([]);
  });

  it('lambda Invoke accepts a name, a partial ARN or an ARN, qualifier stripped', () => {
    const fn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:jit-api`;
    for (const name of ['jit-api', 'jit-api:live', `${ACCOUNT}:function:jit-api`, fn, `${fn}:live`]) {
      expect(perms('lambda', 'Invoke', { FunctionName: name }), name).toEqual([{ action: 'lambda:InvokeFunction', resource: fn }]);
    }
    expect(functionArn('arn:aws:lambda:eu-west-1:333333333333:function:other:7', REGION, ACCOUNT)).toBe('arn:aws:lambda:eu-west-1:333333333333:function:other');
  });

  it('iam:PassRole carries iam:PassedToService', () => {
    const role = `arn:aws:iam::${ACCOUNT}:role/r`;
    expect(perms('iam', 'PassRole', { RoleArn: role, PassedToService: 'states.amazonaws.com' })).toEqual([
      { action: 'iam:PassRole', resource: role, context: { 'iam:PassedToService': 'states.amazonaws.com' } },
    ]);
  });
});

describe('secretsmanager', () => {
  const secret = (name: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}`;
  const full = secret('jit-dev/cursor-key-AbC123');
  const env: ActionEnvironment = { secretArn: (id) => ([full, 'jit-dev/cursor-key', secret('jit-dev/cursor-key')].includes(id) ? full : undefined) };

  it('GetSecretValue and DescribeSecret are authorized against the full ARN however the request names the secret', () => {
    for (const operation of ['GetSecretValue', 'DescribeSecret']) {
      for (const id of [full, 'jit-dev/cursor-key', secret('jit-dev/cursor-key')]) {
        expect(perms('secretsmanager', operation, { SecretId: id }, env), `${operation} ${id}`).toEqual([{ action: `secretsmanager:${operation}`, resource: full }]);
      }
    }
  });

  it('a secret that does not exist is checked as named: the ARN as given, a name as its partial ARN', () => {
    expect(perms('secretsmanager', 'GetSecretValue', { SecretId: 'other' }, env)).toEqual([{ action: 'secretsmanager:GetSecretValue', resource: secret('other') }]);
    expect(perms('secretsmanager', 'GetSecretValue', { SecretId: secret('other-XyZ789') }, {})).toEqual([{ action: 'secretsmanager:GetSecretValue', resource: secret('other-XyZ789') }]);
    expect(() => perms('secretsmanager', 'GetSecretValue', {}, env)).toThrow(ActionInputError);
  });

  it('CreateSecret names a suffix nobody knows yet: only a policy wildcarding it can allow it', () => {
    expect(perms('secretsmanager', 'CreateSecret', { Name: 'jit-dev/new' })).toEqual([{ action: 'secretsmanager:CreateSecret', resource: secret('jit-dev/new-??????') }]);
  });
});

describe('events', () => {
  const bus = (name: string) => `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${name}`;

  it('PutEvents needs each entry\'s bus, by name or ARN, the default bus when none is named', () => {
    expect(perms('events', 'PutEvents', { Entries: [{ Source: 's' }, { EventBusName: 'default' }] })).toEqual([{ action: 'events:PutEvents', resource: bus('default') }]);
    expect(perms('events', 'PutEvents', { Entries: [{ EventBusName: 'audit' }, { EventBusName: bus('other') }] })).toEqual([
      { action: 'events:PutEvents', resource: bus('audit') },
      { action: 'events:PutEvents', resource: bus('other') },
    ]);
  });
});

describe('the table', () => {
  it('an operation not in the table throws UnknownActionError with the way out', () => {
    const attempt = () => perms('dynamodb', 'DeleteTable', { TableName: 'grants' });
    expect(attempt).toThrow(UnknownActionError);
    expect(attempt).toThrow(
      'dynamodb:DeleteTable is not in the local IAM action table (local/iam/actions.ts); add a row citing the Service Authorization Reference',
    );
  });

  it('every row cites an AWS documentation page and names an action of its service or one it depends on', () => {
    expect(ACTION_TABLE.length).toBeGreaterThan(60);
    const keys = new Set<string>();
    for (const row of ACTION_TABLE) {
      expect(row.source, `${row.service}:${row.operation}`).toMatch(/^https:\/\/docs\.aws\.amazon\.com\/\S+\.html( https:\/\/docs\.aws\.amazon\.com\/\S+\.html)*$/);
      expect(row.action).toMatch(/^[a-z]+:[A-Za-z]+(, [a-z]+:[A-Za-z]+)*$/);
      const key = `${row.service}:${row.operation}`;
      expect(keys.has(key), key).toBe(false);
      keys.add(key);
    }
    const sar = ACTION_TABLE.filter((r) => r.source.includes('/service-authorization/latest/reference/'));
    expect(sar.length).toBeGreaterThan(ACTION_TABLE.length - 3);
  });

  it('iamServiceForTarget maps the X-Amz-Target prefixes the edge serves', () => {
    const cases: [string, AwsCall['service'] | undefined][] = [
      ['DynamoDB_20120810', 'dynamodb'],
      ['DynamoDBStreams_20120810', 'dynamodb'],
      ['AWSStepFunctions', 'states'],
      ['SWBExternalService', 'sso'],
      ['AWSIdentityStore', 'identitystore'],
      ['AWSOrganizationsV20161128', 'organizations'],
      ['AmazonSSM', 'ssm'],
      ['AmazonSSM.GetParameter', 'ssm'],
      ['secretsmanager', 'secretsmanager'],
      ['secretsmanager.GetSecretValue', 'secretsmanager'],
      ['AWSEvents', 'events'],
      ['AWSEvents.PutEvents', 'events'],
      ['AWSCertificateManager', undefined],
      ['toString', undefined],
    ];
    for (const [prefix, service] of cases) expect(iamServiceForTarget(prefix), prefix).toBe(service);
  });
});
