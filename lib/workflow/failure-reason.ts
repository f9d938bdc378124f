/**
 * Identity Center's FailureReason texts (and Step Functions error names) turned
 * into sentences a requester can act on. The raw text stays in the history detail.
 */

interface ReasonRule {
  match: RegExp;
  text: string;
}

const RULES: ReasonRule[] = [
  {
    match: /IAM role quota|quota for IAM roles|roles? .*limit.*exceeded/i,
    text: 'the account has reached its IAM role quota; ask the account owner to remove unused roles (or raise the quota), then request again',
  },
  {
    match: /Not supported policy|policy arn.*(not found|does not exist)|MalformedPolicy/i,
    text: 'the permission set refers to a policy that does not exist in the account; ask an Identity Center administrator to fix the permission set, then request again',
  },
  {
    match: /assignee .* not found|principal.*(not found|does not exist)/i,
    text: 'your user no longer exists in the Identity Center directory; ask an administrator to check your account',
  },
  {
    match: /not a member of organization|account .*(not found|does not exist)|suspended/i,
    text: 'the account is not an active member of the organization; check the account id or ask an administrator',
  },
  {
    match: /management account|AccessDenied/i,
    text: 'this system is not allowed to grant access on that account (assignments on the management account are refused from a delegated administrator); ask an administrator for another way',
  },
  {
    match: /SCIM|synchroni[sz]ed|external identity provider/i,
    text: 'the group is managed by your identity provider (SCIM) and cannot be changed here; request access through the identity provider',
  },
];

/** Why activation failed, for the requester. `raw` is AWS's text or a Step Functions error name. */
export function userFacingFailureReason(raw: string | undefined, kind: 'failed' | 'timeout' | 'error'): string {
  if (kind === 'timeout') {
    return 'Identity Center did not finish creating the access within 15 minutes; nothing was granted. Request again, and tell an administrator if it keeps happening';
  }
  const text = raw ?? '';
  for (const rule of RULES) if (rule.match.test(text)) return rule.text;
  if (kind === 'error') {
    return `the access could not be created because Identity Center kept refusing the request (${text || 'unknown error'}); request again later, and tell an administrator if it keeps happening`;
  }
  return `Identity Center could not create the access: ${text || 'no reason given'}. Request again, or give this message to an administrator`;
}
