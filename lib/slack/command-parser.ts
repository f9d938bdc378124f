/**
 * Parses the text of the `/jit` slash command. Pure: resolving account names
 * against the caller's eligibility happens later (resolveRequestTarget).
 */
import { GRANT_ID_PATTERN } from '../domain/grant.ts';
import { formatDuration, parseDuration } from '../domain/duration.ts';
import type { EligibleTarget, ListView, RequestTargetInput } from './service.ts';

export type JitCommand =
  | { kind: 'open-modal' }
  | { kind: 'help' }
  | { kind: 'list'; view: Exclude<ListView, 'all'> }
  | { kind: 'revoke'; grantId: string; reason?: string }
  | {
      kind: 'request';
      /** `account` form names an account (id or name) and a permission set; `group` form names a group. */
      target: { type: 'account'; account: string; permissionSet: string } | { type: 'group'; group: string };
      duration: string;
      justification: string;
      ticket?: string;
    };

export type ParseResult = { ok: true; command: JitCommand } | { ok: false; error: string };

export const USAGE = [
  '`/jit` — open the request form',
  '`/jit request <account id or name> <permission set> <duration> <justification…>`',
  '`/jit request group <group> <duration> <justification…>`',
  '`/jit list [mine|approvals|active]` — your grants, or requests waiting for you',
  '`/jit revoke <grant id> [reason…]`',
  '`/jit help`',
  'Durations: `30m`, `2h`, `1h30m`, `1d` or ISO 8601 (`PT2H`). Quote names with spaces: `"Data Lake Prod"`. Add `ticket:ABC-123` to link a ticket.',
].join('\n');

