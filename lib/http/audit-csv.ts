/**
 * The audit export as CSV (RFC 4180): a header row, CRLF line ends, every field quoted when it
 * holds a comma, a quote or a line break (quotes doubled). A field that a spreadsheet would read
 * as a formula (starting with = + - @, or a tab or carriage return) is prefixed with `'`, so
 * text a requester typed into a justification or comment is never executed when opened.
 */
import type { GrantEvent } from '../events/grant-event.ts';

export const AUDIT_CSV_COLUMNS = [
  'at',
  'eventId',
  'grantId',
  'action',
  'from',
  'to',
  'actorId',
  'actorName',
  'userName',
  'userId',
  'email',
  'targetType',
  'accountId',
  'permissionSet',
  'group',
  'rule',
  'detail',
] as const;

type Column = (typeof AUDIT_CSV_COLUMNS)[number];

function row(e: GrantEvent): Record<Column, string> {
  return {
    at: e.at,
    eventId: e.eventId,
    grantId: e.grantId,
    action: e.action,
    from: e.from ?? '',
    to: e.to,
    actorId: e.actor.id,
    actorName: e.actor.name,
    userName: e.principal.userName,
    userId: e.principal.userId,
    email: e.principal.email,
    targetType: e.target.type,
    accountId: e.target.type === 'account' ? e.target.accountId : '',
    permissionSet: e.target.type === 'account' ? e.target.permissionSet : '',
    group: e.target.type === 'group' ? e.target.group : '',
    rule: e.rule,
    detail: e.detail ?? '',
  };
}

/** One CSV field: formula-safe, then quoted as RFC 4180 requires. */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function auditCsv(events: readonly GrantEvent[]): string {
  const lines = [AUDIT_CSV_COLUMNS.join(','), ...events.map((e) => AUDIT_CSV_COLUMNS.map((c) => csvField(row(e)[c])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}
