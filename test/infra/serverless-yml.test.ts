/**
 * Cheap structural checks of the deployable serverless.yml (the slow `sls package` +
 * cfn-lint run is in .ci/run): least-privilege IAM, routes and handler files, the table
 * the store expects, and an environment lib/config.ts accepts.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { grantsTableDefinition } from '../../lib/adapters/table-schema.ts';
import { loadConfig } from '../../lib/config.ts';
import {
  lambdaLogicalIdStem,
  loadServerlessConfig,
  resolveFunctionEnvironment,
  resolveIntrinsics,
  type ServerlessConfig,
} from '../../local/serverless-config.ts';
import { visitStates } from '../../local/stepfunctions/service.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const FILE = path.join(ROOT, 'serverless.yml');
const config = loadServerlessConfig({ file: FILE });
const IDC_ROLE = 'arn:aws:iam::123456789012:role/jit-identity-center';
const assumingConfig = loadServerlessConfig({ file: FILE, params: { idcRoleArn: IDC_ROLE } });

interface Statement {
  Effect: string;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: unknown;
  Condition?: unknown;
}

const asList = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Every IAM statement in the stack's own resources, with where it sits. */
function allStatements(cfg: ServerlessConfig): { where: string; statement: Statement }[] {
  const out: { where: string; statement: Statement }[] = [];
  for (const [id, resource] of Object.entries(cfg.resources.Resources)) {
    const props = (resource.Properties ?? {}) as Record<string, any>;
    const documents: unknown[] = [];
    if (resource.Type === 'AWS::IAM::Role') for (const p of asList(props.Policies)) documents.push(p.PolicyDocument);
    if (resource.Type === 'AWS::IAM::ManagedPolicy' || resource.Type === 'AWS::IAM::Policy') documents.push(props.PolicyDocument);
    for (const doc of documents) for (const s of asList((doc as { Statement: Statement[] }).Statement)) out.push({ where: id, statement: s });
  }
  return out;
}

/** The actions a function's role grants, with conditions evaluated for the given parameters. */
function effectiveActions(cfg: ServerlessConfig, functionName: string): string[] {
  const fn = cfg.functions.find((f) => f.name === functionName)!;
  const roleId = String(fn.role);
  const resources = cfg.resources.Resources;
  // Evaluate the role with managed policy Refs kept as logical ids, so they can be followed.
  const role = resolveIntrinsics(resources[roleId], cfg, {
    ref: (id) => (resources[id]?.Type === 'AWS::IAM::ManagedPolicy' ? `managed:${id}` : undefined),
  }) as { Properties: { ManagedPolicyArns?: string[]; Policies?: { PolicyDocument: { Statement: Statement[] } }[] } };
  const statements: Statement[] = [];
  for (const p of role.Properties.Policies ?? []) statements.push(...p.PolicyDocument.Statement);
  for (const arn of role.Properties.ManagedPolicyArns ?? []) {
    expect(arn, `${roleId} attaches ${arn}`).toMatch(/^managed:/);
    const policyId = arn.slice('managed:'.length);
    const condition = resources[policyId]!.Condition;
    if (condition) expect(resolveIntrinsics({ Condition: condition }, cfg), `${roleId} attaches ${policyId} only when ${condition}`).toBe(true);
    const policy = resolveIntrinsics(resources[policyId], cfg) as { Properties: { PolicyDocument: { Statement: Statement[] } } };
    statements.push(...policy.Properties.PolicyDocument.Statement);
  }
  expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
  return [...new Set(statements.flatMap((s) => asList(s.Action)))].sort();
}

