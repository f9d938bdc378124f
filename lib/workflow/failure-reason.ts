/**
 * Why an activation failed, in one sentence a requester can act on (what failed, why,
 * what to do), from what the grant workflow hands CompleteActivation: Identity Center's
 * FailureReason, or a Step Functions error name with its cause (a Lambda task's error
 * JSON, an SDK integration's message, a timeout).
 *
 * The sentence never carries the raw error: the caller logs that with the grant id, and
 * the history entry gets at most `detail` (error name and message, no stack, no paths).
 */
import { LAMBDA_SERVICE_ERRORS, LAMBDA_TIMEOUT } from './errors.ts';

export type FailureKind = 'failed' | 'timeout' | 'error';

export interface ActivationFailure {
  /** For the requester: one sentence, no JSON, no stack, no file paths. */
  reason: string;
  /** For the history entry: the error's name and message (or Identity Center's text), short and stack-free; absent when there is nothing to add. */
  detail?: string;
}

export interface FailureInput {
  kind: FailureKind;
  /** Identity Center's FailureReason of a FAILED operation. */
  failureReason?: string;
  /** Step Functions error name (`SsoAdmin.AccessDeniedException`, `HolderBusy`, `Sandbox.Timedout`...). */
  error?: string;
  /** Step Functions cause: a Lambda error's JSON, an SDK integration's message, or plain text. */
  cause?: string;
}

const DETAIL_MAX = 300;
const QUOTED_MAX = 200;

const REASONS = {
  roleQuota: 'the account has reached its IAM role quota; ask the account owner to remove unused roles (or raise the quota), then request again',
  missingPolicy:
    'the permission set refers to a policy that does not exist in the account; ask an Identity Center administrator to fix the permission set, then request again',
  principalGone: 'your user no longer exists in the Identity Center directory; ask an administrator to check your account',
  accountInactive: 'the account is not an active member of the organization; check the account id or ask an administrator',
  delegatedAdmin:
    'this system is not allowed to grant access on that account (assignments on the management account are refused from a delegated administrator); ask an administrator for another way',
  scim: 'the group is managed by your identity provider (SCIM) and cannot be changed here; request access through the identity provider',
  missingPermission: (action: string) => `the deployment's role lacks ${action}; ask the platform team to fix the deployment's IAM role, then request again`,
  accessDenied: "AWS denied this deployment access while it was setting up yours; ask the platform team to check the deployment's permissions, then request again",
  creationTimeout:
    'Identity Center did not finish creating the access within 15 minutes, so nothing was granted; request again, and tell an administrator if it keeps happening',
  stepTimeout:
    'a step of setting up the access ran out of time (AWS answered too slowly), so nothing was granted; request again in a few minutes, and tell the platform team if it keeps happening',
  throttled: 'AWS kept throttling this system while it set up the access, so nothing was granted; request again in a few minutes',
  slotsBusy: "Identity Center's assignment operations stayed in use by other requests for about 20 minutes, so nothing was granted; request again later",
  holderBusy: 'the same access was still being removed after an earlier grant ended, so nothing was granted; request again in a few minutes',
  conflict: 'other changes to the same access kept getting in the way, so nothing was granted; request again in a few minutes',
  notFound:
    'Identity Center could not find the user, group, permission set or account of this request; ask an administrator to check that they still exist, then request again',
  invalid: 'Identity Center rejected the request as invalid; ask an administrator to check that the account, permission set or group still exist, then request again',
  serviceQuota: 'an Identity Center quota was reached (for example the number of members of the group); ask an administrator to free or raise it, then request again',
  awsInternal: 'AWS had an internal error while setting up the access, so nothing was granted; request again in a few minutes, and tell the platform team if it keeps happening',
  config: "this deployment's configuration is wrong, so the access could not be set up; ask the platform team to check the deployment, then request again",
  internal:
    'the access could not be set up because of an unexpected error in this system; request again, and if it fails again ask the platform team to look up this grant in the logs',
  unknownIdentityCenter: (said: string) => `Identity Center could not create the access and said "${said}"; request again, or give this message to an administrator`,
  noReason: 'Identity Center could not create the access and gave no reason; request again, or tell an administrator if it keeps happening',
} as const;

/** Identity Center's own texts (FailureReason of a FAILED operation, or an error message) that name the cause. */
const IDENTITY_CENTER_TEXTS: { match: RegExp; reason: string }[] = [
  { match: /IAM role quota|quota for IAM roles|roles? .*limit.*exceeded/i, reason: REASONS.roleQuota },
  { match: /Not supported policy|policy arn.*(not found|does not exist)|MalformedPolicy/i, reason: REASONS.missingPolicy },
  { match: /assignee .* not found|principal.*(not found|does not exist)/i, reason: REASONS.principalGone },
  { match: /not a member of organization|account .*(not found|does not exist)|suspended/i, reason: REASONS.accountInactive },
  { match: /SCIM|synchroni[sz]ed|external identity provider/i, reason: REASONS.scim },
];

