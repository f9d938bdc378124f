/**
 * Block Kit for everything the app shows: the request modal, the approvers'
 * channel message, the requester's DMs and the ephemeral command answers.
 * Pure functions of the grant, so a chat.update always shows the current truth.
 */
import { describeTarget, type Grant, type GrantStatus } from '../domain/grant.ts';
import { durationMs } from '../domain/duration.ts';
import { consoleLink } from '../domain/console-link.ts';
import type { SessionTerms } from '../domain/session-cut.ts';
import { TEXT_LIMITS } from '../http/schemas.ts';
import type { EligibleTarget } from './service.ts';

export const ACTION = {
  approve: 'jit_approve',
  approveWithComment: 'jit_approve_comment',
  deny: 'jit_deny',
  revoke: 'jit_revoke',
  extend: 'jit_extend',
} as const;

export const CALLBACK = { request: 'jit_request', decision: 'jit_decision' } as const;

export const USAGE = [
  '`/jit` — open the request form',
  '`/jit request <account id or name> <permission set> <duration> <justification…>`',
  '`/jit request group <group> <duration> <justification…>`',
  '`/jit list [mine|approvals|active]` — your grants, or requests waiting for you',
  '`/jit revoke <grant id> [reason…]`',
  '`/jit help`',
  'Durations: `30m`, `2h`, `1h30m`, `1d` or ISO 8601 (`PT2H`). Quote names with spaces: `"Data Lake Prod"`. Add `ticket:ABC-123` to link a ticket.',
].join('\n');

/** block_id / action_id of the request modal's inputs (view_submission reads them back). */
export const REQUEST_FIELDS = {
  target: 'target',
  duration: 'duration',
  justification: 'justification',
  ticket: 'ticket',
} as const;

export type Block = Record<string, unknown>;
export interface SlackMessage {
  text: string;
  blocks: Block[];
}
export type ModalView = Record<string, unknown> & { type: 'modal' };

const plain = (text: string) => ({ type: 'plain_text', text: clip(text, 150), emoji: true });
const mrkdwn = (text: string) => ({ type: 'mrkdwn', text: clip(text, 3000) });
const section = (text: string): Block => ({ type: 'section', text: mrkdwn(text) });
const context = (text: string): Block => ({ type: 'context', elements: [mrkdwn(text)] });

function clip(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max - 1) + '…';
}

/** Escapes user text for mrkdwn so a justification cannot mention @channel or forge links. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Slack renders this in the reader's own time zone. */
export function slackDate(iso: string): string {
  const epoch = Math.floor(Date.parse(iso) / 1000);
  return `<!date^${epoch}^{date_short_pretty} {time}|${iso}>`;
}

export function humanDuration(iso: string): string {
  let minutes = Math.round(durationMs(iso) / 60_000);
  const d = Math.floor(minutes / 1440);
  minutes -= d * 1440;
  const h = Math.floor(minutes / 60);
  const m = minutes - h * 60;
  return [d && `${d}d`, h && `${h}h`, m && `${m}m`].filter(Boolean).join(' ') || '0m';
}

const STATUS_LABEL: Record<GrantStatus, string> = {
  PENDING_APPROVAL: ':hourglass_flowing_sand: Waiting for approval',
  APPROVED: ':white_check_mark: Approved — activating',
  SCHEDULED: ':calendar: Approved — scheduled',
  ACTIVATING: ':gear: Activating',
  ACTIVE: ':large_green_circle: Active',
  REVOKING: ':gear: Ending',
  EXPIRED: ':white_circle: Expired',
  REVOKED: ':no_entry: Revoked',
  DENIED: ':x: Denied',
  CANCELLED: ':heavy_multiplication_x: Cancelled',
  APPROVAL_EXPIRED: ':zzz: Approval window expired',
  FAILED: ':warning: Failed',
};

export function statusLabel(status: GrantStatus): string {
  return STATUS_LABEL[status];
}

function targetText(grant: Grant): string {
  return escapeMrkdwn(describeTarget(grant.target));
}

function grantFields(grant: Grant): Block {
  const fields = [
    `*Requester*\n${escapeMrkdwn(grant.principal.userName)} (${escapeMrkdwn(grant.principal.email)})`,
    `*Access*\n${targetText(grant)}`,
    `*Duration*\n${humanDuration(grant.duration)}${grant.startsAt ? ` from ${slackDate(grant.startsAt)}` : ''}`,
    `*Status*\n${statusLabel(grant.status)}`,
  ];
  if (grant.ticket) fields.push(`*Ticket*\n${escapeMrkdwn(grant.ticket)}`);
  if (grant.expiresAt && ['ACTIVE', 'REVOKING'].includes(grant.status)) fields.push(`*Expires*\n${slackDate(grant.expiresAt)}`);
  return { type: 'section', fields: fields.map(mrkdwn) };
}

