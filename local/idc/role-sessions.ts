/**
 * Role sessions of the local Identity Center: what the AWS access portal's GetRoleCredentials
 * issues (temporary credentials of the `AWSReservedSSO_<permission set>_<suffix>` role in an
 * account, valid for the permission set's SessionDuration) and whether a session may still act:
 * not expired, and not denied by a service control policy attached to its account, its OUs or
 * the root, evaluated as IAM evaluates SCPs (an explicit Deny wins; every level must allow).
 * SCPs never apply to the management account.
 */
import { createHash, randomBytes } from 'node:crypto';
import { AwsError } from '../protocol/aws.ts';
import type { PolicyStatement } from './organization-policies.ts';
import type { IdcState } from './state.ts';

export interface RoleSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** Identity Store user id. */
  userId: string;
  userName: string;
  accountId: string;
  permissionSetArn: string;
  permissionSetName: string;
  /** Epoch ms. */
  issuedAt: number;
  expiresAt: number;
}

/** Who a session acts as, as STS GetCallerIdentity names it. */
export interface SessionIdentity {
  arn: string;
  userId: string;
  account: string;
}

/** `PT1H`, `PT8H30M`, `PT45M` → ms. */
export function sessionDurationMs(iso: string): number {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?$/.exec(iso);
  if (!m || (!m[1] && !m[2])) throw new Error(`not an ISO 8601 session duration: ${iso}`);
  return (Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60) * 1000;
}

