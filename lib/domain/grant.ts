/**
 * The Grant entity and its status machine. The edge table below is the only
 * place that decides which status changes exist; the store refuses anything else.
 */

export const GRANT_STATUSES = [
  'PENDING_APPROVAL',
  'APPROVED',
  'SCHEDULED',
  'ACTIVATING',
  'ACTIVE',
  'REVOKING',
  'EXPIRED',
  'REVOKED',
  'DENIED',
  'CANCELLED',
  'APPROVAL_EXPIRED',
  'FAILED',
] as const;
export type GrantStatus = (typeof GRANT_STATUSES)[number];

/** Allowed edges. A self-edge records an event that keeps the status (an approval short of quorum, an extension). */
export const STATUS_EDGES: Readonly<Record<GrantStatus, readonly GrantStatus[]>> = {
  PENDING_APPROVAL: ['PENDING_APPROVAL', 'APPROVED', 'SCHEDULED', 'DENIED', 'CANCELLED', 'APPROVAL_EXPIRED'],
  APPROVED: ['ACTIVATING', 'CANCELLED', 'FAILED'],
  SCHEDULED: ['ACTIVATING', 'CANCELLED', 'FAILED'],
  ACTIVATING: ['ACTIVE', 'FAILED'],
  ACTIVE: ['ACTIVE', 'REVOKING'],
  REVOKING: ['EXPIRED', 'REVOKED'],
  EXPIRED: [],
  REVOKED: [],
  DENIED: [],
  CANCELLED: [],
  APPROVAL_EXPIRED: [],
  FAILED: [],
};

export const TERMINAL_STATUSES: readonly GrantStatus[] = GRANT_STATUSES.filter((s) => STATUS_EDGES[s].length === 0);

export function isTerminal(status: GrantStatus): boolean {
  return STATUS_EDGES[status].length === 0;
}

export function canTransition(from: GrantStatus, to: GrantStatus): boolean {
  return STATUS_EDGES[from].includes(to);
}

export interface Principal {
  /** Identity Store user id. */
  userId: string;
  userName: string;
  email: string;
}

export interface AccountTarget {
  type: 'account';
  accountId: string;
  /** Permission set name, as the requester and the policy say it. */
  permissionSet: string;
  permissionSetArn: string;
  accountName?: string;
}

export interface GroupTarget {
  type: 'group';
  /** Identity Store group display name. */
  group: string;
  groupId: string;
}

export type Target = AccountTarget | GroupTarget;

/** A target as a requester names it; policy resolves it to a Target (ids, ARN, account name). */
export type TargetRequest =
  | { type: 'account'; accountId: string; permissionSet: string }
  | { type: 'group'; group: string };

/** The key of the one Identity Center assignment or membership a grant needs. */
export function assignmentKey(principal: Pick<Principal, 'userId'>, target: Target): string {
  return target.type === 'account'
    ? `account#${target.accountId}#${target.permissionSetArn}#${principal.userId}`
    : `group#${target.groupId}#${principal.userId}`;
}

export function describeTarget(target: Target): string {
  return target.type === 'account'
    ? `${target.permissionSet} on ${target.accountName ? `${target.accountName} (${target.accountId})` : target.accountId}`
    : `member of ${target.group}`;
}

export interface Actor {
  /** Identity Store user id, or a system component name (`system:sweeper`). */
  id: string;
  name: string;
}

export const SYSTEM_ACTORS = {
  workflow: { id: 'system:workflow', name: 'grant workflow' },
  revoker: { id: 'system:revoker', name: 'revoke workflow' },
  sweeper: { id: 'system:sweeper', name: 'expiry sweeper' },
  reconciler: { id: 'system:reconciler', name: 'reconciler' },
  expirer: { id: 'system:approval-expiry', name: 'approval expiry' },
} as const satisfies Record<string, Actor>;

export interface HistoryEntry {
  at: string;
  actor: Actor;
  action: string;
  from: GrantStatus | null;
  to: GrantStatus;
  detail?: string;
}

export interface Approval {
  by: Actor;
  at: string;
  comment?: string;
}

export interface Grant {
  id: string;
  principal: Principal;
  target: Target;
  justification: string;
  ticket?: string;
  /** Policy rule that admitted the request. */
  ruleId: string;
  requestedAt: string;
  startsAt?: string;
  /** ISO 8601 duration of each activation window (extensions add to expiresAt). */
  duration: string;
  /** Set when the grant becomes ACTIVE: activatedAt + duration (+ extensions). */
  expiresAt?: string;
  activatedAt?: string;
  endedAt?: string;
  /** Pending requests expire at this instant (APPROVAL_EXPIRED). */
  pendingExpiresAt?: string;
  status: GrantStatus;
  /** Distinct approvals needed. 0 means auto-approved. */
  quorum: number;
  approvals: Approval[];
  history: HistoryEntry[];
  version: number;
  /** True when the access already existed without this system: it is never removed by this grant. */
  coveredByExistingAccess?: boolean;
  failureReason?: string;
  revokeReason?: string;
}

export const GRANT_ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;