function approvalsText(grant: Grant): string | undefined {
  if (grant.quorum === 0) return grant.approvals.length ? undefined : 'Auto-approved by policy';
  const who = grant.approvals.map((a) => `${escapeMrkdwn(a.by.name)}${a.comment ? ` (“${escapeMrkdwn(a.comment)}”)` : ''}`);
  return `Approvals ${grant.approvals.length}/${grant.quorum}${who.length ? `: ${who.join(', ')}` : ''}`;
}

function lastEntryDetail(grant: Grant): string | undefined {
  const last = grant.history.at(-1);
  if (!last) return undefined;
  const detail = last.detail ? `: ${escapeMrkdwn(last.detail)}` : '';
  return `${escapeMrkdwn(last.action)} by ${escapeMrkdwn(last.actor.name)} ${slackDate(last.at)}${detail}`;
}

const button = (text: string, actionId: string, value: string, style?: 'primary' | 'danger'): Block => ({
  type: 'button',
  text: plain(text),
  action_id: actionId,
  value,
  ...(style ? { style } : {}),
});

/** What happens to the grant's sessions once it ends (account grants), as a line of the messages. */
function sessionsText(session: SessionTerms | undefined): string | undefined {
  return session ? `*Sessions* (${humanDuration(session.duration)} each): ${escapeMrkdwn(session.note)}` : undefined;
}

/** The approvers' channel message; rebuilt from the grant on every change. */
export function approvalChannelMessage(grant: Grant, session?: SessionTerms): SlackMessage {
  const blocks: Block[] = [
    section(`*Access request* for ${targetText(grant)}`),
    grantFields(grant),
    section(`*Justification*\n${escapeMrkdwn(grant.justification)}`),
  ];
  const sessions = sessionsText(session);
  if (sessions) blocks.push(context(sessions));
  const approvals = approvalsText(grant);
  const notes = [approvals, grant.failureReason && `Reason: ${escapeMrkdwn(grant.failureReason)}`, grant.revokeReason && `Revoked: ${escapeMrkdwn(grant.revokeReason)}`];
  if (grant.status === 'PENDING_APPROVAL') {
    blocks.push({
      type: 'actions',
      block_id: `decide:${grant.id}`,
      elements: [
        button('Approve', ACTION.approve, grant.id, 'primary'),
        button('Approve with comment…', ACTION.approveWithComment, grant.id),
        button('Deny…', ACTION.deny, grant.id, 'danger'),
      ],
    });
  } else if (grant.status === 'ACTIVE') {
    blocks.push({ type: 'actions', block_id: `active:${grant.id}`, elements: [button('Revoke now', ACTION.revoke, grant.id, 'danger')] });
  }
  const last = lastEntryDetail(grant);
  blocks.push(context([...notes.filter(Boolean), last && `Last: ${last}`, `Grant \`${grant.id}\``].filter(Boolean).join(' · ')));
  return {
    text: `Access request from ${grant.principal.userName} for ${describeTarget(grant.target)}: ${statusLabel(grant.status)}`,
    blocks,
  };
}

export type DmKind = 'extended' | 'approved' | 'denied' | 'active' | 'expiry-warning' | 'expired' | 'revoked' | 'failed' | 'cancelled' | 'approval-expired' | 'scheduled';

