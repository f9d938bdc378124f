/**
 * IAM policy evaluation for the local cloud.
 *
 * The local cloud enforces the identity policies of the packaged template on every
 * AWS call a function, a state machine task or the Scheduler makes, so a missing
 * permission fails locally the way it fails in AWS. This module is the pure part:
 * given policy documents and one authorization check (action, resource, condition
 * context), it answers allow / explicit deny / implicit deny, and whether a role's
 * trust policy lets a caller assume it.
 *
 * Semantics follow the IAM User Guide (policy evaluation logic, JSON policy element
 * reference, condition operators). Policy variables are not substituted; only the
 * `${*}`, `${?}` and `${$}` escapes are honoured. A policy that AWS would refuse at
 * deploy time (unknown condition operator, Action and NotAction together, ...) throws
 * `PolicyError` rather than being evaluated leniently.
 */
import { BlockList, isIP } from 'node:net';

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Principal?: unknown;
  NotPrincipal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement | PolicyStatement[];
}

/** Condition keys and their values for one request (keys compared case-insensitively, as IAM does). */
export type RequestContext = Record<string, string | string[] | boolean | undefined>;

export interface AuthorizationCheck {
  action: string;
  resource: string;
  context?: RequestContext;
}

export type Decision = 'allow' | 'explicit-deny' | 'implicit-deny';

/** Caller of sts:AssumeRole: a service principal (e.g. 'states.amazonaws.com') or a role/user ARN in an account. */
export interface TrustCaller {
  service?: string;
  arn?: string;
  accountId: string;
}

/** A policy document AWS would reject (so evaluating it would mean guessing). */
export class PolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyError';
  }
}

export type PolicyKind = 'identity' | 'trust';

/**
 * Throws `PolicyError` for what IAM refuses at deploy time: a bad Effect, Action with
 * NotAction, Resource with NotResource, an identity statement without a resource or
 * with a Principal, a trust statement without a principal, an unknown condition operator.
 */
export function validatePolicy(policy: PolicyDocument, kind: PolicyKind = 'identity'): void {
  for (const [i, s] of statementsOf(policy).entries()) {
    const where = `statement ${s.Sid ?? i}`;
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw new PolicyError(`${where}: Effect must be Allow or Deny, got ${JSON.stringify(s.Effect)}`);
    if ((s.Action === undefined) === (s.NotAction === undefined)) throw new PolicyError(`${where}: exactly one of Action and NotAction is required`);
    if (s.Resource !== undefined && s.NotResource !== undefined) throw new PolicyError(`${where}: Resource and NotResource cannot be used together`);
    if (kind === 'identity') {
      if (s.Resource === undefined && s.NotResource === undefined) throw new PolicyError(`${where}: an identity-based policy statement needs Resource or NotResource`);
      if (s.Principal !== undefined || s.NotPrincipal !== undefined) throw new PolicyError(`${where}: an identity-based policy statement cannot name a Principal`);
    } else if ((s.Principal === undefined) === (s.NotPrincipal === undefined)) {
      throw new PolicyError(`${where}: a trust policy statement needs exactly one of Principal and NotPrincipal`);
    }
    for (const operator of Object.keys(s.Condition ?? {})) parseOperator(operator);
  }
}

/** Identity-based evaluation: explicit Deny wins, then any Allow, else implicit deny. */
export function evaluatePolicies(policies: PolicyDocument[], check: AuthorizationCheck): Decision {
  for (const p of policies) validatePolicy(p, 'identity');
  const context = normalizeContext(check.context);
  let allowed = false;
  for (const policy of policies) {
    for (const s of statementsOf(policy)) {
      if (!actionApplies(s, check.action) || !resourceApplies(s, check.resource)) continue;
      if (!conditionsHold(s.Condition, context)) continue;
      if (s.Effect === 'Deny') return 'explicit-deny';
      allowed = true;
    }
  }
  return allowed ? 'allow' : 'implicit-deny';
}

/**
 * The trust-policy half of sts:AssumeRole (or another action a trust policy governs, such
 * as sts:TagSession). `aws:PrincipalAccount`, `aws:PrincipalArn`, `aws:PrincipalServiceName`
 * and `aws:PrincipalIsAWSService` are filled in from `caller` unless `context` sets them.
 *
 * An account principal (`123456789012` or `arn:aws:iam::123456789012:root`) only delegates
 * to that account: the caller must also be allowed sts:AssumeRole by its own identity
 * policies, which is `evaluatePolicies`' job, not this function's.
 */