const digest = (...parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('hex');
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const upperId = (hex: string, length: number) =>
  Array.from({ length }, (_, i) => ALPHANUMERIC[parseInt(hex.slice(i * 2, i * 2 + 2), 16) % ALPHANUMERIC.length]).join('');

/** Sessions kept after they expired, so that their credentials answer ExpiredToken rather than pass for unknown keys. */
const KEEP_EXPIRED_MS = 24 * 3600 * 1000;

export class RoleSessions {
  constructor(private readonly state: IdcState) {}

  /** Every session issued (and not yet forgotten), oldest first. */
  list(): RoleSession[] {
    return [...this.state.roleSessions.values()].map((s) => ({ ...s }));
  }

  get(accessKeyId: string): RoleSession | undefined {
    return this.state.roleSessions.get(accessKeyId);
  }

  /** The role Identity Center provisions for a permission set in an account: its name and its (stable) role id. */
  roleOf(accountId: string, permissionSetArn: string, permissionSetName: string): { roleName: string; roleId: string } {
    const h = digest(accountId, permissionSetArn);
    return { roleName: `AWSReservedSSO_${permissionSetName}_${h.slice(0, 16)}`, roleId: `AROA${upperId(h.slice(16), 17)}` };
  }

  /** Whether the user holds the permission set on the account, directly or through a group. */
  holds(userId: string, accountId: string, permissionSetArn: string): boolean {
    this.state.settle();
    const groups = new Set([...this.state.memberships.values()].filter((m) => m.userId === userId).map((m) => m.groupId));
    for (const a of this.state.assignments.values()) {
      if (a.accountId !== accountId || a.permissionSetArn !== permissionSetArn) continue;
      if (a.principalType === 'USER' ? a.principalId === userId : groups.has(a.principalId)) return true;
    }
    return false;
  }

  /**
   * GetRoleCredentials: a new session for the user in the account, or ForbiddenException
   * ("No access") when the user does not hold that permission set there.
   */
  issue(userId: string, accountId: string, roleName: string): RoleSession {
    const user = this.state.usersById.get(userId);
    const permissionSet = this.state.fixture.permissionSets.find((p) => p.name === roleName);
    if (!user || !permissionSet || !this.state.accountsById.has(accountId) || !this.holds(userId, accountId, permissionSet.arn)) {
      throw new AwsError('ForbiddenException', 'No access', 403);
    }
    const issuedAt = this.state.clock.now();
    const session: RoleSession = {
      accessKeyId: `ASIA${upperId(randomBytes(16).toString('hex'), 16)}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(96).toString('base64'),
      userId,
      userName: user.userName,
      accountId,
      permissionSetArn: permissionSet.arn,
      permissionSetName: permissionSet.name,
      issuedAt,
      expiresAt: issuedAt + sessionDurationMs(permissionSet.sessionDuration),
    };
    for (const [key, old] of this.state.roleSessions) if (old.expiresAt + KEEP_EXPIRED_MS < issuedAt) this.state.roleSessions.delete(key);
    this.state.roleSessions.set(session.accessKeyId, session);
    this.state.changed();
    return session;
  }

  identityOf(session: RoleSession): SessionIdentity {
    const { roleName, roleId } = this.roleOf(session.accountId, session.permissionSetArn, session.permissionSetName);
    return { arn: `arn:aws:sts::${session.accountId}:assumed-role/${roleName}/${session.userName}`, userId: `${roleId}:${session.userName}`, account: session.accountId };
  }

  /**
   * Throws an AwsError (as STS answers) unless the session may perform `action` now: ExpiredToken once it
   * has expired, AccessDenied when the SCPs that reach its account (as they were the
   * propagation delay ago) deny it explicitly or no SCP at some level allows it.
   */
  authorize(session: RoleSession, action: string): void {
    const now = this.state.clock.now();
    if (now >= session.expiresAt) throw new AwsError('ExpiredToken', 'The security token included in the request is expired', 400);
    if (session.accountId === this.state.fixture.organization.managementAccountId) return;
    const identity = this.identityOf(session);
    const context: Record<string, string> = {
      'identitystore:userid': session.userId,
      'aws:tokenissuetime': new Date(session.issuedAt).toISOString(),
      'aws:userid': identity.userId,
      'aws:principalarn': `arn:aws:iam::${session.accountId}:role/aws-reserved/sso.amazonaws.com/${this.roleOf(session.accountId, session.permissionSetArn, session.permissionSetName).roleName}`,
      'aws:principalaccount': session.accountId,
      'aws:currenttime': new Date(now).toISOString(),
    };
    const levels = this.state.organizationPolicies.effectiveFor(session.accountId);
    const applies = (s: PolicyStatement) => matchesAction(s, action) && matchesResource(s) && conditionsHold(s, context);
    const denied = (why: string) => new AwsError('AccessDenied', `User: ${identity.arn} is not authorized to perform: ${action} ${why}`, 403);
    for (const level of levels) if (level.statements.some((s) => s.Effect === 'Deny' && applies(s))) throw denied('with an explicit deny in a service control policy');
    for (const level of levels) if (!level.statements.some((s) => s.Effect === 'Allow' && applies(s))) throw denied('because no service control policy allows the action');
  }
}

const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** IAM wildcards: `*` any run, `?` one character; case-insensitive (actions). */
function wildcard(pattern: string, value: string, ignoreCase: boolean): boolean {
  const re = new RegExp(`^${pattern.split(/([*?])/).map((p) => (p === '*' ? '.*' : p === '?' ? '.' : p.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('')}$`, ignoreCase ? 'is' : 's');
  return re.test(value);
}

function matchesAction(s: PolicyStatement, action: string): boolean {
  if (s.Action !== undefined) return list(s.Action).some((p) => wildcard(p, action, true));
  return !list(s.NotAction).some((p) => wildcard(p, action, true));
}

/** The calls sessions make here name no resource: only `*` (or no Resource at all) covers them. */
function matchesResource(s: PolicyStatement): boolean {
  if (s.Resource !== undefined) return list(s.Resource).includes('*');
  if (s.NotResource !== undefined) return !list(s.NotResource).includes('*');
  return true;
}

const dateOf = (v: string) => (/^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(v));

const OPERATORS: Record<string, (actual: string, expected: string) => boolean> = {
  StringEquals: (a, e) => a === e,
  StringNotEquals: (a, e) => a !== e,
  StringEqualsIgnoreCase: (a, e) => a.toLowerCase() === e.toLowerCase(),
  StringLike: (a, e) => wildcard(e, a, false),
  StringNotLike: (a, e) => !wildcard(e, a, false),
  DateEquals: (a, e) => dateOf(a) === dateOf(e),
  DateLessThan: (a, e) => dateOf(a) < dateOf(e),
  DateLessThanEquals: (a, e) => dateOf(a) <= dateOf(e),
  DateGreaterThan: (a, e) => dateOf(a) > dateOf(e),
  DateGreaterThanEquals: (a, e) => dateOf(a) >= dateOf(e),
  ArnEquals: (a, e) => wildcard(e, a, false),
  ArnLike: (a, e) => wildcard(e, a, false),
};
/** Negated operators hold when no value matches; the others when any does. */
const NEGATED = new Set(['StringNotEquals', 'StringNotLike']);

/** Every operator, every key in it: AND; the values of one key: OR. A key the request lacks fails the condition, except for `…IfExists` and negated operators. */
function conditionsHold(s: PolicyStatement, context: Record<string, string>): boolean {
  for (const [rawOperator, block] of Object.entries(s.Condition ?? {})) {
    const ifExists = rawOperator.endsWith('IfExists');
    const operator = ifExists ? rawOperator.slice(0, -'IfExists'.length) : rawOperator;
    const test = OPERATORS[operator];
    if (!test) throw new AwsError('InternalFailure', `The local cloud does not evaluate the condition operator ${rawOperator} (it evaluates ${Object.keys(OPERATORS).join(', ')}).`, 500);
    for (const [key, expected] of Object.entries(block)) {
      const actual = context[key.toLowerCase()];
      if (actual === undefined) {
        if (ifExists || NEGATED.has(operator)) continue;
        return false;
      }
      const values = list(expected);
      const holds = NEGATED.has(operator) ? values.every((e) => test(actual, e)) : values.some((e) => test(actual, e));
      if (!holds) return false;
    }
  }
  return true;
}