/** The requester's DM for one change. */
export function requesterDm(kind: DmKind, grant: Grant, opts: { startUrl?: string; session?: SessionTerms } = {}): SlackMessage {
  const what = targetText(grant);
  const last = grant.history.at(-1);
  const by = last ? escapeMrkdwn(last.actor.name) : 'someone';
  const detail = last?.detail ? `\n> ${escapeMrkdwn(last.detail)}` : '';
  const blocks: Block[] = [];
  let text: string;
  switch (kind) {
    case 'approved':
      text = `:white_check_mark: Your request for ${what} was approved by ${by}. Access is being set up.`;
      blocks.push(section(text + detail));
      break;
    case 'scheduled':
      text = `:calendar: Your request for ${what} was approved; access starts ${grant.startsAt ? slackDate(grant.startsAt) : 'later'}.`;
      blocks.push(section(text));
      break;
    case 'denied':
      text = `:x: Your request for ${what} was denied by ${by}.`;
      blocks.push(section(text + detail));
      break;
    case 'active': {
      const link = consoleLink(opts.startUrl, grant);
      text = `:large_green_circle: Your access to ${what} is active${grant.expiresAt ? ` until ${slackDate(grant.expiresAt)}` : ''}.`;
      blocks.push(section(text + (link ? `\n<${link}|Open the AWS console>` : '')));
      blocks.push({ type: 'actions', block_id: `active:${grant.id}`, elements: [button('End access now', ACTION.revoke, grant.id, 'danger')] });
      break;
    }
    case 'extended':
      text = `:arrows_clockwise: Your access to ${what} was extended${grant.expiresAt ? ` until ${slackDate(grant.expiresAt)}` : ''}.`;
      blocks.push(section(text));
      break;
    case 'expiry-warning':
      text = `:alarm_clock: Your access to ${what} ends ${grant.expiresAt ? slackDate(grant.expiresAt) : 'soon'}.`;
      blocks.push(section(text));
      blocks.push({
        type: 'actions',
        block_id: `expiring:${grant.id}`,
        elements: [
          button(`Extend by ${humanDuration(grant.duration)}`, ACTION.extend, `${grant.id}|${grant.duration}`, 'primary'),
          button('End access now', ACTION.revoke, grant.id, 'danger'),
        ],
      });
      break;
    case 'expired':
      text = `:white_circle: Your access to ${what} has expired.`;
      blocks.push(section(text));
      break;
    case 'revoked':
      text = `:no_entry: Your access to ${what} was revoked by ${by}${grant.revokeReason ? `: ${escapeMrkdwn(grant.revokeReason)}` : '.'}`;
      blocks.push(section(text));
      break;
    case 'failed':
      text = `:warning: Your access to ${what} could not be set up${grant.failureReason ? `: ${escapeMrkdwn(grant.failureReason)}` : '.'}`;
      blocks.push(section(text));
      break;
    case 'cancelled':
      text = `:heavy_multiplication_x: Your request for ${what} was cancelled.`;
      blocks.push(section(text));
      break;
    case 'approval-expired':
      text = `:zzz: Your request for ${what} expired before it was approved.`;
      blocks.push(section(text));
      break;
  }
  const sessions = ['active', 'extended', 'expiry-warning', 'expired', 'revoked'].includes(kind) ? sessionsText(opts.session) : undefined;
  if (sessions) blocks.push(context(sessions));
  blocks.push(context(`Grant \`${grant.id}\``));
  return { text, blocks };
}

export interface EphemeralMessage {
  response_type: 'ephemeral';
  text: string;
  blocks?: Block[];
  replace_original?: boolean;
}

export function ephemeral(text: string, blocks?: Block[]): EphemeralMessage {
  return { response_type: 'ephemeral', text, ...(blocks ? { blocks } : {}) };
}

export function requestResultMessage(grant: Grant, replayed: boolean): EphemeralMessage {
  const head =
    grant.status === 'PENDING_APPROVAL'
      ? `Requested ${targetText(grant)} for ${humanDuration(grant.duration)}. Waiting for ${grant.quorum} approval${grant.quorum === 1 ? '' : 's'}.`
      : `Requested ${targetText(grant)} for ${humanDuration(grant.duration)}: ${statusLabel(grant.status)}.`;
  const text = (replayed ? '(already submitted) ' : '') + head;
  return ephemeral(text, [section(text), context(`Grant \`${grant.id}\``)]);
}

export function grantListMessage(grants: Grant[], title: string, more: boolean): EphemeralMessage {
  if (grants.length === 0) return ephemeral(`${title}: nothing to show.`);
  const lines = grants.map(
    (g) =>
      `• \`${g.id}\` ${targetText(g)} — ${statusLabel(g.status)}${g.expiresAt && g.status === 'ACTIVE' ? `, until ${slackDate(g.expiresAt)}` : ''}${
        g.principal ? ` (${escapeMrkdwn(g.principal.userName)})` : ''
      }`,
  );
  const text = `*${title}*\n${lines.join('\n')}${more ? '\n…and more; use the portal for the full list.' : ''}`;
  return ephemeral(`${title}: ${grants.length}`, [section(text)]);
}

export function helpMessage(prefix?: string): EphemeralMessage {
  const text = (prefix ? `${prefix}\n\n` : '') + `*Usage*\n${USAGE}`;
  return ephemeral(prefix ?? 'How to use /jit', [section(text)]);
}

/** Option value of the modal's target select: compact and reversible (Slack caps values at 150 chars). */
export function encodeTargetOption(e: EligibleTarget): string {
  return e.target.type === 'account' ? `a|${e.target.accountId}|${e.target.permissionSet}` : `g|${e.target.group}`;
}