export function evaluateTrustPolicy(trustPolicy: PolicyDocument, caller: TrustCaller, context?: RequestContext, action = 'sts:AssumeRole'): Decision {
  validatePolicy(trustPolicy, 'trust');
  const ctx = normalizeContext({ ...callerContext(caller), ...context });
  let allowed = false;
  for (const s of statementsOf(trustPolicy)) {
    if (!actionApplies(s, action)) continue;
    const principalApplies = s.Principal !== undefined ? principalMatches(s.Principal, caller) : !principalMatches(s.NotPrincipal, caller);
    if (!principalApplies || !conditionsHold(s.Condition, ctx)) continue;
    if (s.Effect === 'Deny') return 'explicit-deny';
    allowed = true;
  }
  return allowed ? 'allow' : 'implicit-deny';
}

/** Does the role's trust policy allow `caller` to sts:AssumeRole? (Principal: Service / AWS (ARN, account id, `arn:aws:iam::ACCOUNT:root`, '*'), Conditions evaluated with `context`.) */
export function trustAllows(trustPolicy: PolicyDocument, caller: TrustCaller, context?: RequestContext): boolean {
  return evaluateTrustPolicy(trustPolicy, caller, context) === 'allow';
}

function statementsOf(policy: PolicyDocument): PolicyStatement[] {
  if (!policy || typeof policy !== 'object' || policy.Statement === undefined) throw new PolicyError('a policy document needs a Statement');
  return Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
}

function list(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map((v) => String(v));
}

// ---------------------------------------------------------------------------
// Action and resource matching

function actionApplies(s: PolicyStatement, action: string): boolean {
  const matches = (patterns: string[]) => patterns.some((p) => globMatch(p, action, { ignoreCase: true, escapes: false }));
  return s.Action !== undefined ? matches(list(s.Action)) : !matches(list(s.NotAction));
}

function resourceApplies(s: PolicyStatement, resource: string): boolean {
  if (s.Resource !== undefined) return list(s.Resource).some((p) => arnMatch(p, resource));
  if (s.NotResource !== undefined) return !list(s.NotResource).some((p) => arnMatch(p, resource));
  return false;
}

/**
 * ARN pattern matching as IAM does it for Resource and the Arn* operators: the first five
 * colon-separated parts (arn, partition, service, region, account) are matched one by one
 * and the resource part as a whole, so a `*` in the region cannot swallow the account.
 * Patterns that are not six-part ARNs (`*`, or a truncated `arn:aws:s3:*`) match the whole string.
 */
export function arnMatch(pattern: string, value: string): boolean {
  const p = splitArn(pattern);
  const v = splitArn(value);
  if (!p || !v) return globMatch(pattern, value, { ignoreCase: false, escapes: true });
  return p.every((part, i) => globMatch(part, v[i]!, { ignoreCase: false, escapes: true }));
}

function splitArn(s: string): string[] | undefined {
  const parts = s.split(':');
  if (parts.length < 6) return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}

/** `*` matches any run of characters, `?` one character; with `escapes`, `${*}` `${?}` `${$}` are those characters literally. */
function globMatch(pattern: string, value: string, options: { ignoreCase: boolean; escapes: boolean }): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (options.escapes && c === '$' && pattern[i + 1] === '{' && pattern[i + 3] === '}' && '*?$'.includes(pattern[i + 2]!)) {
      re += escapeRegExp(pattern[i + 2]!);
      i += 3;
    } else if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else re += escapeRegExp(c);
  }
  return new RegExp(`^${re}$`, options.ignoreCase ? 'is' : 's').test(value);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

// ---------------------------------------------------------------------------
// Principals (trust policies)

function callerContext(caller: TrustCaller): RequestContext {
  const ctx: RequestContext = { 'aws:PrincipalAccount': caller.accountId, 'aws:PrincipalIsAWSService': caller.service !== undefined };
  if (caller.service) ctx['aws:PrincipalServiceName'] = caller.service;
  if (caller.arn) ctx['aws:PrincipalArn'] = principalArnOf(caller.arn);
  return ctx;
}

/** aws:PrincipalArn of a role session is the role's ARN (without its path, which the session ARN does not carry). */
function principalArnOf(arn: string): string {
  const m = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(arn);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : arn;
}

function principalMatches(principal: unknown, caller: TrustCaller): boolean {
  if (principal === '*') return true;
  if (!principal || typeof principal !== 'object') throw new PolicyError(`unsupported Principal ${JSON.stringify(principal)}`);
  for (const [type, value] of Object.entries(principal as Record<string, unknown>)) {
    const values = list(value);
    if (type === 'Service') {
      if (caller.service && values.some((v) => v.toLowerCase() === caller.service!.toLowerCase())) return true;
    } else if (type === 'AWS') {
      if (!caller.service && values.some((v) => awsPrincipalMatches(v, caller))) return true;
    } else if (type !== 'Federated' && type !== 'CanonicalUser') {
      throw new PolicyError(`unknown Principal type ${type}`);
    }
  }
  return false;
}

