/**
 * IAM enforcement for packaged mode: who is calling (each role session gets its own access
 * keys, so a request's SigV4 access key id names the caller), and is the call allowed by that
 * role's identity policies from the packaged template. Used by the edge for every AWS
 * request, by Step Functions for Lambda tasks and the Credentials field of SDK tasks, and by
 * the Scheduler for its execution role.
 *
 * Evaluated: identity policies (inline and the template's managed policies), explicit Deny,
 * conditions, and role trust policies on every assume. Not evaluated: SCPs, resource
 * policies, permission boundaries and session policies (none of them is in the template).
 */
import { createHash } from 'node:crypto';
import { AwsError } from '../protocol/aws.ts';
import type { EdgeCall } from '../edge.ts';
import type { PackagedRole } from '../packaged/template.ts';
import { accessDeniedMessage, assumedRoleArn } from './access-denied.ts';
import { ActionInputError, iamServiceForTarget, requiredPermissions, schedulerOperation, UnknownActionError, type ActionEnvironment, type AwsCall, type RequiredPermission } from './actions.ts';
import { evaluatePolicies, trustAllows, validatePolicy, type RequestContext } from './policy.ts';

export interface RoleCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

export interface RoleSession {
  roleArn: string;
  sessionName: string;
}

/** The access key the harness, the aws CLI and the SDK default to locally: the account's administrator. */
export const ADMIN_ACCESS_KEY_ID = 'local';

export interface IamEnforcerOptions {
  roles: PackagedRole[];
  accountId: string;
  /** Facts the action table needs (organization id, permission set names), asked per call. */
  environment?: () => ActionEnvironment;
}

export class IamEnforcer {
  private readonly roles = new Map<string, PackagedRole>();
  private readonly sessions = new Map<string, RoleSession>();

  /** Throws PolicyError for a policy AWS would refuse to deploy. */
  constructor(private readonly options: IamEnforcerOptions) {
    for (const role of options.roles) {
      validatePolicy(role.trustPolicy, 'trust');
      for (const policy of role.policies) validatePolicy(policy, 'identity');
      this.roles.set(role.arn, role);
    }
  }

  hasRole(roleArn: string): boolean {
    return this.roles.has(roleArn);
  }

  /** Temporary credentials for a session of `roleArn` (what Lambda, Step Functions and Scheduler get from STS). */
  credentialsFor(roleArn: string, sessionName: string): RoleCredentials {
    const digest = createHash('sha256').update(`${roleArn}\n${sessionName}`).digest();
    const accessKeyId = `ASIA${base32(digest).slice(0, 16)}`;
    this.sessions.set(accessKeyId, { roleArn, sessionName });
    return { accessKeyId, secretAccessKey: digest.toString('base64'), sessionToken: `local-session-${accessKeyId}` };
  }

  /**
   * `caller` (a role session, or a service principal such as states.amazonaws.com) assumes
   * `targetRoleArn`: a role caller's own policies must allow sts:AssumeRole on it, and the
   * target's trust policy must admit the caller. Throws AccessDenied as STS does.
   */
  assumeRole(caller: RoleSession | { service: string }, targetRoleArn: string, sessionName: string): RoleCredentials {
    const target = this.roles.get(targetRoleArn);
    const callerArn = 'service' in caller ? caller.service : assumedRoleArn(caller.roleArn, caller.sessionName);
    if ('roleArn' in caller) {
      const denied = this.denied(caller, { action: 'sts:AssumeRole', resource: targetRoleArn });
      if (denied) throw new AwsError('AccessDenied', denied, 403);
    }
    const context: RequestContext = { 'aws:SourceAccount': this.options.accountId };
    const trusted =
      target !== undefined &&
      trustAllows(
        target.trustPolicy,
        'service' in caller ? { service: caller.service, accountId: this.options.accountId } : { arn: caller.roleArn, accountId: this.options.accountId },
        context,
      );
    if (!trusted) {
      const why = target ? 'its trust policy does not admit the caller' : 'the role is not in the packaged template';
      throw new AwsError('AccessDenied', `User: ${callerArn} is not authorized to perform: sts:AssumeRole on resource: ${targetRoleArn} (${why})`, 403);
    }
    return this.credentialsFor(targetRoleArn, sessionName);
  }

  /** AWS's AccessDenied message when `session` may not do `permission`, else undefined. */
  denied(session: RoleSession, permission: RequiredPermission): string | undefined {
    const role = this.roles.get(session.roleArn);
    const decision = role
      ? evaluatePolicies(role.policies, { action: permission.action, resource: permission.resource, ...(permission.context ? { context: permission.context } : {}) })
      : 'implicit-deny';
    if (decision === 'allow') return undefined;
    return accessDeniedMessage(assumedRoleArn(session.roleArn, session.sessionName), permission.action, permission.resource, decision);
  }

  /** The session behind an access key id; undefined for keys this enforcer did not issue. */
  sessionOf(accessKeyId: string): RoleSession | undefined {
    return this.sessions.get(accessKeyId);
  }

  /** The edge's check: a request this enforcer cannot place is refused, never let through. */
  authorizeEdgeCall(call: EdgeCall): AwsError | undefined {
    if (call.accessKeyId === undefined || call.accessKeyId === ADMIN_ACCESS_KEY_ID) return undefined;
    const awsCall = awsCallOf(call, this.options.accountId);
    if (!awsCall) {
      const what = call.target ?? `${call.signingName ?? 'unknown'} ${call.method} ${call.path}`;
      return new AwsError('AccessDeniedException', `${what} is not in the local IAM action table (local/iam/actions.ts); denied until it is`, 400);
    }
    return this.authorize(call.accessKeyId, awsCall);
  }

  /**
   * An AWS request as the edge received it: undefined when allowed, else the error AWS
   * answers. The administrator key (the harness, the aws CLI) is allowed everything.
   */
  authorize(accessKeyId: string | undefined, call: AwsCall): AwsError | undefined {
    if (accessKeyId === undefined || accessKeyId === ADMIN_ACCESS_KEY_ID) return undefined;
    const session = this.sessions.get(accessKeyId);
    if (!session) return new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.', 400);
    let permissions: RequiredPermission[];
    try {
      permissions = requiredPermissions(call, this.options.environment?.() ?? {});
    } catch (error) {
      if (error instanceof UnknownActionError) return new AwsError('AccessDeniedException', `${error.message} (denied until it is)`, 400);
      // The service would refuse the request itself; say so rather than guess a resource.
      if (error instanceof ActionInputError) return new AwsError('ValidationException', error.message, 400);
      throw error;
    }
    for (const permission of permissions) {
      const message = this.denied(session, permission);
      if (message) {
        const status = call.service === 'scheduler' || call.service === 'lambda' ? 403 : 400;
        return new AwsError(call.service === 'sts' ? 'AccessDenied' : 'AccessDeniedException', message, status);
      }
    }
    return undefined;
  }
}

/** A request the edge received, in the action table's terms; undefined when no row family knows the service. */
export function awsCallOf(call: EdgeCall, accountId: string): AwsCall | undefined {
  if (call.target) {
    const dot = call.target.lastIndexOf('.');
    const service = iamServiceForTarget(call.target.slice(0, dot));
    return service ? { service, operation: call.target.slice(dot + 1), input: call.input, region: call.region, accountId } : undefined;
  }
  if (call.signingName === 'scheduler') {
    const route = schedulerOperation(call.method, call.path, call.query);
    return route ? { service: 'scheduler', operation: route.operation, input: { ...call.input, ...route.pathMembers }, region: call.region, accountId } : undefined;
  }
  return undefined;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}