export function decodeTargetOption(value: string): { type: 'account'; accountId: string; permissionSet: string } | { type: 'group'; group: string } | undefined {
  const [kind, a, b] = value.split('|');
  if (kind === 'a' && a && b) return { type: 'account', accountId: a, permissionSet: b };
  if (kind === 'g' && a) return { type: 'group', group: value.slice(2) };
  return undefined;
}

function eligibleLabel(e: EligibleTarget): string {
  const t = e.target;
  const base = t.type === 'account' ? `${t.permissionSet} on ${t.accountName ? `${t.accountName} (${t.accountId})` : t.accountId}` : `group ${t.group}`;
  return e.approvalRequired === false ? `${base} (no approval)` : base;
}

export const MAX_MODAL_OPTIONS = 100;

export function requestModal(eligible: EligibleTarget[], privateMetadata: string): ModalView {
  if (eligible.length === 0) {
    return {
      type: 'modal',
      callback_id: CALLBACK.request,
      title: plain('Request access'),
      close: plain('Close'),
      blocks: [section('There is nothing you may request. Ask an administrator to add you to a policy rule.')],
    };
  }
  const options = eligible.slice(0, MAX_MODAL_OPTIONS).map((e) => ({ text: plain(eligibleLabel(e)), value: encodeTargetOption(e) }));
  const defaultDuration = eligible[0]?.defaultDuration;
  const bounds = [...new Set(eligible.map((e) => e.maxDuration).filter((d): d is string => !!d))];
  return {
    type: 'modal',
    callback_id: CALLBACK.request,
    private_metadata: privateMetadata,
    title: plain('Request access'),
    submit: plain('Request'),
    close: plain('Cancel'),
    blocks: [
      {
        type: 'input',
        block_id: REQUEST_FIELDS.target,
        label: plain('Access'),
        element: { type: 'static_select', action_id: REQUEST_FIELDS.target, placeholder: plain('Account and permission set, or group'), options },
      },
      {
        type: 'input',
        block_id: REQUEST_FIELDS.duration,
        label: plain('Duration'),
        hint: plain(`e.g. 30m, 2h, 1d${bounds.length === 1 ? ` (at most ${humanDuration(bounds[0]!)})` : ''}`),
        element: {
          type: 'plain_text_input',
          action_id: REQUEST_FIELDS.duration,
          ...(defaultDuration ? { initial_value: humanDuration(defaultDuration).replace(/ /g, '') } : {}),
        },
      },
      {
        type: 'input',
        block_id: REQUEST_FIELDS.justification,
        label: plain('Justification'),
        element: { type: 'plain_text_input', action_id: REQUEST_FIELDS.justification, multiline: true, max_length: TEXT_LIMITS.justification },
      },
      {
        type: 'input',
        block_id: REQUEST_FIELDS.ticket,
        optional: true,
        label: plain('Ticket'),
        element: { type: 'plain_text_input', action_id: REQUEST_FIELDS.ticket, max_length: TEXT_LIMITS.ticket },
      },
      ...(eligible.length > MAX_MODAL_OPTIONS ? [context(`Showing the first ${MAX_MODAL_OPTIONS}; use \`/jit request\` for the rest.`)] : []),
    ],
  };
}

export function requestSubmittedView(grant: Grant, replayed: boolean): ModalView {
  return {
    type: 'modal',
    callback_id: 'jit_request_done',
    title: plain('Request access'),
    close: plain('Done'),
    blocks: [section(requestResultMessage(grant, replayed).text), context(`Grant \`${grant.id}\``)],
  };
}

export interface DecisionMetadata {
  grantId: string;
  decision: 'approve' | 'deny';
  /** Where the button was clicked, so a refusal can be shown there. */
  channel?: string;
  responseUrl?: string;
}

export function decisionModal(meta: DecisionMetadata, summary: string): ModalView {
  const approve = meta.decision === 'approve';
  return {
    type: 'modal',
    callback_id: CALLBACK.decision,
    private_metadata: JSON.stringify(meta),
    title: plain(approve ? 'Approve request' : 'Deny request'),
    submit: plain(approve ? 'Approve' : 'Deny'),
    close: plain('Cancel'),
    blocks: [
      section(escapeMrkdwn(summary)),
      {
        type: 'input',
        block_id: 'comment',
        optional: true,
        label: plain(approve ? 'Comment' : 'Reason'),
        element: { type: 'plain_text_input', action_id: 'comment', multiline: true, max_length: TEXT_LIMITS.comment },
      },
    ],
  };
}