const LOGS = ['logs:CreateLogStream', 'logs:PutLogEvents'];
const TABLE_READ = ['dynamodb:GetItem', 'dynamodb:Query'];
const TABLE_WRITE = [...TABLE_READ, 'dynamodb:PutItem', 'dynamodb:UpdateItem'];
const DIRECTORY_READ = [
  'identitystore:DescribeUser',
  'identitystore:GetGroupId',
  'identitystore:GetUserId',
  'identitystore:ListGroupMembershipsForMember',
  'organizations:DescribeAccount',
  'organizations:DescribeOrganization',
  'organizations:ListAccounts',
  'organizations:ListParents',
  'organizations:ListTagsForResource',
  'sso:DescribePermissionSet',
  'sso:ListInstances',
  'sso:ListPermissionSets',
];
const START_WORKFLOW = ['states:StartExecution'];
/** Session revocation: cut entries and leases in the table; the stack's tagged SCPs; a group's assignments. */
const SESSION_TABLE = ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem'];
const SESSION_SCPS = [
  'sso:ListAccountAssignmentsForPrincipal',
  'organizations:ListPolicies',
  'organizations:ListPoliciesForTarget',
  'organizations:DescribePolicy',
  'organizations:ListTagsForResource',
  'organizations:CreatePolicy',
  'organizations:TagResource',
  'organizations:UpdatePolicy',
  'organizations:DeletePolicy',
  'organizations:AttachPolicy',
  'organizations:DetachPolicy',
];
const SCHEDULES = ['iam:PassRole', 'scheduler:CreateSchedule', 'scheduler:UpdateSchedule'];
const WORKFLOW_TABLE = ['dynamodb:BatchGetItem', 'dynamodb:DeleteItem'];
/** Handing a given-back slot to a waiting workflow and waking it. */
const WAKE_WAITER = ['states:SendTaskSuccess'];
/** What Identity Center does with the caller's own permissions on the management account's AWSReservedSSO_* roles. */
const SSO_ROLE_READ = ['iam:GetSAMLProvider', 'iam:GetRole', 'iam:ListRolePolicies', 'iam:ListAttachedRolePolicies'];
const SSO_ROLE_DELETE = ['iam:DeleteRole', 'iam:DeleteRolePolicy', 'iam:DetachRolePolicy'];
const SSO_ROLE_CREATE = ['iam:CreateRole', 'iam:AttachRolePolicy', 'iam:PutRolePolicy', 'iam:UpdateRole', 'iam:UpdateRoleDescription'];
/** The Identity Center calls the workflow task functions make themselves (checks, and deletes after a failed activation). */
const WORKFLOW_IDENTITY_CENTER = [
  'sso:ListInstances',
  'sso:ListAccountAssignments',
  'sso:DeleteAccountAssignment',
  'sso:DescribeAccountAssignmentDeletionStatus',
  'identitystore:GetGroupMembershipId',
  'identitystore:DeleteGroupMembership',
  ...SSO_ROLE_READ,
  ...SSO_ROLE_DELETE,
];

/**
 * What each function calls, reviewed by hand. A function added to serverless.yml should get
 * its line here; functions not listed still go through every structural check below.
 */
const EXPECTED_ACTIONS: Record<string, string[]> = {
  createGrant: [...LOGS, ...TABLE_WRITE, ...START_WORKFLOW, ...SCHEDULES],
  approveGrant: [...LOGS, ...TABLE_WRITE, ...START_WORKFLOW, ...SCHEDULES],
  denyGrant: [...LOGS, ...TABLE_WRITE],
  cancelGrant: [...LOGS, ...TABLE_WRITE, 'scheduler:DeleteSchedule'],
  revokeGrant: [...LOGS, ...TABLE_WRITE, ...START_WORKFLOW],
  extendGrant: [...LOGS, ...TABLE_WRITE, ...START_WORKFLOW, ...SCHEDULES],
  getGrant: [...LOGS, ...TABLE_READ],
  listGrants: [...LOGS, ...TABLE_READ, 'secretsmanager:GetSecretValue'],
  getEligibility: [...LOGS, ...TABLE_READ],
  getAccess: [...LOGS, ...TABLE_READ],
  slackCommands: [...LOGS, ...TABLE_WRITE, ...START_WORKFLOW, ...SCHEDULES, 'ssm:GetParameter'],
  slackInteractions: [...LOGS, ...TABLE_WRITE, ...START_WORKFLOW, ...SCHEDULES, 'ssm:GetParameter'],
};
const PUBLIC_FUNCTIONS = new Set(['getOpenApi']);
/**
 * Functions that do not read the directory the way the API does (the backstops and the workflow
 * tasks): [actions always granted, actions granted only when they use their own role]. With
 * idcRoleArn set, sts:AssumeRole replaces the second list.
 */
