// What the words of config/iam/functions.cjs grant, and the role each function gets from its row.
// Every capability is one shared AWS::IAM::ManagedPolicy; a function's role is its own log group
// plus the managed policies of the capabilities its row lists. Serverless resolves the ${self:…}
// and ${param:…} variables in what this module returns; ${AWS::…} and ${GrantsTable.Arn} are Fn::Sub's.
'use strict';

const ref = (logicalId) => ({ Ref: logicalId });
const getAtt = (logicalId, attribute) => ({ 'Fn::GetAtt': [logicalId, attribute] });
const sub = (template) => ({ 'Fn::Sub': template });
const when = (condition, whenTrue, whenFalse) => ({ 'Fn::If': [condition, whenTrue, whenFalse] });
const allow = (Action, Resource, Condition) => ({ Effect: 'Allow', Action, Resource, ...(Condition ? { Condition } : {}) });
const policyDocument = (...Statement) => ({ Version: '2012-10-17', Statement });

const IDC_INSTANCE = when('HasIdcInstanceArn', ref('IdcInstanceArn'), sub('arn:${AWS::Partition}:sso:::instance/*'));
const IDC_INSTANCE_PERMISSION_SETS = when(
  'HasIdcInstanceArn',
  { 'Fn::Sub': ['arn:${AWS::Partition}:sso:::permissionSet/${Id}/*', { Id: { 'Fn::Select': [1, { 'Fn::Split': ['/', ref('IdcInstanceArn')] }] } }] },
  sub('arn:${AWS::Partition}:sso:::permissionSet/*/*'),
);
const IDENTITY_STORE = when(
  'HasIdentityStoreId',
  sub('arn:${AWS::Partition}:identitystore::${AWS::AccountId}:identitystore/${IdentityStoreId}'),
  sub('arn:${AWS::Partition}:identitystore::${AWS::AccountId}:identitystore/*'),
);
const identityStoreItems = (...kinds) => kinds.map((kind) => sub(`arn:\${AWS::Partition}:identitystore:::${kind}/*`));
const SSO_SAML_PROVIDER = sub('arn:${AWS::Partition}:iam::*:saml-provider/AWSSSO_*');
const SSO_RESERVED_ROLES = sub('arn:${AWS::Partition}:iam::*:role/aws-reserved/sso.amazonaws.com/*');
const GRANTS_TABLE_AND_INDEXES = [getAtt('GrantsTable', 'Arn'), sub('${GrantsTable.Arn}/index/*')];
const GRANT_SCHEDULES = sub('arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/${self:custom.names.scheduleGroup}/*');
const stateMachine = (name) => sub(`arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:stateMachine:\${self:custom.names.${name}}`);
// The bus of the deploy parameter eventBusName (a bus name in this account; `default` is the default bus).
const EVENT_BUS = sub('arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${param:eventBusName}');
// Organizations ARNs embed the management account and organization ids, which this stack does not know.
const ORGANIZATIONS_ACCOUNTS = sub('arn:${AWS::Partition}:organizations::*:account/o-*/*');
const SCP_POLICIES = sub('arn:${AWS::Partition}:organizations::*:policy/o-*/service_control_policy/p-*');
/** The tag (lib/adapters/organizations-scp.ts SCP_OWNER_TAG) and owner (SESSION_SCP_OWNER) of the SCPs this stack creates. */
const SCP_OWNER_TAG = 'identity-center-jit:owner';
const SCP_OWNER = '${self:service}-${sls:stage}';
const ssmParameter = (param) => sub(`arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter\${param:${param}}`);

/**
 * The shared managed policies by logical id. `condition`: the policy exists (and roles attach it)
 * only under that CloudFormation condition: the Identity Center calls are made with the functions'
 * own roles only when no role in the Identity Center account is assumed (idcRoleArn empty).
 */
