/**
 * AccessDenied messages shaped like AWS's, so a permission missing from the template reads
 * locally as it would in CloudWatch Logs: who, which action, which resource, and whether no
 * policy allowed it or one denied it.
 */
import type { Decision } from './policy.ts';

/** `arn:aws:iam::000000000000:role/X` + session → `arn:aws:sts::000000000000:assumed-role/X/session` (role paths dropped, as STS does). */
export function assumedRoleArn(roleArn: string, sessionName: string): string {
  const m = /^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
  if (!m) throw new Error(`not a role ARN: ${roleArn}`);
  return `arn:${m[1]}:sts::${m[2]}:assumed-role/${m[3]}/${sessionName}`;
}

/**
 * "User: <principal> is not authorized to perform: <action> on resource: <resource> because no
 * identity-based policy allows the <action> action", or "... with an explicit deny in an
 * identity-based policy". Actions without resource-level permissions are reported
 * "on resource: *", as AWS does (e.g. ecr:GetAuthorizationToken, lambda:ListFunctions).
 */
export function accessDeniedMessage(principalArn: string, action: string, resource: string, decision: Exclude<Decision, 'allow'>): string {
  const head = `User: ${principalArn} is not authorized to perform: ${action} on resource: ${resource}`;
  return decision === 'explicit-deny'
    ? `${head} with an explicit deny in an identity-based policy`
    : `${head} because no identity-based policy allows the ${action} action`;
}
