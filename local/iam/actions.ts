/**
 * The local IAM action table: one AWS API call → the IAM authorizations AWS checks for it.
 *
 * The edge asks this table which (action, resource, context) triples a call needs and
 * evaluates each against the caller's policies (policy.ts). Every row follows the Service
 * Authorization Reference (SAR) page it cites: the IAM action, and one permission per
 * *required* resource type of that action (the caller must be allowed on each). Resource
 * types SAR lists as optional are used only where the request names them (a Query on an
 * index is authorized against the index). Actions with no resource types are checked on '*'.
 *
 * An operation missing from the table throws `UnknownActionError` rather than passing
 * unchecked: whoever adds a call to the project adds its row here, from SAR.
 */
import { createHash } from 'node:crypto';
import type { RequestContext } from './policy.ts';

/** One AWS API call as the edge sees it. `service` is the IAM service prefix. */
export interface AwsCall {
  service: 'dynamodb' | 'states' | 'scheduler' | 'sso' | 'identitystore' | 'organizations' | 'ssm' | 'secretsmanager' | 'sts' | 'lambda' | 'iam' | 'events';
  /** API name, e.g. 'PutItem'. */
  operation: string;
  /** The request as the SDK sends it (JSON members), e.g. { TableName, Key }. */
  input: Record<string, unknown>;
  region: string;
  accountId: string;
}

export interface RequiredPermission {
  /** 'dynamodb:PutItem' */
  action: string;
  /** ARN, or '*' for actions with no resource-level permissions. */
  resource: string;
  context?: RequestContext;
}

/** Facts the table needs that are not in the request (the local Identity Center fixture answers them). */
export interface ActionEnvironment {
  organization?: { id: string /* o-xxxx */; managementAccountId: string };
  /** Name of a permission set from its ARN (for the AWSReservedSSO_<name>_<hash> role ARN). */
  permissionSetName?(permissionSetArn: string): string | undefined;
  /** The group and user of an Identity Store membership, for the calls that name only the membership id. */
  groupMembership?(identityStoreId: string, membershipId: string): { groupId: string; userId: string } | undefined;
  /** The stream ARN a GetRecords shard iterator reads (GetRecords carries only the iterator). */
  streamArnOfShardIterator?(shardIterator: string): string | undefined;
  /**
   * The full ARN (with its random suffix) of the secret a SecretId names: a name, a partial ARN
   * or the ARN. AWS authorizes against the secret's full ARN however the request names it.
   */
  secretArn?(secretId: string, region: string, accountId: string): string | undefined;
  /** An Organizations resource's tags (aws:ResourceTag of a policy). */
  organizationsTags?(resourceId: string): Record<string, string>;
}

export class UnknownActionError extends Error {
  constructor(
    readonly service: string,
    readonly operation: string,
  ) {
    super(
      `${service}:${operation} is not in the local IAM action table (local/iam/actions.ts); add a row citing the Service Authorization Reference`,
    );
    this.name = 'UnknownActionError';
  }
}

/** The request lacks a member the authorization needs (AWS would answer ValidationException). */
export class ActionInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ActionInputError';
  }
}

interface Row {
  service: AwsCall['service'];
  operation: string;
  action: string;
  source: string;
  permissions(call: AwsCall, env: ActionEnvironment): RequiredPermission[];
}

const SAR = 'https://docs.aws.amazon.com/service-authorization/latest/reference/';
const SOURCES = {
  dynamodb: `${SAR}list_amazondynamodb.html`,
  dynamodbTransactions: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html',
  states: `${SAR}list_awsstepfunctions.html`,
  scheduler: `${SAR}list_amazoneventbridgescheduler.html`,
  sso: `${SAR}list_awsiamidentitycenter.html`,
  ssoManagementAccount: 'https://docs.aws.amazon.com/singlesignon/latest/userguide/iam-auth-access-using-id-policies.html',
  identitystore: `${SAR}list_awsidentitystore.html`,
  organizations: `${SAR}list_awsorganizations.html`,
  ssm: `${SAR}list_awssystemsmanager.html`,
  secretsmanager: `${SAR}list_awssecretsmanager.html`,
  sts: `${SAR}list_awssecuritytokenservice.html`,
  lambda: `${SAR}list_awslambda.html`,
  iam: `${SAR}list_awsidentityandaccessmanagementiam.html`,
  events: `${SAR}list_amazoneventbridge.html`,
} as const;

// ---------------------------------------------------------------------------
// Input helpers

function str(call: AwsCall, member: string): string {
  const v = call.input[member];
  if (typeof v !== 'string' || v === '') throw new ActionInputError(`${call.service}:${call.operation} needs ${member}`);
  return v;
}

