import { describe, expect, it } from 'vitest';
import { accessDeniedMessage, assumedRoleArn } from '../../local/iam/access-denied.ts';
import {
  PolicyError,
  evaluatePolicies,
  evaluateTrustPolicy,
  trustAllows,
  validatePolicy,
  type AuthorizationCheck,
  type Decision,
  type PolicyDocument,
  type PolicyStatement,
  type RequestContext,
} from '../../local/iam/policy.ts';

const ACCOUNT = '000000000000';
const TABLE = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/grants`;

const policy = (...Statement: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement });
const allow = (Action: string | string[], Resource: string | string[], Condition?: PolicyStatement['Condition']): PolicyStatement => ({
  Effect: 'Allow',
  Action,
  Resource,
  ...(Condition ? { Condition } : {}),
});
const decide = (doc: PolicyDocument | PolicyDocument[], action: string, resource: string, context?: RequestContext): Decision =>
  evaluatePolicies(Array.isArray(doc) ? doc : [doc], { action, resource, ...(context ? { context } : {}) } satisfies AuthorizationCheck);

describe('actions', () => {
  const cases: [pattern: string, action: string, decision: Decision][] = [
    ['dynamodb:GetItem', 'dynamodb:GetItem', 'allow'],
    ['dynamodb:getitem', 'DynamoDB:GetItem', 'allow'],
    ['dynamodb:Get*', 'dynamodb:GetItem', 'allow'],
    ['dynamodb:Get*', 'dynamodb:PutItem', 'implicit-deny'],
    ['dynamodb:*Item', 'dynamodb:UpdateItem', 'allow'],
    ['dynamodb:?etItem', 'dynamodb:GetItem', 'allow'],
    ['dynamodb:?etItem', 'dynamodb:BatchGetItem', 'implicit-deny'],
    ['*', 'states:StartExecution', 'allow'],
    ['dynamodb:*', 'dynamodbx:GetItem', 'implicit-deny'],
  ];
  it.each(cases)('Action %j vs %s → %s', (pattern, action, decision) => {
    expect(decide(policy(allow(pattern, '*')), action, TABLE)).toBe(decision);
  });

  it('NotAction allows everything but the listed actions', () => {
    const doc = policy({ Effect: 'Allow', NotAction: ['iam:*', 'sts:AssumeRole'], Resource: '*' });
    expect(decide(doc, 'dynamodb:GetItem', TABLE)).toBe('allow');
    expect(decide(doc, 'iam:PassRole', 'arn:aws:iam::000000000000:role/x')).toBe('implicit-deny');
    expect(decide(doc, 'sts:AssumeRole', 'arn:aws:iam::000000000000:role/x')).toBe('implicit-deny');
  });
});

describe('resources', () => {
  const cases: [pattern: string, resource: string, decision: Decision][] = [
    [TABLE, TABLE, 'allow'],
    [`${TABLE}*`, `${TABLE}/index/byStatus`, 'allow'],
    [`${TABLE}/index/*`, TABLE, 'implicit-deny'],
    [`${TABLE}/index/*`, `${TABLE}/index/byStatus`, 'allow'],
    ['arn:aws:dynamodb:*:*:table/grants', TABLE, 'allow'],
    ['arn:aws:dynamodb:us-east-1:000000000000:table/Grants', TABLE, 'implicit-deny'], // ARNs are case-sensitive
    ['arn:aws:dynamodb:us-east-?:*:table/grants', TABLE, 'allow'],
    ['arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*', 'arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef', 'allow'],
    ['arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*', 'arn:aws:iam::111111111111:role/AWSReservedSSO_Admin_0123456789abcdef', 'implicit-deny'],
    ['arn:aws:lambda:us-east-1:000000000000:function:*', 'arn:aws:lambda:us-east-1:000000000000:function:api:live', 'allow'],
    ['*', 'arn:aws:sso:::instance/ssoins-1234567890abcdef', 'allow'],
    // Escapes are literal characters; other policy variables are left as literal text.
    ['arn:aws:s3:::bucket/${*}', 'arn:aws:s3:::bucket/*', 'allow'],
    ['arn:aws:s3:::bucket/${*}', 'arn:aws:s3:::bucket/anything', 'implicit-deny'],
    ['arn:aws:s3:::bucket/${?}', 'arn:aws:s3:::bucket/?', 'allow'],
    ['arn:aws:s3:::bucket/${aws:username}', 'arn:aws:s3:::bucket/${aws:username}', 'allow'],
    ['arn:aws:s3:::bucket/${aws:username}', 'arn:aws:s3:::bucket/alice', 'implicit-deny'],
  ];
  it.each(cases)('Resource %j vs %s → %s', (pattern, resource, decision) => {
    expect(decide(policy(allow('*', pattern)), 'dynamodb:GetItem', resource)).toBe(decision);
  });

  it('NotResource allows everything but the listed resources', () => {
    const doc = policy({ Effect: 'Allow', Action: 'dynamodb:*', NotResource: `${TABLE}/index/*` });
    expect(decide(doc, 'dynamodb:Query', TABLE)).toBe('allow');
    expect(decide(doc, 'dynamodb:Query', `${TABLE}/index/byStatus`)).toBe('implicit-deny');
  });
});

describe('deny and allow', () => {
  it('an explicit Deny beats any Allow, in the same or another policy', () => {
    const allowAll = policy(allow('dynamodb:*', '*'));
    const denyDelete = policy({ Effect: 'Deny', Action: 'dynamodb:DeleteItem', Resource: TABLE });
    expect(decide([allowAll, denyDelete], 'dynamodb:DeleteItem', TABLE)).toBe('explicit-deny');
    expect(decide([denyDelete, allowAll], 'dynamodb:DeleteItem', TABLE)).toBe('explicit-deny');
    expect(decide([allowAll, denyDelete], 'dynamodb:PutItem', TABLE)).toBe('allow');
  });

  it('no statement → implicit deny; a Deny whose condition fails does not apply', () => {
    expect(decide([], 'dynamodb:GetItem', TABLE)).toBe('implicit-deny');
    const doc = policy(allow('*', '*'), { Effect: 'Deny', Action: '*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    expect(decide(doc, 'dynamodb:GetItem', TABLE, { 'aws:SecureTransport': true })).toBe('allow');
    expect(decide(doc, 'dynamodb:GetItem', TABLE, { 'aws:SecureTransport': false })).toBe('explicit-deny');
  });

  it('a single Statement object is accepted', () => {
    expect(evaluatePolicies([{ Statement: allow('dynamodb:GetItem', TABLE) }], { action: 'dynamodb:GetItem', resource: TABLE })).toBe('allow');
  });
});

describe('conditions', () => {
  const ROLE = `arn:aws:iam::${ACCOUNT}:role/scheduler-target`;
  type Case = [name: string, condition: NonNullable<PolicyStatement['Condition']>, context: RequestContext, decision: Decision];
  const cases: Case[] = [
    ['StringEquals matches', { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } }, { 'iam:PassedToService': 'scheduler.amazonaws.com' }, 'allow'],
    ['StringEquals other value', { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } }, { 'iam:PassedToService': 'lambda.amazonaws.com' }, 'implicit-deny'],
    ['StringEquals is case-sensitive in values', { StringEquals: { 'iam:PassedToService': 'Scheduler.amazonaws.com' } }, { 'iam:PassedToService': 'scheduler.amazonaws.com' }, 'implicit-deny'],
    ['condition keys are case-insensitive', { StringEquals: { 'IAM:passedtoservice': 'scheduler.amazonaws.com' } }, { 'iam:PassedToService': 'scheduler.amazonaws.com' }, 'allow'],
    ['StringEquals key missing', { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } }, {}, 'implicit-deny'],
    ['OR across values of one key', { StringEquals: { 'iam:PassedToService': ['states.amazonaws.com', 'scheduler.amazonaws.com'] } }, { 'iam:PassedToService': 'scheduler.amazonaws.com' }, 'allow'],
    ['AND across keys', { StringEquals: { 'aws:SourceAccount': ACCOUNT, 'iam:PassedToService': 'scheduler.amazonaws.com' } }, { 'iam:PassedToService': 'scheduler.amazonaws.com' }, 'implicit-deny'],
    ['AND across operators', { StringEquals: { 'aws:SourceAccount': ACCOUNT }, StringLike: { 'aws:PrincipalArn': '*:role/jit-*' } }, { 'aws:SourceAccount': ACCOUNT, 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/other` }, 'implicit-deny'],
    ['StringNotEquals other value', { StringNotEquals: { 'aws:SourceAccount': ACCOUNT } }, { 'aws:SourceAccount': '999999999999' }, 'allow'],
    ['StringNotEquals same value', { StringNotEquals: { 'aws:SourceAccount': ACCOUNT } }, { 'aws:SourceAccount': ACCOUNT }, 'implicit-deny'],
    // IAM: a negated operator on a key missing from the request is true.
    ['StringNotEquals key missing', { StringNotEquals: { 'aws:SourceAccount': ACCOUNT } }, {}, 'allow'],
    ['StringEqualsIgnoreCase', { StringEqualsIgnoreCase: { 'aws:PrincipalTag/team': 'Platform' } }, { 'aws:PrincipalTag/team': 'PLATFORM' }, 'allow'],
    ['StringLike with *', { StringLike: { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/jit-*` } }, { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/jit-api` }, 'allow'],
    ['StringLike with ?', { StringLike: { 's3:prefix': 'home/?' } }, { 's3:prefix': 'home/ab' }, 'implicit-deny'],
    ['StringNotLike', { StringNotLike: { 'aws:PrincipalArn': '*:role/jit-*' } }, { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/admin` }, 'allow'],
    ['ArnLike', { ArnLike: { 'aws:SourceArn': `arn:aws:states:*:${ACCOUNT}:stateMachine:*` } }, { 'aws:SourceArn': `arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:grant` }, 'allow'],
    ['ArnLike other account', { ArnLike: { 'aws:SourceArn': `arn:aws:states:*:${ACCOUNT}:stateMachine:*` } }, { 'aws:SourceArn': 'arn:aws:states:us-east-1:111111111111:stateMachine:grant' }, 'implicit-deny'],
    // ArnLike checks the six colon-separated parts one by one: the account's `*` cannot take `function`.
    ['ArnLike part by part', { ArnLike: { 'aws:SourceArn': 'arn:aws:lambda:us-east-1:*:api' } }, { 'aws:SourceArn': `arn:aws:lambda:us-east-1:${ACCOUNT}:function:api` }, 'implicit-deny'],
    ['ArnEquals', { ArnEquals: { 'aws:SourceArn': `arn:aws:scheduler:us-east-1:${ACCOUNT}:schedule/jit/*` } }, { 'aws:SourceArn': `arn:aws:scheduler:us-east-1:${ACCOUNT}:schedule/jit/g1` }, 'allow'],
    ['ArnNotLike', { ArnNotLike: { 'aws:SourceArn': `arn:aws:states:*:${ACCOUNT}:*` } }, { 'aws:SourceArn': 'arn:aws:states:us-east-1:111111111111:stateMachine:x' }, 'allow'],
    ['ArnNotEquals same', { ArnNotEquals: { 'aws:SourceArn': ROLE } }, { 'aws:SourceArn': ROLE }, 'implicit-deny'],
    ['DateLessThan before', { DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } }, { 'aws:CurrentTime': '2029-12-31T23:59:59Z' }, 'allow'],
    ['DateLessThan after', { DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } }, { 'aws:CurrentTime': '2030-01-01T00:00:01Z' }, 'implicit-deny'],
    ['DateLessThan epoch seconds', { DateLessThan: { 'aws:CurrentTime': '1893456000' } }, { 'aws:CurrentTime': '2029-12-31T00:00:00Z' }, 'allow'],
    ['DateGreaterThanEquals at the instant', { DateGreaterThanEquals: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } }, { 'aws:CurrentTime': '2030-01-01T00:00:00.000Z' }, 'allow'],
    ['DateLessThanEquals', { DateLessThanEquals: { 'aws:EpochTime': '2030-01-01T00:00:00Z' } }, { 'aws:EpochTime': '1893456000' }, 'allow'],
    ['DateGreaterThan', { DateGreaterThan: { 'aws:TokenIssueTime': '2030-01-01T00:00:00Z' } }, { 'aws:TokenIssueTime': '2029-06-01T00:00:00Z' }, 'implicit-deny'],
    ['NumericLessThan', { NumericLessThan: { 'aws:MultiFactorAuthAge': 3600 } }, { 'aws:MultiFactorAuthAge': '120' }, 'allow'],
    ['NumericGreaterThan', { NumericGreaterThan: { 'aws:MultiFactorAuthAge': '3600' } }, { 'aws:MultiFactorAuthAge': '120' }, 'implicit-deny'],
    ['NumericEquals', { NumericEquals: { 'dynamodb:Limit': '10' } }, { 'dynamodb:Limit': '10.0' }, 'allow'],
    ['Bool true', { Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': true }, 'allow'],
    ['Bool false', { Bool: { 'aws:SecureTransport': true } }, { 'aws:SecureTransport': 'false' }, 'implicit-deny'],
    ['IfExists, key missing', { StringEqualsIfExists: { 'iam:PassedToService': 'scheduler.amazonaws.com' } }, {}, 'allow'],
    ['IfExists, key present and different', { StringEqualsIfExists: { 'iam:PassedToService': 'scheduler.amazonaws.com' } }, { 'iam:PassedToService': 'ec2.amazonaws.com' }, 'implicit-deny'],
    ['ArnLikeIfExists, key present', { ArnLikeIfExists: { 'aws:SourceArn': `arn:aws:states:*:${ACCOUNT}:*` } }, { 'aws:SourceArn': `arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:g` }, 'allow'],
    ['Null true: key absent', { Null: { 'aws:TokenIssueTime': 'true' } }, {}, 'allow'],
    ['Null true: key present', { Null: { 'aws:TokenIssueTime': 'true' } }, { 'aws:TokenIssueTime': '2030-01-01T00:00:00Z' }, 'implicit-deny'],
    ['Null false: key present', { Null: { 'aws:TokenIssueTime': 'false' } }, { 'aws:TokenIssueTime': '2030-01-01T00:00:00Z' }, 'allow'],
    ['Null false: key absent', { Null: { 'aws:TokenIssueTime': 'false' } }, {}, 'implicit-deny'],
    ['ForAnyValue: one of the values matches', { 'ForAnyValue:StringEquals': { 'dynamodb:EnclosingOperation': ['TransactWriteItems', 'TransactGetItems'] } }, { 'dynamodb:EnclosingOperation': 'TransactWriteItems' }, 'allow'],
    ['ForAnyValue: multivalued key, one matches', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['env'] } }, { 'aws:TagKeys': ['owner', 'env'] }, 'allow'],
    ['ForAnyValue: none matches', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['env'] } }, { 'aws:TagKeys': ['owner'] }, 'implicit-deny'],
    ['ForAnyValue: key missing', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['env'] } }, {}, 'implicit-deny'],
    ['ForAllValues: all match', { 'ForAllValues:StringLike': { 'aws:TagKeys': ['env', 'owner*'] } }, { 'aws:TagKeys': ['env', 'owner-email'] }, 'allow'],
    ['ForAllValues: one does not', { 'ForAllValues:StringLike': { 'aws:TagKeys': ['env', 'owner*'] } }, { 'aws:TagKeys': ['env', 'cost'] }, 'implicit-deny'],
    ['ForAllValues: key missing is true', { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env'] } }, {}, 'allow'],
    ['IpAddress', { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, { 'aws:SourceIp': '10.1.2.3' }, 'allow'],
    ['NotIpAddress', { NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '2001:db8::/32'] } }, { 'aws:SourceIp': '2001:db8::1' }, 'implicit-deny'],
  ];
  it.each(cases)('%s', (_name, Condition, context, decision) => {
    expect(decide(policy(allow('iam:PassRole', ROLE, Condition)), 'iam:PassRole', ROLE, context)).toBe(decision);
  });

  it('an unknown operator throws instead of being skipped', () => {
    for (const operator of ['StringEqualz', 'ForSomeValues:StringEquals', 'NullIfExists', 'ForAnyValue:Null']) {
      const doc = policy(allow('*', '*', { [operator]: { 'aws:SourceAccount': ACCOUNT } }));
      expect(() => decide(doc, 'dynamodb:GetItem', TABLE), operator).toThrow(PolicyError);
    }
  });

  it('an unknown operator throws even in a statement about another action', () => {
    const doc = policy(allow('dynamodb:GetItem', TABLE), allow('sqs:SendMessage', '*', { StringEqualz: { 'aws:SourceAccount': ACCOUNT } }));
    expect(() => decide(doc, 'dynamodb:GetItem', TABLE)).toThrow(/unknown condition operator StringEqualz/);
  });
});

describe('policy validation', () => {
  const invalid: [name: string, statement: PolicyStatement][] = [
    ['bad Effect', { Effect: 'Permit' as 'Allow', Action: '*', Resource: '*' }],
    ['no Action', { Effect: 'Allow', Resource: '*' }],
    ['Action and NotAction', { Effect: 'Allow', Action: '*', NotAction: 'iam:*', Resource: '*' }],
    ['Resource and NotResource', { Effect: 'Allow', Action: '*', Resource: '*', NotResource: TABLE }],
    ['no Resource in an identity policy', { Effect: 'Allow', Action: '*' }],
  ];
  it.each(invalid)('%s throws', (_name, statement) => {
    expect(() => validatePolicy(policy(statement))).toThrow(PolicyError);
  });
});

describe('trust policies', () => {
  const STATE_MACHINES_ROLE = `arn:aws:iam::${ACCOUNT}:role/jit-state-machines`;
  const trust = (Principal: unknown, Condition?: PolicyStatement['Condition']): PolicyDocument =>
    policy({ Effect: 'Allow', Principal, Action: 'sts:AssumeRole', ...(Condition ? { Condition } : {}) });

  it('a service principal admits that service only', () => {
    const doc = trust({ Service: 'states.amazonaws.com' });
    expect(trustAllows(doc, { service: 'states.amazonaws.com', accountId: ACCOUNT })).toBe(true);
    expect(trustAllows(doc, { service: 'scheduler.amazonaws.com', accountId: ACCOUNT })).toBe(false);
    expect(trustAllows(doc, { arn: STATE_MACHINES_ROLE, accountId: ACCOUNT })).toBe(false);
    expect(trustAllows(trust({ Service: ['lambda.amazonaws.com', 'scheduler.amazonaws.com'] }), { service: 'scheduler.amazonaws.com', accountId: ACCOUNT })).toBe(true);
  });

  it('a role ARN principal admits that role and its sessions, not another role', () => {
    const doc = trust({ AWS: STATE_MACHINES_ROLE });
    expect(trustAllows(doc, { arn: STATE_MACHINES_ROLE, accountId: ACCOUNT })).toBe(true);
    expect(trustAllows(doc, { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/jit-state-machines/exec-1`, accountId: ACCOUNT })).toBe(true);
    expect(trustAllows(doc, { arn: `arn:aws:iam::${ACCOUNT}:role/jit-api`, accountId: ACCOUNT })).toBe(false);
    expect(trustAllows(doc, { service: 'states.amazonaws.com', accountId: ACCOUNT })).toBe(false);
  });

  it('an account principal (id or :root) admits any principal of that account', () => {
    for (const principal of [ACCOUNT, `arn:aws:iam::${ACCOUNT}:root`]) {
      const doc = trust({ AWS: principal });
      expect(trustAllows(doc, { arn: `arn:aws:iam::${ACCOUNT}:role/anything`, accountId: ACCOUNT })).toBe(true);
      expect(trustAllows(doc, { arn: 'arn:aws:iam::111111111111:role/anything', accountId: '111111111111' })).toBe(false);
    }
    expect(trustAllows(trust({ AWS: '*' }), { arn: 'arn:aws:iam::111111111111:role/x', accountId: '111111111111' })).toBe(true);
    expect(trustAllows(trust('*'), { service: 'states.amazonaws.com', accountId: ACCOUNT })).toBe(true);
  });

  it('aws:SourceAccount confines a service principal to one account', () => {
    const doc = trust({ Service: 'scheduler.amazonaws.com' }, { StringEquals: { 'aws:SourceAccount': ACCOUNT } });
    const scheduler = { service: 'scheduler.amazonaws.com', accountId: ACCOUNT };
    expect(trustAllows(doc, scheduler, { 'aws:SourceAccount': ACCOUNT })).toBe(true);
    expect(trustAllows(doc, scheduler, { 'aws:SourceAccount': '111111111111' })).toBe(false);
    expect(trustAllows(doc, scheduler)).toBe(false);
  });

  it('principal keys come from the caller unless the context sets them', () => {
    const doc = trust({ AWS: ACCOUNT }, { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/jit-*` } });
    expect(trustAllows(doc, { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/jit-api/s`, accountId: ACCOUNT })).toBe(true);
    expect(trustAllows(doc, { arn: `arn:aws:iam::${ACCOUNT}:role/admin`, accountId: ACCOUNT })).toBe(false);
  });

  it('only statements about sts:AssumeRole count; a Deny wins', () => {
    const tagOnly = policy({ Effect: 'Allow', Principal: { Service: 'states.amazonaws.com' }, Action: 'sts:TagSession' });
    expect(trustAllows(tagOnly, { service: 'states.amazonaws.com', accountId: ACCOUNT })).toBe(false);
    expect(evaluateTrustPolicy(tagOnly, { service: 'states.amazonaws.com', accountId: ACCOUNT }, undefined, 'sts:TagSession')).toBe('allow');
    const denied = policy(
      { Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'sts:AssumeRole' },
      { Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/intruder` }, Action: 'sts:*' },
    );
    expect(trustAllows(denied, { arn: `arn:aws:iam::${ACCOUNT}:role/jit-api`, accountId: ACCOUNT })).toBe(true);
    expect(evaluateTrustPolicy(denied, { arn: `arn:aws:iam::${ACCOUNT}:role/intruder`, accountId: ACCOUNT })).toBe('explicit-deny');
  });

  it('an unknown operator in a trust policy throws', () => {
    const doc = trust({ Service: 'states.amazonaws.com' }, { StringEqualsAnyCase: { 'aws:SourceAccount': ACCOUNT } });
    expect(() => trustAllows(doc, { service: 'states.amazonaws.com', accountId: ACCOUNT })).toThrow(PolicyError);
  });
});

describe('access denied messages', () => {
  it('assumed-role ARN drops the role path', () => {
    expect(assumedRoleArn(`arn:aws:iam::${ACCOUNT}:role/jit-api`, 'fn')).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/jit-api/fn`);
    expect(assumedRoleArn(`arn:aws:iam::${ACCOUNT}:role/service/jit/jit-api`, 'fn')).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/jit-api/fn`);
    expect(() => assumedRoleArn('arn:aws:iam::000000000000:user/alice', 's')).toThrow();
  });

  it('implicit and explicit deny read as AWS writes them', () => {
    const who = `arn:aws:sts::${ACCOUNT}:assumed-role/jit-api/fn`;
    expect(accessDeniedMessage(who, 'dynamodb:PutItem', TABLE, 'implicit-deny')).toBe(
      `User: ${who} is not authorized to perform: dynamodb:PutItem on resource: ${TABLE} because no identity-based policy allows the dynamodb:PutItem action`,
    );
    expect(accessDeniedMessage(who, 'dynamodb:PutItem', TABLE, 'explicit-deny')).toBe(
      `User: ${who} is not authorized to perform: dynamodb:PutItem on resource: ${TABLE} with an explicit deny in an identity-based policy`,
    );
    expect(accessDeniedMessage(who, 'sso:ListInstances', '*', 'implicit-deny')).toBe(
      `User: ${who} is not authorized to perform: sso:ListInstances on resource: * because no identity-based policy allows the sso:ListInstances action`,
    );
  });
});