const OWN_ROLE_ONLY_ACTIONS: Record<string, [string[], string[]]> = {
  // It mends the slots too: takes back those of dead workflows, wakes waiters whose wake-up was lost.
  // ... and retries pending session cuts and lifts due ones.
  sweepGrants: [[...LOGS, ...TABLE_WRITE, ...WORKFLOW_TABLE, ...WAKE_WAITER, ...START_WORKFLOW, 'states:ListExecutions', ...SESSION_TABLE], [...DIRECTORY_READ, ...SESSION_SCPS]],
  cutSessions: [[...LOGS, ...TABLE_WRITE, ...SESSION_TABLE], [...DIRECTORY_READ, ...SESSION_SCPS]],
  // It lists what exists: principals, provisioned permission sets, assignments per principal, groups and their members.
  reconcileAccess: [
    [...LOGS, ...TABLE_WRITE, ...WORKFLOW_TABLE, ...WAKE_WAITER],
    [
      ...DIRECTORY_READ,
      ...WORKFLOW_IDENTITY_CENTER,
      'identitystore:ListGroupMemberships',
      'identitystore:DescribeGroup',
      'identitystore:ListUsers',
      'identitystore:ListGroups',
      'sso:ListPermissionSetsProvisionedToAccount',
      'sso:ListAccountAssignmentsForPrincipal',
    ],
  ],
  // The revocation schedule (or a short grant's revoke) before any access exists.
  prepareActivation: [[...LOGS, ...TABLE_WRITE, ...WORKFLOW_TABLE, ...WAKE_WAITER, ...SCHEDULES, ...START_WORKFLOW], WORKFLOW_IDENTITY_CENTER],
  // ACTIVE: the revocation schedule, or the revoke workflow at once for a short grant.
  completeActivation: [[...LOGS, ...TABLE_WRITE, ...WORKFLOW_TABLE, ...WAKE_WAITER, ...SCHEDULES, ...START_WORKFLOW], WORKFLOW_IDENTITY_CENTER],
  // A slot taken for a delete that is not needed goes on to the next waiter.
  beginRevocation: [[...LOGS, ...TABLE_WRITE, ...WORKFLOW_TABLE, ...WAKE_WAITER, 'scheduler:DeleteSchedule'], WORKFLOW_IDENTITY_CENTER],
};