function optStr(call: AwsCall, member: string): string | undefined {
  const v = call.input[member];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function obj(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function one(action: string, resource: string, context?: RequestContext): RequiredPermission {
  return context ? { action, resource, context } : { action, resource };
}

function dedupe(perms: RequiredPermission[]): RequiredPermission[] {
  const seen = new Set<string>();
  return perms.filter((p) => {
    const key = `${p.action}\n${p.resource}\n${JSON.stringify(p.context ?? {})}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// ---------------------------------------------------------------------------
// DynamoDB

/** TableName may be a name or (since 2024) the table's ARN. */
function tableArn(call: AwsCall, table: string): string {
  return table.startsWith('arn:') ? table : `arn:aws:dynamodb:${call.region}:${call.accountId}:table/${table}`;
}

const tableAction = (operation: string): Row => ({
  service: 'dynamodb',
  operation,
  action: `dynamodb:${operation}`,
  source: SOURCES.dynamodb,
  permissions: (call) => [one(`dynamodb:${operation}`, tableArn(call, str(call, 'TableName')))],
});

/** Query and Scan: table* is required, index is the resource when the request names one. */
const readWithIndex = (operation: string): Row => ({
  service: 'dynamodb',
  operation,
  action: `dynamodb:${operation}`,
  source: SOURCES.dynamodb,
  permissions: (call) => {
    const table = tableArn(call, str(call, 'TableName'));
    const index = optStr(call, 'IndexName');
    return [one(`dynamodb:${operation}`, index ? `${table}/index/${index}` : table)];
  },
});

/** BatchGetItem / BatchWriteItem: one permission per table in RequestItems. */
const batch = (operation: string): Row => ({
  service: 'dynamodb',
  operation,
  action: `dynamodb:${operation}`,
  source: SOURCES.dynamodb,
  permissions: (call) => {
    const tables = Object.keys(obj(call.input.RequestItems) ?? {});
    if (tables.length === 0) throw new ActionInputError(`dynamodb:${operation} needs RequestItems`);
    return dedupe(tables.map((t) => one(`dynamodb:${operation}`, tableArn(call, t))));
  },
});

/**
 * Transactions have no IAM action of their own: each member is authorized as the
 * single-item action it performs, with dynamodb:EnclosingOperation naming the transaction.
 */
const TRANSACT_MEMBERS: Record<string, Record<string, string>> = {
  TransactWriteItems: { ConditionCheck: 'dynamodb:ConditionCheckItem', Put: 'dynamodb:PutItem', Update: 'dynamodb:UpdateItem', Delete: 'dynamodb:DeleteItem' },
  TransactGetItems: { Get: 'dynamodb:GetItem' },
};

const transaction = (operation: 'TransactWriteItems' | 'TransactGetItems'): Row => ({
  service: 'dynamodb',
  operation,
  action: Object.values(TRANSACT_MEMBERS[operation]!).join(', '),
  source: SOURCES.dynamodbTransactions,
  permissions: (call) => {
    const items = call.input.TransactItems;
    if (!Array.isArray(items) || items.length === 0) throw new ActionInputError(`dynamodb:${operation} needs TransactItems`);
    const perms: RequiredPermission[] = [];
    for (const item of items) {
      const entry = Object.entries(obj(item) ?? {}).find(([member]) => TRANSACT_MEMBERS[operation]![member]);
      const table = entry ? obj(entry[1])?.TableName : undefined;
      if (!entry || typeof table !== 'string') throw new ActionInputError(`dynamodb:${operation}: every TransactItems entry needs one of ${Object.keys(TRANSACT_MEMBERS[operation]!).join(', ')} with a TableName`);
      perms.push(one(TRANSACT_MEMBERS[operation]![entry[0]]!, tableArn(call, table), { 'dynamodb:EnclosingOperation': operation }));
    }
    return dedupe(perms);
  },
});

const streamAction = (operation: string, streamArn: (call: AwsCall, env: ActionEnvironment) => string): Row => ({
  service: 'dynamodb',
  operation,
  action: `dynamodb:${operation}`,
  source: SOURCES.dynamodb,
  permissions: (call, env) => [one(`dynamodb:${operation}`, streamArn(call, env))],
});

function recordsStreamArn(call: AwsCall, env: ActionEnvironment): string {
  const direct = optStr(call, 'StreamArn');
  if (direct) return direct;
  const iterator = str(call, 'ShardIterator');
  const arn = env.streamArnOfShardIterator?.(iterator);
  if (!arn) throw new ActionInputError('dynamodb:GetRecords: the stream of this ShardIterator is unknown (env.streamArnOfShardIterator)');
  return arn;
}

// ---------------------------------------------------------------------------
// Step Functions

const statesOn = (operation: string, member: string | undefined): Row => ({
  service: 'states',
  operation,
  action: `states:${operation}`,
  source: SOURCES.states,
  permissions: (call) => [one(`states:${operation}`, member ? str(call, member) : '*')],
});

// ---------------------------------------------------------------------------
// EventBridge Scheduler

const SCHEDULER_PASSED_TO = 'scheduler.amazonaws.com';

function scheduleArn(call: AwsCall): string {
  return `arn:aws:scheduler:${call.region}:${call.accountId}:schedule/${optStr(call, 'GroupName') ?? 'default'}/${str(call, 'Name')}`;
}

/** Create/UpdateSchedule also pass the target's execution role to the Scheduler (SAR: dependent action iam:PassRole). */
const scheduleWrite = (operation: string): Row => ({
  service: 'scheduler',
  operation,
  action: `scheduler:${operation}`,
  source: SOURCES.scheduler,
  permissions: (call) => {
    const roleArn = obj(call.input.Target)?.RoleArn;
    if (typeof roleArn !== 'string' || roleArn === '') throw new ActionInputError(`scheduler:${operation} needs Target.RoleArn`);
    return [one(`scheduler:${operation}`, scheduleArn(call)), one('iam:PassRole', roleArn, { 'iam:PassedToService': SCHEDULER_PASSED_TO })];
  },
});

const scheduleRead = (operation: string): Row => ({
  service: 'scheduler',
  operation,
  action: `scheduler:${operation}`,
  source: SOURCES.scheduler,
  permissions: (call) => [one(`scheduler:${operation}`, scheduleArn(call))],
});

const scheduleGroup = (operation: string): Row => ({
  service: 'scheduler',
  operation,
  action: `scheduler:${operation}`,
  source: SOURCES.scheduler,
  permissions: (call) => [one(`scheduler:${operation}`, `arn:aws:scheduler:${call.region}:${call.accountId}:schedule-group/${str(call, 'Name')}`)],
});

const unscoped = (service: AwsCall['service'], operation: string, source: string, action = `${service}:${operation}`): Row => ({
  service,
  operation,
  action,
  source,
  permissions: () => [one(action, '*')],
});

// ---------------------------------------------------------------------------
// IAM Identity Center (sso-admin)

type SsoResource = 'instance' | 'permissionSet' | 'account';

/** Resource ARN of each required SSO resource type, from the request members that name it. */
function ssoResource(call: AwsCall, type: SsoResource, accountMember = 'AccountId'): string {
  if (type === 'instance') return str(call, 'InstanceArn');
  if (type === 'permissionSet') return str(call, 'PermissionSetArn');
  return `arn:aws:sso:::account/${str(call, accountMember)}`;
}

const sso = (operation: string, required: SsoResource[], accountMember?: string): Row => ({
  service: 'sso',
  operation,
  action: `sso:${operation}`,
  source: SOURCES.sso,
  permissions: (call) => required.map((type) => one(`sso:${operation}`, ssoResource(call, type, accountMember))),
});

const ASSIGNMENT_ROLE_ACTIONS = {
  CreateAccountAssignment: ['iam:CreateRole', 'iam:GetRole', 'iam:ListRolePolicies', 'iam:ListAttachedRolePolicies', 'iam:AttachRolePolicy', 'iam:PutRolePolicy', 'iam:UpdateRole', 'iam:UpdateRoleDescription'],
  DeleteAccountAssignment: ['iam:GetRole', 'iam:ListRolePolicies', 'iam:ListAttachedRolePolicies', 'iam:DeleteRole', 'iam:DeleteRolePolicy', 'iam:DetachRolePolicy'],
} as const;

/**
 * The role Identity Center provisions for a permission set in an account. AWS's suffix is
 * 16 opaque hex characters fixed per permission set; locally they are derived from the ARN
 * so the emulator and the authorizer agree on the name.
 */
export function reservedSsoRoleArn(accountId: string, permissionSetName: string, permissionSetArn: string): string {
  const suffix = createHash('sha256').update(permissionSetArn).digest('hex').slice(0, 16);
  return `arn:aws:iam::${accountId}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_${permissionSetName}_${suffix}`;
}

/** The SAML provider Identity Center keeps in each account it provisions: AWSSSO_<instance id suffix>_DO_NOT_DELETE. */
export function ssoSamlProviderArn(accountId: string, instanceArn: string): string {
  const id = instanceArn.slice(instanceArn.lastIndexOf('/') + 1).replace(/^ssoins-/, '');
  return `arn:aws:iam::${accountId}:saml-provider/AWSSSO_${id}_DO_NOT_DELETE`;
}

/**
 * Create/DeleteAccountAssignment need Account, Instance and PermissionSet. In the
 * organization's management account Identity Center's service-linked role may not touch
 * IAM, so the role is provisioned with the caller's own permissions (user guide, example
 * "Allow a user to manage permissions to AWS accounts": AccessToSSOProvisionedRoles).
 */
const accountAssignment = (operation: 'CreateAccountAssignment' | 'DeleteAccountAssignment'): Row => ({
  service: 'sso',
  operation,
  action: `sso:${operation}`,
  source: `${SOURCES.sso} ${SOURCES.ssoManagementAccount}`,
  permissions: (call, env) => {
    const instanceArn = ssoResource(call, 'instance');
    const permissionSetArn = ssoResource(call, 'permissionSet');
    const target = str(call, 'TargetId');
    const perms = [
      one(`sso:${operation}`, instanceArn),
      one(`sso:${operation}`, permissionSetArn),
      one(`sso:${operation}`, `arn:aws:sso:::account/${target}`),
    ];
    const management = env.organization?.managementAccountId;
    if (!management || target !== management) return perms;
    if (!env.permissionSetName) throw new Error(`sso:${operation} in the management account needs env.permissionSetName to name the AWSReservedSSO role`);
    if (operation === 'CreateAccountAssignment') perms.push(one('iam:GetSAMLProvider', ssoSamlProviderArn(management, instanceArn)));
    // An unknown permission set provisions no role; the service answers ResourceNotFoundException.
    const name = env.permissionSetName(permissionSetArn);
    if (name) {
      const role = reservedSsoRoleArn(management, name, permissionSetArn);
      for (const action of ASSIGNMENT_ROLE_ACTIONS[operation]) perms.push(one(action, role));
    }
    return perms;
  },
});

// ---------------------------------------------------------------------------
// Identity Store

type IdsResource = 'identitystore' | 'user' | 'group' | 'membership' | 'allUsers' | 'allGroups' | 'allMemberships';

function memberUserId(call: AwsCall): string | undefined {
  const userId = obj(call.input.MemberId)?.UserId;
  return typeof userId === 'string' && userId !== '' ? userId : undefined;
}

function identityStoreResource(call: AwsCall, env: ActionEnvironment, type: IdsResource): string[] {
  const storeId = str(call, 'IdentityStoreId');
  const membership = () => {
    const id = optStr(call, 'MembershipId');
    return id ? env.groupMembership?.(storeId, id) : undefined;
  };
  switch (type) {
    case 'identitystore':
      return [`arn:aws:identitystore::${call.accountId}:identitystore/${storeId}`];
    case 'user': {
      const id = optStr(call, 'UserId') ?? memberUserId(call) ?? membership()?.userId;
      return [`arn:aws:identitystore:::user/${id ?? '*'}`];
    }
    case 'group': {
      const ids = Array.isArray(call.input.GroupIds) ? call.input.GroupIds.filter((g): g is string => typeof g === 'string') : [];
      if (ids.length > 0) return ids.map((g) => `arn:aws:identitystore:::group/${g}`);
      const id = optStr(call, 'GroupId') ?? membership()?.groupId;
      return [`arn:aws:identitystore:::group/${id ?? '*'}`];
    }
    case 'membership':
      return [`arn:aws:identitystore:::membership/${optStr(call, 'MembershipId') ?? '*'}`];
    case 'allUsers':
      return ['arn:aws:identitystore:::user/*'];
    case 'allGroups':
      return ['arn:aws:identitystore:::group/*'];
    case 'allMemberships':
      return ['arn:aws:identitystore:::membership/*'];
  }
}

/**
 * Every required resource type of the action, as SAR lists them. A type whose id the
 * request does not carry (GetUserId names no user id, GetGroupMembershipId no membership
 * id) is the type's `…/*` ARN.
 */
const identitystore = (operation: string, required: IdsResource[]): Row => ({
  service: 'identitystore',
  operation,
  action: `identitystore:${operation}`,
  source: SOURCES.identitystore,
  permissions: (call, env) => dedupe(required.flatMap((type) => identityStoreResource(call, env, type).map((r) => one(`identitystore:${operation}`, r)))),
});

// ---------------------------------------------------------------------------
// Organizations

function organizationsArn(call: AwsCall, env: ActionEnvironment, id: string): string {
  const org = env.organization;
  if (!org) throw new Error(`organizations:${call.operation} needs env.organization (the organization id and management account) to build its resource ARN`);
  const base = `arn:aws:organizations::${org.managementAccountId}`;
  if (/^\d{12}$/.test(id)) return `${base}:account/${org.id}/${id}`;
  if (id.startsWith('ou-')) return `${base}:ou/${org.id}/${id}`;
  if (id.startsWith('r-')) return `${base}:root/${org.id}/${id}`;
  // The policies the project calls on are service control policies (FullAWSAccess is AWS's, under aws).
  if (id === 'p-FullAWSAccess') return 'arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess';
  if (id.startsWith('p-')) return `${base}:policy/${org.id}/service_control_policy/${id}`;
  throw new ActionInputError(`organizations:${call.operation}: ${JSON.stringify(id)} is not an account, OU or root id`);
}

/** aws:RequestTag/<key> and aws:TagKeys of a request's Tags, with its organizations:PolicyType when it has one. */
function organizationsRequestContext(call: AwsCall, policyType?: string): RequestContext {
  const tags = (call.input.Tags as Array<{ Key?: string; Value?: string }> | undefined) ?? [];
  const context: RequestContext = {};
  for (const t of tags) if (t.Key) context[`aws:RequestTag/${t.Key}`] = t.Value ?? '';
  if (tags.length) context['aws:TagKeys'] = tags.map((t) => t.Key ?? '');
  if (policyType) context['organizations:PolicyType'] = policyType;
  return context;
}

function resourceTagContext(env: ActionEnvironment, id: string): RequestContext {
  const context: RequestContext = {};
  for (const [k, v] of Object.entries(env.organizationsTags?.(id) ?? {})) context[`aws:ResourceTag/${k}`] = v;
  return context;
}

/** A call on one service control policy (PolicyId): its ARN, tags and type. */
const organizationsPolicy = (operation: string): Row => ({
  service: 'organizations',
  operation,
  action: `organizations:${operation}`,
  source: SOURCES.organizations,
  permissions: (call, env) => {
    const id = str(call, 'PolicyId');
    return [one(`organizations:${operation}`, organizationsArn(call, env, id), { ...resourceTagContext(env, id), 'organizations:PolicyType': 'SERVICE_CONTROL_POLICY' })];
  },
});

/** Attach and detach: the policy (its tags) and the target, both with the policy type. */
const organizationsAttachment = (operation: string): Row => ({
  service: 'organizations',
  operation,
  action: `organizations:${operation}`,
  source: SOURCES.organizations,
  permissions: (call, env) => {
    const policyId = str(call, 'PolicyId');
    const type = { 'organizations:PolicyType': 'SERVICE_CONTROL_POLICY' };
    return [
      one(`organizations:${operation}`, organizationsArn(call, env, policyId), { ...resourceTagContext(env, policyId), ...type }),
      one(`organizations:${operation}`, organizationsArn(call, env, str(call, 'TargetId')), type),
    ];
  },
});

const organizationsOn = (operation: string, member: string): Row => ({
  service: 'organizations',
  operation,
  action: `organizations:${operation}`,
  source: SOURCES.organizations,
  permissions: (call, env) => [one(`organizations:${operation}`, organizationsArn(call, env, str(call, member)))],
});

// ---------------------------------------------------------------------------
// SSM, STS, Lambda, IAM

/** parameter/<name without leading slash>; a `:version` or `:label` selector is not part of the resource. */
function parameterArn(call: AwsCall, name: string): string {
  if (name.startsWith('arn:')) {
    const at = name.indexOf(':parameter/');
    const selector = at < 0 ? -1 : name.indexOf(':', at + ':parameter/'.length);
    return selector < 0 ? name : name.slice(0, selector);
  }
  const bare = name.split(':')[0]!.replace(/^\//, '');
  return `arn:aws:ssm:${call.region}:${call.accountId}:parameter/${bare}`;
}

/**
 * Secrets Manager: every action the project calls has one required resource type, Secret*
 * (`arn:${Partition}:secretsmanager:${Region}:${Account}:secret:${SecretId}`, where the last part
 * is the name plus a hyphen and six random characters). A request may name the secret by name or
 * partial ARN; AWS still authorizes against the full ARN, which env.secretArn supplies. For a
 * secret that does not exist there is no full ARN: the ARN as given, or the partial ARN of the
 * name, is checked instead, so a caller allowed on it gets the service's ResourceNotFoundException
 * and anyone else AccessDenied.
 */
function secretResource(call: AwsCall, env: ActionEnvironment): string {
  const id = str(call, 'SecretId');
  const known = env.secretArn?.(id, call.region, call.accountId);
  if (known) return known;
  return id.startsWith('arn:') ? id : `arn:aws:secretsmanager:${call.region}:${call.accountId}:secret:${id}`;
}

const secretOn = (operation: string): Row => ({
  service: 'secretsmanager',
  operation,
  action: `secretsmanager:${operation}`,
  source: SOURCES.secretsmanager,
  permissions: (call, env) => [one(`secretsmanager:${operation}`, secretResource(call, env))],
});

/** FunctionName may be a name, `account:function:name` or a full ARN, each with an optional `:qualifier`. */
export function functionArn(functionName: string, region: string, accountId: string): string {
  const full = /^arn:([^:]+):lambda:([^:]+):(\d{12}):function:([^:]+)(?::.+)?$/.exec(functionName);
  if (full) return `arn:${full[1]}:lambda:${full[2]}:${full[3]}:function:${full[4]}`;
  const partial = /^(\d{12}):function:([^:]+)(?::.+)?$/.exec(functionName);
  if (partial) return `arn:aws:lambda:${region}:${partial[1]}:function:${partial[2]}`;
  return `arn:aws:lambda:${region}:${accountId}:function:${functionName.split(':')[0]}`;
}

const lambdaInvoke = (operation: string): Row => ({
  service: 'lambda',
  operation,
  action: 'lambda:InvokeFunction',
  source: SOURCES.lambda,
  permissions: (call) => [one('lambda:InvokeFunction', functionArn(str(call, 'FunctionName'), call.region, call.accountId))],
});

// ---------------------------------------------------------------------------
// The table

const ROWS: Row[] = [
  // DynamoDB
  tableAction('GetItem'),
  tableAction('PutItem'),
  tableAction('UpdateItem'),
  tableAction('DeleteItem'),
  readWithIndex('Query'),
  readWithIndex('Scan'),
  batch('BatchGetItem'),
  batch('BatchWriteItem'),
  transaction('TransactWriteItems'),
  transaction('TransactGetItems'),
  tableAction('DescribeTable'),
  tableAction('CreateTable'),
  // DynamoDB Streams
  streamAction('DescribeStream', (call) => str(call, 'StreamArn')),
  streamAction('GetShardIterator', (call) => str(call, 'StreamArn')),
  streamAction('GetRecords', recordsStreamArn),
  unscoped('dynamodb', 'ListStreams', SOURCES.dynamodb),

  // Step Functions
  statesOn('StartExecution', 'stateMachineArn'),
  statesOn('DescribeStateMachine', 'stateMachineArn'),
  statesOn('DescribeExecution', 'executionArn'),
  statesOn('StopExecution', 'executionArn'),
  statesOn('GetExecutionHistory', 'executionArn'),
  {
    // statemachine* or, for a Distributed Map run, maprun*.
    service: 'states',
    operation: 'ListExecutions',
    action: 'states:ListExecutions',
    source: SOURCES.states,
    permissions: (call) => [one('states:ListExecutions', optStr(call, 'mapRunArn') ?? str(call, 'stateMachineArn'))],
  },
  statesOn('SendTaskSuccess', undefined),
  statesOn('SendTaskFailure', undefined),
  statesOn('SendTaskHeartbeat', undefined),

  // EventBridge Scheduler
  scheduleWrite('CreateSchedule'),
  scheduleWrite('UpdateSchedule'),
  scheduleRead('GetSchedule'),
  scheduleRead('DeleteSchedule'),
  unscoped('scheduler', 'ListSchedules', SOURCES.scheduler),
  scheduleGroup('CreateScheduleGroup'),
  scheduleGroup('GetScheduleGroup'),
  scheduleGroup('DeleteScheduleGroup'),
  unscoped('scheduler', 'ListScheduleGroups', SOURCES.scheduler),

  // IAM Identity Center
  unscoped('sso', 'ListInstances', SOURCES.sso),
  accountAssignment('CreateAccountAssignment'),
  accountAssignment('DeleteAccountAssignment'),
  sso('ListAccountAssignments', ['instance', 'permissionSet', 'account']),
  sso('DescribeAccountAssignmentCreationStatus', ['instance']),
  sso('DescribeAccountAssignmentDeletionStatus', ['instance']),
  sso('ListPermissionSets', ['instance']),
  sso('DescribePermissionSet', ['instance', 'permissionSet']),
  sso('ListAccountsForProvisionedPermissionSet', ['instance', 'permissionSet']),
  sso('ListPermissionSetsProvisionedToAccount', ['instance', 'account']),
  sso('ListAccountAssignmentsForPrincipal', ['instance']),

  // Identity Store
  identitystore('GetUserId', ['identitystore', 'user']),
  identitystore('DescribeUser', ['identitystore', 'user']),
  identitystore('ListUsers', ['identitystore', 'allUsers']),
  identitystore('GetGroupId', ['identitystore', 'group']),
  identitystore('DescribeGroup', ['identitystore', 'group']),
  identitystore('ListGroups', ['identitystore', 'allGroups']),
  identitystore('ListGroupMemberships', ['identitystore', 'group', 'allMemberships']),
  identitystore('ListGroupMembershipsForMember', ['identitystore', 'user', 'allMemberships']),
  identitystore('IsMemberInGroups', ['identitystore', 'user', 'group', 'allMemberships']),
  identitystore('GetGroupMembershipId', ['identitystore', 'group', 'user', 'membership']),
  identitystore('DescribeGroupMembership', ['identitystore', 'group', 'user', 'membership']),
  identitystore('CreateGroupMembership', ['identitystore', 'group', 'user']),
  identitystore('DeleteGroupMembership', ['identitystore', 'group', 'user', 'membership']),

  // Organizations
  unscoped('organizations', 'DescribeOrganization', SOURCES.organizations),
  unscoped('organizations', 'ListAccounts', SOURCES.organizations),
  unscoped('organizations', 'ListRoots', SOURCES.organizations),
  organizationsOn('DescribeAccount', 'AccountId'),
  organizationsOn('DescribeOrganizationalUnit', 'OrganizationalUnitId'),
  organizationsOn('ListParents', 'ChildId'),
  organizationsOn('ListChildren', 'ParentId'),
  organizationsOn('ListAccountsForParent', 'ParentId'),
  organizationsOn('ListTagsForResource', 'ResourceId'),
  // Service control policies (session revocation).
  unscoped('organizations', 'ListPolicies', SOURCES.organizations),
  organizationsOn('ListPoliciesForTarget', 'TargetId'),
  {
    service: 'organizations',
    operation: 'CreatePolicy',
    action: 'organizations:CreatePolicy',
    source: SOURCES.organizations,
    // With Tags, AWS also checks TagResource on the new policy; it has no id yet, so both are checked on "*".
    permissions: (call) => {
      const context = organizationsRequestContext(call, str(call, 'Type'));
      return [one('organizations:CreatePolicy', '*', context), ...(call.input.Tags ? [one('organizations:TagResource', '*', context)] : [])];
    },
  },
  organizationsPolicy('DescribePolicy'),
  organizationsPolicy('UpdatePolicy'),
  organizationsPolicy('DeletePolicy'),
  organizationsAttachment('AttachPolicy'),
  organizationsAttachment('DetachPolicy'),

  // SSM Parameter Store
  {
    service: 'ssm',
    operation: 'GetParameter',
    action: 'ssm:GetParameter',
    source: SOURCES.ssm,
    permissions: (call) => [one('ssm:GetParameter', parameterArn(call, str(call, 'Name')))],
  },
  {
    service: 'ssm',
    operation: 'GetParameters',
    action: 'ssm:GetParameters',
    source: SOURCES.ssm,
    permissions: (call) => {
      const names = Array.isArray(call.input.Names) ? call.input.Names.filter((n): n is string => typeof n === 'string') : [];
      if (names.length === 0) throw new ActionInputError('ssm:GetParameters needs Names');
      return dedupe(names.map((n) => one('ssm:GetParameters', parameterArn(call, n))));
    },
  },

  // Secrets Manager
  secretOn('GetSecretValue'),
  secretOn('DescribeSecret'),
  {
    // The new secret's six-character suffix is random and unknown when the request is authorized:
    // locally it is six '?', so only a policy that wildcards the suffix (`<name>-??????`, `<name>-*`,
    // `*`) allows a CreateSecret, as no policy can name a secret ARN before the secret exists.
    service: 'secretsmanager',
    operation: 'CreateSecret',
    action: 'secretsmanager:CreateSecret',
    source: SOURCES.secretsmanager,
    permissions: (call) => [one('secretsmanager:CreateSecret', `arn:aws:secretsmanager:${call.region}:${call.accountId}:secret:${str(call, 'Name')}-??????`)],
  },

  // STS
  {
    service: 'sts',
    operation: 'AssumeRole',
    action: 'sts:AssumeRole',
    source: SOURCES.sts,
    permissions: (call) => {
      const context: RequestContext = { 'sts:RoleSessionName': optStr(call, 'RoleSessionName') };
      if (optStr(call, 'ExternalId')) context['sts:ExternalId'] = optStr(call, 'ExternalId');
      if (optStr(call, 'SourceIdentity')) context['sts:SourceIdentity'] = optStr(call, 'SourceIdentity');
      return [one('sts:AssumeRole', str(call, 'RoleArn'), context)];
    },
  },
  // No permission can deny GetCallerIdentity, so nothing is checked.
  { service: 'sts', operation: 'GetCallerIdentity', action: 'sts:GetCallerIdentity', source: SOURCES.sts, permissions: () => [] },

  // Lambda: the API is Invoke, the IAM action InvokeFunction.
  lambdaInvoke('Invoke'),
  lambdaInvoke('InvokeFunction'),

  // EventBridge: PutEvents needs event-bus* (EventBusName is a name or an ARN; absent is the default bus).
  {
    service: 'events',
    operation: 'PutEvents',
    action: 'events:PutEvents',
    source: SOURCES.events,
    permissions: (call) => {
      const entries = Array.isArray(call.input.Entries) ? (call.input.Entries as Record<string, unknown>[]) : [];
      const busArn = (bus: unknown) => {
        const name = typeof bus === 'string' && bus !== '' ? bus : 'default';
        return name.startsWith('arn:') ? name : `arn:aws:events:${call.region}:${call.accountId}:event-bus/${name}`;
      };
      return dedupe((entries.length ? entries : [{}]).map((e) => one('events:PutEvents', busArn(e?.EventBusName))));
    },
  },

  // IAM: PassRole is a permission only, checked when a role is handed to a service.
  {
    service: 'iam',
    operation: 'PassRole',
    action: 'iam:PassRole',
    source: SOURCES.iam,
    permissions: (call) => {
      const passedTo = optStr(call, 'PassedToService');
      return [one('iam:PassRole', str(call, 'RoleArn'), passedTo ? { 'iam:PassedToService': passedTo } : undefined)];
    },
  },
];

const BY_KEY = new Map(ROWS.map((r) => [`${r.service}:${r.operation}`, r]));

/**
 * The rows, for tests and docs: service, operation, IAM action, and the Service Authorization
 * Reference page it follows. `action` lists several actions (comma-separated) for transactions;
 * `source` holds two pages (space-separated) where a row also follows a service's user guide.
 */
export const ACTION_TABLE: ReadonlyArray<{ service: AwsCall['service']; operation: string; action: string; source: string }> = ROWS.map(
  ({ service, operation, action, source }) => ({ service, operation, action, source }),
);

export function requiredPermissions(call: AwsCall, env: ActionEnvironment = {}): RequiredPermission[] {
  const row = BY_KEY.get(`${call.service}:${call.operation}`);
  if (!row) throw new UnknownActionError(call.service, call.operation);
  return row.permissions(call, env);
}

const TARGET_SERVICES: Record<string, AwsCall['service']> = {
  DynamoDB_20120810: 'dynamodb',
  DynamoDBStreams_20120810: 'dynamodb',
  AWSStepFunctions: 'states',
  SWBExternalService: 'sso',
  AWSIdentityStore: 'identitystore',
  AWSOrganizationsV20161128: 'organizations',
  AmazonSSM: 'ssm',
  secretsmanager: 'secretsmanager',
  AWSSecurityTokenServiceV20110615: 'sts',
  AWSEvents: 'events',
};

/** X-Amz-Target prefix → IAM service prefix, e.g. 'DynamoDB_20120810' → 'dynamodb', 'AWSStepFunctions' → 'states', 'SWBExternalService' → 'sso', 'AWSIdentityStore' → 'identitystore', 'AWSOrganizationsV20161128' → 'organizations', 'AmazonSSM' → 'ssm', 'secretsmanager' → 'secretsmanager'. */
export function iamServiceForTarget(targetPrefix: string): AwsCall['service'] | undefined {
  const prefix = targetPrefix.split('.')[0]!;
  return Object.hasOwn(TARGET_SERVICES, prefix) ? TARGET_SERVICES[prefix] : undefined;
}

/**
 * EventBridge Scheduler's REST API: method + path (+ query) → operation and the members that
 * live in the path/query (Name, GroupName). GET/DELETE of a schedule carry the group in the
 * `groupName` query parameter; POST/PUT carry GroupName in the body, which the caller merges.
 */
export function schedulerOperation(method: string, path: string, query: URLSearchParams): { operation: string; pathMembers: Record<string, string> } | undefined {
  const segments = path.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
  const [collection, name, ...rest] = segments;
  if (rest.length > 0) return undefined;
  const verb = method.toUpperCase();
  if (collection === 'schedules') {
    if (name === undefined) return verb === 'GET' ? { operation: 'ListSchedules', pathMembers: {} } : undefined;
    const group = query.get('groupName');
    const withGroup: Record<string, string> = group ? { Name: name, GroupName: group } : { Name: name };
    switch (verb) {
      case 'POST':
        return { operation: 'CreateSchedule', pathMembers: { Name: name } };
      case 'PUT':
        return { operation: 'UpdateSchedule', pathMembers: { Name: name } };
      case 'GET':
        return { operation: 'GetSchedule', pathMembers: withGroup };
      case 'DELETE':
        return { operation: 'DeleteSchedule', pathMembers: withGroup };
    }
    return undefined;
  }
  if (collection === 'schedule-groups') {
    if (name === undefined) return verb === 'GET' ? { operation: 'ListScheduleGroups', pathMembers: {} } : undefined;
    const operation = { POST: 'CreateScheduleGroup', GET: 'GetScheduleGroup', DELETE: 'DeleteScheduleGroup' }[verb];
    return operation ? { operation, pathMembers: { Name: name } } : undefined;
  }
  return undefined;
}