/** Identity Center's refusal, from a delegated administrator, of assignments on the management account. */
const DELEGATED_ADMIN_REFUSAL = /management account|delegated admin/i;
/** IAM's "User: arn:... is not authorized to perform: service:Action on resource: ... because ..." (no policy allows it, or an explicit deny). */
const NOT_AUTHORIZED = /not authori[sz]ed to perform:?\s*([a-z0-9-]+:[A-Za-z0-9*]+)/i;

/** The error's own name and message: a Lambda error's JSON is unpacked, anything else is taken as text. */
function parseTaskError(error: string | undefined, cause: string | undefined): { name: string; message: string } {
  const text = (cause ?? '').trim();
  if (text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as { errorType?: unknown; errorMessage?: unknown };
      if (parsed && typeof parsed === 'object') {
        return {
          name: typeof parsed.errorType === 'string' && parsed.errorType ? parsed.errorType : (error ?? ''),
          message: typeof parsed.errorMessage === 'string' ? parsed.errorMessage : '',
        };
      }
    } catch {
      // not JSON after all: plain text
    }
  }
  return { name: error ?? '', message: text };
}

/** One line, no JSON braces, no file paths or file URLs, at most `max` characters. */
function stackFree(text: string, max: number): string {
  const line = text
    .replace(/\n\s*at .*/g, '')
    .replace(/file:\/\/\S+/g, '<path>')
    .replace(/(^|[\s('"=:])\/(?:[\w.@+-]+\/)*[\w.@+-]+/g, '$1<path>')
    .replace(/[{}]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return line.length > max ? `${line.slice(0, max - 1).trimEnd()}…` : line;
}

function accessDeniedReason(message: string): string {
  if (DELEGATED_ADMIN_REFUSAL.test(message)) return REASONS.delegatedAdmin;
  const action = NOT_AUTHORIZED.exec(message)?.[1];
  return action ? REASONS.missingPermission(action) : REASONS.accessDenied;
}

/** The reason for an error a task raised (Lambda or SDK integration), by its name first, then its text. */
function errorReason(name: string, message: string): string {
  // `SsoAdmin.AccessDeniedException` → `AccessDeniedException`; Step Functions' own names keep their prefix.
  const base = /^(States|Lambda|Sandbox)\./.test(name) ? name : name.replace(/^[A-Za-z]+\./, '');
  if (/AccessDenied/.test(base) || NOT_AUTHORIZED.test(message)) return accessDeniedReason(message);
  for (const t of IDENTITY_CENTER_TEXTS) if (t.match.test(message)) return t.reason;
  if (name === LAMBDA_TIMEOUT || name === 'States.Timeout' || /Task timed out/i.test(message)) return REASONS.stepTimeout;
  if ((LAMBDA_SERVICE_ERRORS as readonly string[]).includes(name) || name === 'States.TaskFailed') return REASONS.awsInternal;
  switch (base) {
    case 'SlotsBusy':
      return REASONS.slotsBusy;
    case 'HolderBusy':
      return REASONS.holderBusy;
    case 'ConflictError':
    case 'ConflictException':
      return REASONS.conflict;
    case 'ThrottlingException':
    case 'TooManyRequestsException':
    case 'ProvisionedThroughputExceededException':
    case 'RequestLimitExceeded':
      return REASONS.throttled;
    case 'ResourceNotFoundException':
      return REASONS.notFound;
    case 'ValidationException':
      return REASONS.invalid;
    case 'ServiceQuotaExceededException':
      return REASONS.serviceQuota;
    case 'InternalServerException':
    case 'InternalServerError':
    case 'ServiceUnavailableException':
      return REASONS.awsInternal;
    case 'ConfigError':
    case 'PolicyError':
      return REASONS.config;
    default:
      return REASONS.internal;
  }
}

/** The requester's sentence and the history detail for a failed activation. */
export function describeActivationFailure(input: FailureInput): ActivationFailure {
  if (input.kind === 'timeout') return { reason: REASONS.creationTimeout };
  if (input.kind === 'failed') {
    const raw = input.failureReason ?? input.cause ?? '';
    const said = stackFree(raw, DETAIL_MAX);
    if (!said) return { reason: REASONS.noReason };
    const refused = /AccessDenied|not authori[sz]ed/i.test(said) || DELEGATED_ADMIN_REFUSAL.test(said);
    const known = IDENTITY_CENTER_TEXTS.find((t) => t.match.test(said))?.reason;
    const quoted = stackFree(said, QUOTED_MAX).replace(/"/g, "'").replace(/\.$/, '');
    const reason = refused ? accessDeniedReason(said) : (known ?? REASONS.unknownIdentityCenter(quoted));
    return { reason, detail: stackFree(`Identity Center: ${raw}`, DETAIL_MAX) };
  }
  const parsed = parseTaskError(input.error, input.cause ?? input.failureReason);
  const reason = errorReason(parsed.name, parsed.message);
  const detail = stackFree([parsed.name, parsed.message].filter(Boolean).join(': '), DETAIL_MAX);
  return detail ? { reason, detail } : { reason };
}