function awsPrincipalMatches(value: string, caller: TrustCaller): boolean {
  if (value === '*') return true;
  if (/^\d{12}$/.test(value)) return value === caller.accountId;
  const root = /^arn:[^:]+:iam::(\d{12}):root$/.exec(value);
  if (root) return root[1] === caller.accountId;
  if (!caller.arn) return false;
  if (value === caller.arn) return true;
  // A role principal covers that role's sessions; the session ARN has no role path.
  const role = /^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(value);
  const session = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(caller.arn);
  return !!role && !!session && role[1] === session[1] && role[2] === session[2] && role[3] === session[3];
}

// ---------------------------------------------------------------------------
// Conditions

type ContextValues = Map<string, string[]>;

function normalizeContext(context: RequestContext | undefined): ContextValues {
  const out: ContextValues = new Map();
  for (const [key, value] of Object.entries(context ?? {})) {
    if (value === undefined) continue;
    out.set(key.toLowerCase(), Array.isArray(value) ? value.map(String) : [String(value)]);
  }
  return out;
}

type Family = 'String' | 'StringIgnoreCase' | 'StringLike' | 'Numeric' | 'Date' | 'Bool' | 'Binary' | 'Ip' | 'Arn' | 'Null';
type Comparison = 'eq' | 'lt' | 'lte' | 'gt' | 'gte';

interface Operator {
  family: Family;
  comparison: Comparison;
  negated: boolean;
  ifExists: boolean;
  set?: 'any' | 'all';
}

const OPERATORS: Record<string, Pick<Operator, 'family' | 'comparison' | 'negated'>> = {
  StringEquals: { family: 'String', comparison: 'eq', negated: false },
  StringNotEquals: { family: 'String', comparison: 'eq', negated: true },
  StringEqualsIgnoreCase: { family: 'StringIgnoreCase', comparison: 'eq', negated: false },
  StringNotEqualsIgnoreCase: { family: 'StringIgnoreCase', comparison: 'eq', negated: true },
  StringLike: { family: 'StringLike', comparison: 'eq', negated: false },
  StringNotLike: { family: 'StringLike', comparison: 'eq', negated: true },
  NumericEquals: { family: 'Numeric', comparison: 'eq', negated: false },
  NumericNotEquals: { family: 'Numeric', comparison: 'eq', negated: true },
  NumericLessThan: { family: 'Numeric', comparison: 'lt', negated: false },
  NumericLessThanEquals: { family: 'Numeric', comparison: 'lte', negated: false },
  NumericGreaterThan: { family: 'Numeric', comparison: 'gt', negated: false },
  NumericGreaterThanEquals: { family: 'Numeric', comparison: 'gte', negated: false },
  DateEquals: { family: 'Date', comparison: 'eq', negated: false },
  DateNotEquals: { family: 'Date', comparison: 'eq', negated: true },
  DateLessThan: { family: 'Date', comparison: 'lt', negated: false },
  DateLessThanEquals: { family: 'Date', comparison: 'lte', negated: false },
  DateGreaterThan: { family: 'Date', comparison: 'gt', negated: false },
  DateGreaterThanEquals: { family: 'Date', comparison: 'gte', negated: false },
  Bool: { family: 'Bool', comparison: 'eq', negated: false },
  BinaryEquals: { family: 'Binary', comparison: 'eq', negated: false },
  IpAddress: { family: 'Ip', comparison: 'eq', negated: false },
  NotIpAddress: { family: 'Ip', comparison: 'eq', negated: true },
  ArnEquals: { family: 'Arn', comparison: 'eq', negated: false },
  ArnLike: { family: 'Arn', comparison: 'eq', negated: false },
  ArnNotEquals: { family: 'Arn', comparison: 'eq', negated: true },
  ArnNotLike: { family: 'Arn', comparison: 'eq', negated: true },
  Null: { family: 'Null', comparison: 'eq', negated: false },
};