/** Slack escapes these three in command text. */
function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Splits on whitespace; straight or curly double quotes group words. */
export function tokenize(text: string): { tokens: string[]; error?: string } {
  const tokens: string[] = [];
  const re = /"([^"]*)"|“([^”]*)”|(\S+)/g;
  const normalized = unescapeSlack(text).trim();
  let m: RegExpExecArray | null;
  while ((m = re.exec(normalized))) tokens.push(m[1] ?? m[2] ?? m[3] ?? '');
  const quotes = (normalized.match(/"/g) ?? []).length;
  if (quotes % 2 === 1 || (normalized.match(/“/g) ?? []).length !== (normalized.match(/”/g) ?? []).length)
    return { tokens, error: 'a quoted name is not closed' };
  return { tokens };
}

/** `90m`, `2h`, `1h30m`, `1d`, `1d12h` or an ISO 8601 duration → ISO 8601; undefined when not a duration. */
export function parseDurationInput(text: string): string | undefined {
  const upper = text.toUpperCase();
  if (upper.startsWith('P')) return parseDuration(upper) ? upper : undefined;
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?:in)?)?$/i.exec(text);
  if (!m || !(m[1] || m[2] || m[3])) return undefined;
  const ms = ((Number(m[1] ?? 0) * 24 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 60_000;
  return ms > 0 ? formatDuration(ms) : undefined;
}

const LIST_VIEWS = ['mine', 'approvals', 'active'] as const;

export function parseJitCommand(text: string): ParseResult {
  const { tokens, error } = tokenize(text);
  if (error) return { ok: false, error: `That command is not valid: ${error}.` };
  const [verb, ...args] = tokens;
  if (verb === undefined) return { ok: true, command: { kind: 'open-modal' } };
  switch (verb.toLowerCase()) {
    case 'help':
      return { ok: true, command: { kind: 'help' } };
    case 'list': {
      const view = (args[0] ?? 'mine').toLowerCase();
      if (args.length > 1 || !(LIST_VIEWS as readonly string[]).includes(view))
        return { ok: false, error: `\`/jit list\` takes one of ${LIST_VIEWS.join(', ')}; got \`${args.join(' ')}\`.` };
      return { ok: true, command: { kind: 'list', view: view as (typeof LIST_VIEWS)[number] } };
    }
    case 'revoke': {
      const [id, ...reason] = args;
      if (!id) return { ok: false, error: '`/jit revoke` needs a grant id, e.g. `/jit revoke 01J9Z3Y4N6A8B2C4D6E8F0G2H4`.' };
      const grantId = id.toUpperCase();
      if (!GRANT_ID_PATTERN.test(grantId)) return { ok: false, error: `\`${id}\` is not a grant id (26 characters, like \`01J9Z3Y4N6A8B2C4D6E8F0G2H4\`).` };
      const text = reason.join(' ').trim();
      return { ok: true, command: { kind: 'revoke', grantId, ...(text ? { reason: text } : {}) } };
    }
    case 'request':
      return parseRequest(args);
    default:
      return { ok: false, error: `Unknown subcommand \`${verb}\`.` };
  }
}

function parseRequest(args: string[]): ParseResult {
  let ticket: string | undefined;
  const rest = args.filter((a) => {
    const m = /^ticket[:=](\S+)$/i.exec(a);
    if (m) ticket = m[1];
    return !m;
  });
  let target: Extract<JitCommand, { kind: 'request' }>['target'];
  let durationText: string | undefined;
  let words: string[];
  if (rest[0]?.toLowerCase() === 'group') {
    const [, group, d, ...j] = rest;
    if (!group) return { ok: false, error: '`/jit request group` needs a group name, a duration and a justification.' };
    target = { type: 'group', group };
    durationText = d;
    words = j;
  } else if (rest[0] && rest[1] && parseDurationInput(rest[1])) {
    // `<group> <duration> …`: the second word is a duration, so there is no permission set.
    target = { type: 'group', group: rest[0] };
    durationText = rest[1];
    words = rest.slice(2);
  } else {
    const [account, permissionSet, d, ...j] = rest;
    if (!account || !permissionSet)
      return { ok: false, error: '`/jit request` needs an account, a permission set (or `group <name>`), a duration and a justification.' };
    target = { type: 'account', account, permissionSet };
    durationText = d;
    words = j;
  }
  if (!durationText) return { ok: false, error: 'The duration is missing (e.g. `2h`).' };
  const duration = parseDurationInput(durationText);
  if (!duration) return { ok: false, error: `\`${durationText}\` is not a duration; use e.g. \`30m\`, \`2h\` or \`PT2H\`.` };
  const justification = words.join(' ').trim();
  if (!justification) return { ok: false, error: 'Say why you need access: add a justification after the duration.' };
  return { ok: true, command: { kind: 'request', target, duration, justification, ...(ticket ? { ticket } : {}) } };
}

export type ResolveResult = { ok: true; target: RequestTargetInput } | { ok: false; error: string };

/** Maps the account the user typed (id or name, any case) to an id, using what the caller is eligible for. */
export function resolveRequestTarget(
  target: Extract<JitCommand, { kind: 'request' }>['target'],
  eligible: EligibleTarget[],
): ResolveResult {
  if (target.type === 'group') {
    const match = eligible.find((e) => e.target.type === 'group' && e.target.group.toLowerCase() === target.group.toLowerCase());
    // An unknown group still goes to the service, which gives the authoritative refusal.
    return { ok: true, target: { type: 'group', group: match?.target.type === 'group' ? match.target.group : target.group } };
  }
  if (/^\d{12}$/.test(target.account)) return { ok: true, target: { type: 'account', accountId: target.account, permissionSet: target.permissionSet } };
  const wanted = target.account.toLowerCase();
  const ids = new Set(
    eligible.flatMap((e) => (e.target.type === 'account' && e.target.accountName?.toLowerCase() === wanted ? [e.target.accountId] : [])),
  );
  if (ids.size === 0) return { ok: false, error: `No account named \`${target.account}\` among the accounts you may request. Use its 12-digit id, or run \`/jit\` to see the list.` };
  if (ids.size > 1) return { ok: false, error: `More than one account is named \`${target.account}\` (${[...ids].join(', ')}); use the account id.` };
  return { ok: true, target: { type: 'account', accountId: [...ids][0]!, permissionSet: target.permissionSet } };
}