describe('serverless.yml IAM', () => {
  it('gives every function its own role', () => {
    const roles = config.functions.map((f) => f.role);
    for (const fn of config.functions) {
      expect(typeof fn.role, `${fn.name} names its role by logical id`).toBe('string');
      expect(config.resources.Resources[String(fn.role)]?.Type, `${fn.name}'s role ${String(fn.role)}`).toBe('AWS::IAM::Role');
    }
    expect(new Set(roles).size).toBe(roles.length);
  });

  it('grants no "*" action, no service-wide wildcard and no NotAction anywhere', () => {
    const statements = allStatements(config);
    expect(statements.length).toBeGreaterThan(0);
    for (const { where, statement } of statements) {
      expect(statement.NotAction, where).toBeUndefined();
      for (const action of asList(statement.Action)) {
        expect(action, where).not.toBe('*');
        expect(action, where).not.toMatch(/:\*$/);
      }
    }
  });

  it('uses Resource "*" only for actions that support no resource-level permissions', () => {
    const unscopable = new Set([
      'sso:ListInstances',
      'organizations:DescribeOrganization',
      'organizations:ListAccounts',
      'organizations:ListPolicies',
      // No ARN exists before the policy does: limited by its policy type and request tag instead.
      'organizations:CreatePolicy',
      'organizations:TagResource',
      // Step Functions logging to CloudWatch Logs: log delivery actions take no resource (AWS docs).
      'logs:CreateLogDelivery',
      'logs:GetLogDelivery',
      'logs:UpdateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:DescribeResourcePolicies',
      'logs:DescribeLogGroups',
      // Answering a task token: the Service Authorization Reference lists no resource type for it.
      'states:SendTaskSuccess',
    ]);
    for (const { where, statement } of allStatements(config)) {
      if (!asList(statement.Resource).includes('*')) continue;
      for (const action of asList(statement.Action)) expect(unscopable.has(action), `${where}: ${action} on "*"`).toBe(true);
    }
  });

  it.each(Object.entries(EXPECTED_ACTIONS))('%s may call exactly what it needs (directory reads with its own role)', (name, expected) => {
    expect(effectiveActions(config, name)).toEqual([...new Set([...expected, ...DIRECTORY_READ])].sort());
  });

  it.each(Object.entries(EXPECTED_ACTIONS))('%s assumes the Identity Center role instead of reading the directory when idcRoleArn is set', (name, expected) => {
    expect(effectiveActions(assumingConfig, name)).toEqual([...new Set([...expected, 'sts:AssumeRole'])].sort());
    const assume = resolveIntrinsics(assumingConfig.resources.Resources.AssumeIdcRolePolicy, assumingConfig) as any;
    expect(assume.Properties.PolicyDocument.Statement[0].Resource).toBe(IDC_ROLE);
  });

  it.each(Object.entries(OWN_ROLE_ONLY_ACTIONS))('%s may call exactly what it needs, with its own role or through the Identity Center role', (name, [always, ownRole]) => {
    expect(effectiveActions(config, name)).toEqual([...new Set([...always, ...ownRole])].sort());
    expect(effectiveActions(assumingConfig, name)).toEqual([...new Set([...always, ...(ownRole.length ? ['sts:AssumeRole'] : [])])].sort());
  });

  it('lets getOpenApi write its logs and nothing else', () => {
    expect(effectiveActions(config, 'getOpenApi')).toEqual(LOGS);
  });

  it('lets each role write only its own function log group', () => {
    for (const fn of config.functions) {
      const role = resolveIntrinsics(config.resources.Resources[String(fn.role)], config) as any;
      const logStatements = (role.Properties.Policies ?? [])
        .flatMap((p: any) => p.PolicyDocument.Statement)
        .filter((s: Statement) => asList(s.Action).some((a) => a.startsWith('logs:')));
      expect(logStatements.length, fn.name).toBe(1);
      expect(logStatements[0].Resource).toBe(`arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/${fn.lambdaName}:*`);
      expect(config.resources.Resources[String(fn.role)]!.Properties!.Policies).toBeDefined();
      expect(lambdaLogicalIdStem(fn.name) + 'Role').toBe(String(fn.role));
    }
  });

  it('scopes table access to the grants table and its indexes', () => {
    for (const id of ['GrantsTableReadPolicy', 'GrantsTableWritePolicy']) {
      const policy = resolveIntrinsics(config.resources.Resources[id], config) as any;
      const arn = 'arn:aws:dynamodb:us-east-1:000000000000:table/identity-center-jit-dev-grants';
      expect(policy.Properties.PolicyDocument.Statement[0].Resource).toEqual([arn, `${arn}/index/*`]);
    }
  });
});

/** The statements of one role or managed policy, as deployed with the default parameters. */
function statementsOf(cfg: ServerlessConfig, logicalId: string): Statement[] {
  const resource = resolveIntrinsics(cfg.resources.Resources[logicalId], cfg) as any;
  if (resource.Type === 'AWS::IAM::ManagedPolicy') return asList(resource.Properties.PolicyDocument.Statement);
  return (resource.Properties.Policies ?? []).flatMap((p: any) => asList<Statement>(p.PolicyDocument.Statement));
}
/** The resources a set of statements grants `action` on. */
const resourcesFor = (statements: Statement[], action: string) =>
  statements.filter((s) => asList(s.Action).includes(action)).flatMap((s) => asList(s.Resource as string | string[]));
const actionsOf = (statements: Statement[]) => [...new Set(statements.flatMap((s) => asList(s.Action)))];
const SSO_ROLES = 'arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*';
const SSO_SAML_PROVIDER = 'arn:aws:iam::*:saml-provider/AWSSSO_*';

