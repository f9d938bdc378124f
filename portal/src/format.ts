/** How times, durations and targets read on screen. */
import { describeTarget, isTerminal } from '../../lib/domain/grant.ts';
import { formatDuration, parseDuration } from '../../lib/domain/duration.ts';
import type { Grant, GrantStatus, Target } from './types.ts';

export { describeTarget, formatDuration, isTerminal, parseDuration };

/** `PT1H30M` → "1 h 30 min". */
export function humanDuration(iso: string): string {
  const ms = parseDuration(iso);
  return ms === undefined ? iso : humanMs(ms);
}

export function humanMs(ms: number): string {
  let s = Math.max(0, Math.round(ms / 1000));
  const parts: string[] = [];
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d) parts.push(`${d} d`);
  if (h) parts.push(`${h} h`);
  if (m) parts.push(`${m} min`);
  if (s && !d && !h) parts.push(`${s} s`);
  return parts.join(' ') || '0 s';
}

export function when(iso: string | undefined): string {
  if (!iso) return '';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** Time left on active access, or undefined when there is no end to count to. */
export function timeLeft(grant: Grant, now = Date.now()): string | undefined {
  if (grant.status !== 'ACTIVE' || !grant.expiresAt) return undefined;
  return humanMs(Date.parse(grant.expiresAt) - now);
}

const STATUS_LABELS: Record<GrantStatus, string> = {
  PENDING_APPROVAL: 'Waiting for approval',
  APPROVED: 'Approved',
  SCHEDULED: 'Scheduled',
  ACTIVATING: 'Activating',
  ACTIVE: 'Active',
  REVOKING: 'Ending',
  EXPIRED: 'Expired',
  REVOKED: 'Revoked',
  DENIED: 'Denied',
  CANCELLED: 'Cancelled',
  APPROVAL_EXPIRED: 'Request expired',
  FAILED: 'Failed',
};

export function statusLabel(status: GrantStatus): string {
  return STATUS_LABELS[status];
}

export function targetText(target: Target | Grant['target']): string {
  return describeTarget(target as Target);
}

/** One line that tells two grants apart in a list or a live announcement. */
export function grantTitle(grant: Grant): string {
  return grant.target.type === 'account' ? `${grant.target.permissionSet} on ${grant.target.accountName ?? grant.target.accountId}` : `Member of ${grant.target.group}`;
}
