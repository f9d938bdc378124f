/**
 * Parses the text of the `/jit` slash command: Slack's syntax (words, quotes,
 * `ticket:`, friendly durations) into the fields the HTTP API takes, held to its
 * schemas (lib/slack/inputs.ts) before anything is read. Pure: resolving account
 * names against the caller's eligibility happens later (resolveRequestTarget).
 */
import { fieldErrorsText, parseDurationInput, requestFieldsFromCommand, revokeFromCommand, type CommandRequestFields } from './inputs.ts';
import type { EligibleTarget, ListView, RequestTargetInput } from './service.ts';

/** The target as typed: an account (id or name) and a permission set, or a group. */
export type TypedTarget = { type: 'account'; account: string; permissionSet: string } | { type: 'group'; group: string };

export type JitCommand =
  | { kind: 'open-modal' }
  | { kind: 'help' }
  | { kind: 'list'; view: Exclude<ListView, 'all'> }
  | { kind: 'revoke'; grantId: string; reason?: string }
  | ({ kind: 'request'; target: TypedTarget } & CommandRequestFields);

export type ParseResult = { ok: true; command: JitCommand } | { ok: false; error: string };

/** Echoes what the user typed, short. */
function shown(text: string, max = 60): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

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
        return { ok: false, error: `\`/jit list\` takes one of ${LIST_VIEWS.join(', ')}; got \`${shown(args.join(' '))}\`.` };
      return { ok: true, command: { kind: 'list', view: view as (typeof LIST_VIEWS)[number] } };
    }
    case 'revoke': {
      const [id, ...reason] = args;
      if (!id) return { ok: false, error: '`/jit revoke` needs a grant id, e.g. `/jit revoke 01J9Z3Y4N6A8B2C4D6E8F0G2H4`.' };
      const text = reason.join(' ').trim();
      const checked = revokeFromCommand(id, text || undefined);
      if (checked.ok) return { ok: true, command: { kind: 'revoke', ...checked.value } };
      if (checked.errors.some((e) => e.field === 'id')) return { ok: false, error: `\`${shown(id)}\` is not a grant id (26 characters, like \`01J9Z3Y4N6A8B2C4D6E8F0G2H4\`).` };
      return { ok: false, error: fieldErrorsText(checked.errors) };
    }
    case 'request':
      return parseRequest(args);
    default:
      return { ok: false, error: `Unknown subcommand \`${shown(verb)}\`.` };
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
  const typed = { duration: durationText, justification: words.join(' '), ...(ticket !== undefined ? { ticket } : {}) };
  const fields = requestFieldsFromCommand(typed);
  if (!fields.ok) return { ok: false, error: fieldErrorsText(fields.errors, typed) };
  return { ok: true, command: { kind: 'request', target, ...fields.value } };
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
  if (ids.size === 0) return { ok: false, error: `No account named \`${shown(target.account)}\` among the accounts you may request. Use its 12-digit id, or run \`/jit\` to see the list.` };
  if (ids.size > 1) return { ok: false, error: `More than one account is named \`${shown(target.account)}\` (${[...ids].join(', ')}); use the account id.` };
  return { ok: true, target: { type: 'account', accountId: [...ids][0]!, permissionSet: target.permissionSet } };
}