describe('serverless.yml IAM for Identity Center', () => {
  it('lets the reconciler list group memberships on the identity store, the groups and the memberships', () => {
    expect(resourcesFor(statementsOf(config, 'ReconcileIdentityCenterPolicy'), 'identitystore:ListGroupMemberships').sort()).toEqual(
      [
        'arn:aws:identitystore::000000000000:identitystore/*',
        'arn:aws:identitystore:::group/*',
        'arn:aws:identitystore:::membership/*',
      ].sort(),
    );
  });

  it('lets the state machines\' Identity Center role create and delete the AWSReservedSSO_* roles of the management account', () => {
    const statements = statementsOf(config, 'IdentityCenterTaskRole');
    expect(resourcesFor(statements, 'iam:GetSAMLProvider')).toEqual([SSO_SAML_PROVIDER]);
    for (const action of [...SSO_ROLE_READ, ...SSO_ROLE_CREATE, ...SSO_ROLE_DELETE].filter((a) => a !== 'iam:GetSAMLProvider')) {
      expect(resourcesFor(statements, action), action).toEqual([SSO_ROLES]);
    }
    expect(actionsOf(statements).filter((a) => a.startsWith('iam:')).sort()).toEqual([...SSO_ROLE_READ, ...SSO_ROLE_CREATE, ...SSO_ROLE_DELETE].sort());
  });

  it('lets the workflow functions and the reconciler, which only delete assignments, delete those roles but never create one', () => {
    const statements = statementsOf(config, 'WorkflowIdentityCenterPolicy');
    expect(resourcesFor(statements, 'iam:GetSAMLProvider')).toEqual([SSO_SAML_PROVIDER]);
    for (const action of [...SSO_ROLE_READ, ...SSO_ROLE_DELETE].filter((a) => a !== 'iam:GetSAMLProvider')) expect(resourcesFor(statements, action), action).toEqual([SSO_ROLES]);
    expect(actionsOf(statements).filter((a) => a.startsWith('iam:')).sort()).toEqual([...SSO_ROLE_READ, ...SSO_ROLE_DELETE].sort());
    expect(actionsOf(statements)).not.toContain('sso:CreateAccountAssignment');
  });

  it('grants IAM role actions only on the roles Identity Center reserves (and PassRole only for the scheduler)', () => {
    for (const { where, statement } of allStatements(config)) {
      for (const action of asList(statement.Action).filter((a) => a.startsWith('iam:') && a !== 'iam:GetSAMLProvider' && a !== 'iam:PassRole')) {
        expect(asList(resolveIntrinsics(statement.Resource, config) as string | string[]), `${where}: ${action}`).toEqual([SSO_ROLES]);
      }
    }
  });

  it('grants every SDK call of the state machines to the role that makes it', () => {
    const roleActions = (id: string) => actionsOf(statementsOf(config, id));
    const prefixes: Record<string, string> = { ssoadmin: 'sso', identitystore: 'identitystore', dynamodb: 'dynamodb', sfn: 'states' };
    const read = (file: string) => JSON.parse(readFileSync(path.join(ROOT, file), 'utf8')) as { States: Record<string, unknown> };
    let calls = 0;
    for (const file of ['statemachines/grant.asl.json', 'statemachines/revoke.asl.json']) {
      visitStates(read(file), (name, state) => {
        const task = state as { Type?: string; Resource?: string; Credentials?: unknown };
        const sdk = /^arn:aws:states:::aws-sdk:([a-z]+):([A-Za-z]+)(?:\.waitForTaskToken)?$/.exec(task.Resource ?? '');
        if (!sdk) return;
        const action = `${prefixes[sdk[1]!] ?? sdk[1]}:${sdk[2]![0]!.toUpperCase()}${sdk[2]!.slice(1)}`;
        // Tasks with Credentials run as the Identity Center role; the rest as the state machines' own role.
        const role = task.Credentials ? 'IdentityCenterTaskRole' : 'StateMachinesRole';
        expect(roleActions(role), `${file} ${name}: ${action}`).toContain(action);
        calls++;
      });
    }
    expect(calls).toBeGreaterThan(10);
  });
});