const MANAGED_POLICIES = {
  GrantsTableReadPolicy: {
    description: 'Read grants by key and through the table\'s indexes',
    statements: [allow(['dynamodb:GetItem', 'dynamodb:Query'], GRANTS_TABLE_AND_INDEXES)],
  },
  GrantsTableWritePolicy: {
    description: 'Read grants and write them with conditional puts and updates',
    statements: [allow(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], GRANTS_TABLE_AND_INDEXES)],
  },
  WorkflowTablePolicy: {
    description: 'Workflow tasks lease assignment-operation slots (BatchGet) and remove holders (DeleteItem)',
    statements: [allow(['dynamodb:BatchGetItem', 'dynamodb:DeleteItem'], getAtt('GrantsTable', 'Arn'))],
  },
  CursorKeyReadPolicy: {
    description: 'Read the key that signs pagination cursors',
    statements: [allow('secretsmanager:GetSecretValue', ref('CursorKeySecret'))],
  },
  StartGrantWorkflowPolicy: {
    description: 'Start the grant workflow (execution names derive from the grant id)',
    statements: [allow('states:StartExecution', stateMachine('grantStateMachine'))],
  },
  StartRevokeWorkflowPolicy: {
    description: 'Start the revoke workflow',
    statements: [allow('states:StartExecution', stateMachine('revokeStateMachine'))],
  },
  WakeSlotWaitersPolicy: {
    description: 'Wake a workflow waiting for a slot with the slot it was handed (SendTaskSuccess has no resource-level permissions)',
    statements: [allow('states:SendTaskSuccess', '*')],
  },
  ListRunningWorkflowsPolicy: {
    description: 'List the workflows\' executions (which grants\' workflows are alive)',
    statements: [allow('states:ListExecutions', [stateMachine('grantStateMachine'), stateMachine('revokeStateMachine')])],
  },
  RevokeScheduleWritePolicy: {
    description: 'Create and move the expiry schedules of grants',
    statements: [
      // An upsert is CreateSchedule, then UpdateSchedule on a conflict: nothing reads a schedule back.
      allow(['scheduler:CreateSchedule', 'scheduler:UpdateSchedule'], GRANT_SCHEDULES),
      allow('iam:PassRole', sub('arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${self:custom.names.schedulerRole}'), {
        StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' },
      }),
    ],
  },
  ScheduleDeletePolicy: {
    description: 'Delete the schedules of grants that can no longer use them',
    statements: [allow('scheduler:DeleteSchedule', GRANT_SCHEDULES)],
  },
  GrantEventsPutPolicy: {
    description: 'Put grant events on the configured EventBridge bus',
    statements: [allow('events:PutEvents', EVENT_BUS)],
  },
  SlackSecretsReadPolicy: {
    description: 'Read the Slack signing secret and bot token (SecureString under aws/ssm)',
    statements: [allow('ssm:GetParameter', [ssmParameter('slackSigningSecretParam'), ssmParameter('slackBotTokenParam')])],
  },
  // Name → id lookups for policy evaluation.
  DirectoryReadPolicy: {
    condition: 'ReadsDirectoryDirectly',
    description: 'Identity Center, Identity Store and Organizations reads for policy evaluation',
    statements: [
      // sso:ListInstances and organizations:DescribeOrganization/ListAccounts
      // support no resource-level permissions: AWS requires Resource "*".
      allow(['sso:ListInstances', 'organizations:DescribeOrganization', 'organizations:ListAccounts'], '*'),
      allow(['sso:ListPermissionSets', 'sso:DescribePermissionSet'], [IDC_INSTANCE, sub('arn:${AWS::Partition}:sso:::permissionSet/*/*')]),
      allow(
        ['identitystore:GetUserId', 'identitystore:DescribeUser', 'identitystore:GetGroupId', 'identitystore:ListGroupMembershipsForMember'],
        [IDENTITY_STORE, ...identityStoreItems('user', 'group', 'membership')],
      ),
      // Organizations ARNs embed the management account and organization ids, which
      // this stack does not know: scope by resource type only.
      allow(['organizations:DescribeAccount', 'organizations:ListParents', 'organizations:ListTagsForResource'], [
        sub('arn:${AWS::Partition}:organizations::*:account/o-*/*'),
        sub('arn:${AWS::Partition}:organizations::*:ou/o-*/ou-*'),
        sub('arn:${AWS::Partition}:organizations::*:root/o-*/r-*'),
      ]),
    ],
  },
  // The Identity Center calls the workflow task functions and the reconciler make themselves
  // (existence checks, clean-up after a failed activation, removing drift).
  WorkflowIdentityCenterPolicy: {
    condition: 'ReadsDirectoryDirectly',
    description: 'Identity Center checks and clean-up made by the workflow task functions',
    statements: [
      // sso:ListInstances supports no resource-level permissions.
      allow('sso:ListInstances', '*'),
      allow(['sso:ListAccountAssignments', 'sso:DeleteAccountAssignment'], [IDC_INSTANCE, IDC_INSTANCE_PERMISSION_SETS, sub('arn:${AWS::Partition}:sso:::account/*')]),
      allow('sso:DescribeAccountAssignmentDeletionStatus', IDC_INSTANCE),
      // Deleting an assignment on the management account removes its AWSReservedSSO_* role
      // with the caller's own IAM permissions (these functions never create one).
      allow('iam:GetSAMLProvider', SSO_SAML_PROVIDER),
      allow(['iam:GetRole', 'iam:ListRolePolicies', 'iam:ListAttachedRolePolicies', 'iam:DeleteRole', 'iam:DeleteRolePolicy', 'iam:DetachRolePolicy'], SSO_RESERVED_ROLES),
      allow(['identitystore:GetGroupMembershipId', 'identitystore:DeleteGroupMembership'], [IDENTITY_STORE, ...identityStoreItems('user', 'group', 'membership')]),
    ],
  },
  ReconcileIdentityCenterPolicy: {
    condition: 'ReadsDirectoryDirectly',
    description: 'List what exists in Identity Center: provisioned permission sets, assignments per principal, users, groups and their members (reconciler)',
    statements: [
      // The Service Authorization Reference lists the membership resource for this action too.
      allow('identitystore:ListGroupMemberships', [IDENTITY_STORE, ...identityStoreItems('group', 'membership')]),
      allow('identitystore:DescribeGroup', [IDENTITY_STORE, ...identityStoreItems('group')]),
      allow(['identitystore:ListUsers', 'identitystore:ListGroups'], [IDENTITY_STORE, ...identityStoreItems('user', 'group')]),
      allow('sso:ListPermissionSetsProvisionedToAccount', [IDC_INSTANCE, sub('arn:${AWS::Partition}:sso:::account/*')]),
      allow('sso:ListAccountAssignmentsForPrincipal', IDC_INSTANCE),
    ],
  },
  PortalPublishPolicy: {
    description: 'Write the web portal into its bucket, and empty it when the stack is deleted',
    statements: [
      allow(['s3:PutObject', 's3:DeleteObject'], sub('${PortalBucket.Arn}/*')),
      allow('s3:ListBucket', getAtt('PortalBucket', 'Arn')),
    ],
  },
  // Session revocation (sessionRevocation=scp): the cut entries and leases in the table, and the
  // service control policies this stack creates. Changing, attaching, detaching and deleting is
  // allowed only on policies that carry this stack's owner tag, and creating only with that tag.
  SessionCutTablePolicy: {
    description: 'Session revocation: write and remove cut entries in batches, take and give back per-account leases',
    statements: [allow(['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem'], getAtt('GrantsTable', 'Arn'))],
  },
  SessionScpPolicy: {
    condition: 'ReadsDirectoryDirectly',
    description: 'Session revocation: service control policies tagged as this stack\'s, and a group\'s account assignments',
    statements: [
      allow('sso:ListAccountAssignmentsForPrincipal', IDC_INSTANCE),
      // ListPolicies (finding a policy an interrupted attempt created) supports no resource-level permissions.
      allow('organizations:ListPolicies', '*'),
      allow('organizations:ListPoliciesForTarget', ORGANIZATIONS_ACCOUNTS),
      allow(['organizations:DescribePolicy', 'organizations:ListTagsForResource'], SCP_POLICIES),
      // A policy being created has no ARN yet: CreatePolicy (and the TagResource its Tags need) is
      // limited by the policy type and the owner tag instead.
      allow(['organizations:CreatePolicy', 'organizations:TagResource'], '*', {
        StringEquals: { [`aws:RequestTag/${SCP_OWNER_TAG}`]: SCP_OWNER, 'organizations:PolicyType': 'SERVICE_CONTROL_POLICY' },
        'ForAllValues:StringEquals': { 'aws:TagKeys': [SCP_OWNER_TAG] },
      }),
      allow(['organizations:UpdatePolicy', 'organizations:DeletePolicy', 'organizations:AttachPolicy', 'organizations:DetachPolicy'], SCP_POLICIES, {
        StringEquals: { [`aws:ResourceTag/${SCP_OWNER_TAG}`]: SCP_OWNER },
      }),
      // The other resource of an attachment: the account (untagged), for service control policies only.
      allow(['organizations:AttachPolicy', 'organizations:DetachPolicy'], ORGANIZATIONS_ACCOUNTS, { StringEquals: { 'organizations:PolicyType': 'SERVICE_CONTROL_POLICY' } }),
    ],
  },
  // With idcRoleArn set, that role (in the account holding Identity Center) makes the calls above.
  AssumeIdcRolePolicy: {
    condition: 'AssumesIdcRole',
    description: 'Assume the role in the account that holds Identity Center',
    statements: [allow('sts:AssumeRole', ref('IdcRoleArn'))],
  },
};