/** `ForAnyValue:StringLikeIfExists` → its parts; anything IAM would not accept throws. */
function parseOperator(name: string): Operator {
  let rest = name;
  let set: Operator['set'];
  const prefix = /^(ForAnyValue|ForAllValues):/.exec(rest);
  if (prefix) {
    set = prefix[1] === 'ForAnyValue' ? 'any' : 'all';
    rest = rest.slice(prefix[0].length);
  }
  let ifExists = false;
  if (rest.endsWith('IfExists') && rest !== 'Null') {
    ifExists = true;
    rest = rest.slice(0, -'IfExists'.length);
  }
  const base = Object.hasOwn(OPERATORS, rest) ? OPERATORS[rest] : undefined;
  if (!base || (base.family === 'Null' && (ifExists || set))) throw new PolicyError(`unknown condition operator ${name}`);
  return { ...base, ifExists, ...(set ? { set } : {}) };
}

/** AND across operators and keys; OR across the values of one key. */
function conditionsHold(condition: PolicyStatement['Condition'], context: ContextValues): boolean {
  for (const [operatorName, block] of Object.entries(condition ?? {})) {
    const operator = parseOperator(operatorName);
    if (!block || typeof block !== 'object') throw new PolicyError(`condition ${operatorName} needs an object of keys`);
    for (const [key, policyValue] of Object.entries(block)) {
      if (!conditionHolds(operator, list(policyValue), context.get(key.toLowerCase()), operatorName)) return false;
    }
  }
  return true;
}

function conditionHolds(op: Operator, policyValues: string[], contextValues: string[] | undefined, operatorName: string): boolean {
  if (op.family === 'Null') {
    const absent = contextValues === undefined || contextValues.length === 0;
    return policyValues.some((v) => (v.toLowerCase() === 'true' ? absent : !absent));
  }
  const missing = contextValues === undefined || contextValues.length === 0;
  // One context value against the policy's values: any positive match, or none for a Not operator.
  const test = (value: string) => policyValues.some((pv) => compare(op, pv, value, operatorName)) !== op.negated;
  if (op.set === 'all') return missing || contextValues.every(test);
  if (missing) return op.ifExists || (op.set === undefined && op.negated);
  if (op.set === 'any') return contextValues.some(test);
  return op.negated ? contextValues.every(test) : contextValues.some(test);
}

/** The positive comparison of one policy value with one context value. */
function compare(op: Operator, policyValue: string, value: string, operatorName: string): boolean {
  switch (op.family) {
    case 'String':
      return policyValue === value;
    case 'StringIgnoreCase':
      return policyValue.toLowerCase() === value.toLowerCase();
    case 'StringLike':
      return globMatch(policyValue, value, { ignoreCase: false, escapes: true });
    case 'Arn':
      return arnMatch(policyValue, value);
    case 'Bool':
      return policyValue.toLowerCase() === value.toLowerCase();
    case 'Binary':
      return Buffer.from(policyValue, 'base64').equals(Buffer.from(value, 'base64'));
    case 'Numeric':
      return ordered(op.comparison, Number(value), parseNumber(policyValue, operatorName));
    case 'Date':
      return ordered(op.comparison, parseDate(value), parseDate(policyValue, operatorName));
    case 'Ip':
      return ipInRange(value, policyValue, operatorName);
    case 'Null':
      return false;
  }
}

/** `actual <comparison> expected`; NaN on the request side never matches. */
function ordered(comparison: Comparison, actual: number, expected: number): boolean {
  if (Number.isNaN(actual)) return false;
  switch (comparison) {
    case 'eq':
      return actual === expected;
    case 'lt':
      return actual < expected;
    case 'lte':
      return actual <= expected;
    case 'gt':
      return actual > expected;
    case 'gte':
      return actual >= expected;
  }
}

function parseNumber(s: string, operatorName: string): number {
  const n = Number(s);
  if (s.trim() === '' || Number.isNaN(n)) throw new PolicyError(`${operatorName}: ${JSON.stringify(s)} is not a number`);
  return n;
}

/** ISO 8601, or epoch seconds as IAM accepts for date conditions. */
function parseDate(s: string, operatorName?: string): number {
  const t = /^\d+(\.\d+)?$/.test(s.trim()) ? Number(s) * 1000 : Date.parse(s);
  if (Number.isNaN(t) && operatorName) throw new PolicyError(`${operatorName}: ${JSON.stringify(s)} is not a date`);
  return t;
}

function ipInRange(address: string, cidr: string, operatorName: string): boolean {
  const [net, bits] = cidr.split('/');
  const family = isIP(net ?? '');
  if (!family) throw new PolicyError(`${operatorName}: ${JSON.stringify(cidr)} is not an IP address or CIDR block`);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (isIP(address) !== family) return false;
  const block = new BlockList();
  block.addSubnet(net!, bits === undefined ? (family === 4 ? 32 : 128) : Number(bits), type);
  return block.check(address, type);
}