describe('serverless.yml functions and routes', () => {
  it('serves the grants API contract, JWT-protected except the OpenAPI document', () => {
    const routes = Object.fromEntries(config.httpRoutes.map((r) => [r.routeKey, r]));
    const contract: Record<string, string> = {
      'POST /grants': 'createGrant',
      'GET /grants/{id}': 'getGrant',
      'GET /grants': 'listGrants',
      'POST /grants/{id}/approve': 'approveGrant',
      'POST /grants/{id}/deny': 'denyGrant',
      'POST /grants/{id}/revoke': 'revokeGrant',
      'POST /grants/{id}/extend': 'extendGrant',
      'POST /grants/{id}/cancel': 'cancelGrant',
      'GET /eligibility': 'getEligibility',
      'GET /access': 'getAccess',
      'GET /openapi.json': 'getOpenApi',
    };
    for (const [routeKey, functionName] of Object.entries(contract)) {
      expect(routes[routeKey]?.functionName, routeKey).toBe(functionName);
      expect(routes[routeKey]?.authorizer, routeKey).toBe(PUBLIC_FUNCTIONS.has(functionName) ? undefined : 'jwt');
    }
  });

  it('has a handler file functions/<name>.ts exporting `handler` for every HTTP function', () => {
    for (const fn of config.functions.filter((f) => f.httpRoutes.length)) {
      expect(fn.handler.reference).toBe(`functions/${fn.name}.handler`);
      expect(fn.handler.relativeFile).toBe(`functions/${fn.name}.ts`);
      expect(existsSync(fn.handler.file), `${fn.handler.relativeFile} exists`).toBe(true);
    }
  });

  it('takes the JWT issuer and audience from deploy parameters', () => {
    expect(config.jwtAuthorizers.jwt).toMatchObject({ issuerUrl: 'https://issuer.invalid/', audience: ['identity-center-jit'] });
    const custom = loadServerlessConfig({ file: FILE, params: { jwtIssuer: 'https://idp.example.com/', jwtAudience: 'portal' } });
    expect(custom.jwtAuthorizers.jwt).toMatchObject({ issuerUrl: 'https://idp.example.com/', audience: ['portal'] });
  });

  it('gives every function an environment lib/config.ts accepts', () => {
    for (const fn of config.functions) {
      const env = resolveFunctionEnvironment(config, fn);
      const parsed = loadConfig(env);
      expect(parsed.GRANTS_TABLE).toBe('identity-center-jit-dev-grants');
      expect(parsed.GRANT_STATE_MACHINE_ARN).toBe('arn:aws:states:us-east-1:000000000000:stateMachine:identity-center-jit-dev-grant');
      expect(parsed.IDENTITY_CLAIM).toBe('email');
      expect(parsed.CLOSED_GRANT_RETENTION_DAYS).toBe(400);
    }
  });

  it('ships the policy file POLICY_PATH names inside every package', () => {
    const policyPath = String(config.provider.environment && (config.provider.environment as Record<string, unknown>).POLICY_PATH);
    expect(existsSync(path.join(ROOT, policyPath)), policyPath).toBe(true);
    expect((config.document.package as { patterns: string[] }).patterns).toContain(policyPath);
    expect((config.document.package as { individually: boolean }).individually).toBe(true);
  });

  it('runs on nodejs24.x, arm64, bundled with esbuild and linked (not inline) source maps', () => {
    expect(config.provider).toMatchObject({ runtime: 'nodejs24.x', architecture: 'arm64' });
    const esbuild = config.custom.esbuild as Record<string, unknown>;
    // The AWS SDK v3 comes with the nodejs24.x runtime; everything else is bundled.
    expect(esbuild).toMatchObject({ bundle: true, minify: true, sourcemap: 'linked', exclude: ['@aws-sdk/*', '@smithy/*'] });
  });
});

describe('serverless.yml grants table', () => {
  const table = config.resources.Resources.GrantsTable!;
  const props = table.Properties as Record<string, any>;
  const expected = grantsTableDefinition('ignored');

  it('declares the key schema and indexes the store uses', () => {
    const byName = <T extends { AttributeName?: string; IndexName?: string }>(list: T[]) =>
      [...list].sort((a, b) => String(a.AttributeName ?? a.IndexName).localeCompare(String(b.AttributeName ?? b.IndexName)));
    expect(props.KeySchema).toEqual(expected.KeySchema);
    expect(byName(props.AttributeDefinitions)).toEqual(byName(expected.AttributeDefinitions!));
    expect(byName(props.GlobalSecondaryIndexes)).toEqual(byName(expected.GlobalSecondaryIndexes!));
    expect(props.BillingMode).toBe(expected.BillingMode);
  });

  it('is on-demand with point-in-time recovery, encryption and a TTL on `ttl`, and survives stack deletion', () => {
    expect(props.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(props.SSESpecification).toEqual({ SSEEnabled: true });
    expect(props.TimeToLiveSpecification).toEqual({ AttributeName: 'ttl', Enabled: true });
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
  });
});