/**
 * Each word of a row, and each of its values → the managed policies it attaches.
 * A word or value not listed here is an error, so a typo never drops a permission silently.
 */
const CAPABILITIES = {
  grantsTable: {
    read: ['GrantsTableReadPolicy'],
    readWrite: ['GrantsTableWritePolicy'],
    // Plus the workflows' slot leases (BatchGetItem) and holder removal (DeleteItem).
    'readWrite+slots': ['GrantsTableWritePolicy', 'WorkflowTablePolicy'],
  },
  secrets: { cursorKey: ['CursorKeyReadPolicy'], slack: ['SlackSecretsReadPolicy'] },
  startWorkflows: { grant: ['StartGrantWorkflowPolicy'], revoke: ['StartRevokeWorkflowPolicy'] },
  listRunningWorkflows: { both: ['ListRunningWorkflowsPolicy'] },
  slotWaiters: { wake: ['WakeSlotWaitersPolicy'] },
  schedules: { write: ['RevokeScheduleWritePolicy'], delete: ['ScheduleDeletePolicy'] },
  portalBucket: { publish: ['PortalPublishPolicy'] },
  events: { put: ['GrantEventsPutPolicy'] },
  identityCenter: {
    directory: ['DirectoryReadPolicy'],
    assignments: ['WorkflowIdentityCenterPolicy'],
    groupMembers: ['ReconcileIdentityCenterPolicy'],
  },
  sessionRevocation: { scp: ['SessionCutTablePolicy', 'SessionScpPolicy'] },
};
/** Order of the managed policies in a role (CloudFormation keeps the list as written). */
const POLICY_ORDER = Object.keys(MANAGED_POLICIES);

const LAMBDA_TRUST_POLICY = policyDocument({ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' });

/** osls's logical id stem of a function: `createGrant` → `CreateGrant` (its `<Stem>LogGroup`, `<Stem>LambdaFunction`). */
const logicalIdStem = (functionName) => functionName.charAt(0).toUpperCase() + functionName.slice(1);
/** The logical id of a function's generated role; serverless.yml names it in the function's `role:`. */
const roleLogicalId = (functionName) => `${logicalIdStem(functionName)}Role`;

/** The managed policy logical ids a row attaches, in POLICY_ORDER. */
function managedPoliciesOf(functionName, row) {
  const attached = new Set();
  for (const [word, value] of Object.entries(row)) {
    if (word === 'grantsTableStream') continue; // an inline statement: see inlinePolicyOf
    const values = CAPABILITIES[word];
    if (!values) throw new Error(`config/iam/functions.cjs: ${functionName}: unknown capability "${word}"`);
    for (const item of [].concat(value)) {
      const policies = values[item];
      if (!policies) throw new Error(`config/iam/functions.cjs: ${functionName}: ${word} has no "${item}" (one of ${Object.keys(values).join(', ')})`);
      for (const policy of policies) attached.add(policy);
    }
  }
  // Whoever calls Identity Center with its own role assumes the Identity Center account's role instead when one is set.
  if ([...attached].some((id) => MANAGED_POLICIES[id].condition === 'ReadsDirectoryDirectly')) attached.add('AssumeIdcRolePolicy');
  return POLICY_ORDER.filter((id) => attached.has(id));
}

/** The role's own inline policy: its function's log group, and the table's stream for the stream's consumer. */
function inlinePolicyOf(functionName, row) {
  const logs = allow(['logs:CreateLogStream', 'logs:PutLogEvents'], getAtt(`${logicalIdStem(functionName)}LogGroup`, 'Arn'));
  if (row.grantsTableStream === undefined) return { PolicyName: 'logs', PolicyDocument: policyDocument(logs) };
  if (row.grantsTableStream !== 'read') throw new Error(`config/iam/functions.cjs: ${functionName}: grantsTableStream has no "${row.grantsTableStream}" (one of read)`);
  const stream = allow(['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'], getAtt('GrantsTable', 'StreamArn'));
  return { PolicyName: 'stream-and-logs', PolicyDocument: policyDocument(stream, logs) };
}

function functionRole(functionName, row) {
  const managed = managedPoliciesOf(functionName, row).map((id) => {
    const { condition } = MANAGED_POLICIES[id];
    return condition ? when(condition, ref(id), ref('AWS::NoValue')) : ref(id);
  });
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: LAMBDA_TRUST_POLICY,
      ...(managed.length ? { ManagedPolicyArns: managed } : {}),
      Policies: [inlinePolicyOf(functionName, row)],
    },
  };
}

/** The managed policies and one role per function of `functions` (function name → row), as CloudFormation resources. */
function functionIamResources(functions) {
  const resources = {};
  for (const [id, { condition, description, statements }] of Object.entries(MANAGED_POLICIES)) {
    resources[id] = {
      Type: 'AWS::IAM::ManagedPolicy',
      ...(condition ? { Condition: condition } : {}),
      Properties: { Description: description, PolicyDocument: policyDocument(...statements) },
    };
  }
  for (const [name, row] of Object.entries(functions)) resources[roleLogicalId(name)] = functionRole(name, row);
  return resources;
}

module.exports = { functionIamResources, roleLogicalId };
