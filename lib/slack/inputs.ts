/**
 * Slack's shapes mapped onto the HTTP API's request schemas (lib/http/schemas.ts): a
 * slash command, a modal's state or a button's value becomes the body the HTTP API
 * would take, and the same zod schema decides, so a limit or rule changed there holds
 * here too. What is Slack's own (friendly durations like `2h`, an empty optional input
 * arriving as null, a button value packing two fields) is mapped here and nowhere else.
 *
 * The Slack envelopes (interaction payloads, slash command forms) are parsed with the
 * schemas below too; anything else is an unsupported interaction, never half-read.
 */
import * as z from 'zod';
import { formatDuration, parseDuration } from '../domain/duration.ts';
import type { FieldError } from '../errors.ts';
import { validationErrorFrom } from '../http/problem.ts';
import {
  createGrantBodySchema,
  decisionBodySchema,
  extendBodySchema,
  grantIdParamsSchema,
  idempotencyKeySchema,
  revokeBodySchema,
} from '../http/schemas.ts';
import { ACTION, CALLBACK, decodeTargetOption, REQUEST_FIELDS, type DecisionMetadata } from './views.ts';

export type Checked<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };
export type GrantRequestBody = z.output<typeof createGrantBodySchema>;

/** Validates a candidate HTTP body; fields are named as in the body (`justification`, `target.accountId`). */
export function check<T>(schema: z.ZodType<T>, candidate: unknown): Checked<T> {
  const result = schema.safeParse(candidate);
  if (result.success) return { ok: true, value: result.data };
  const fields = validationErrorFrom('body', result.error).fields ?? [];
  return { ok: false, errors: fields.map((f) => ({ field: f.field.replace(/^body\.?/, '') || 'body', message: f.message })) };
}

// ---- durations -------------------------------------------------------------------

/** `90m`, `2h`, `1h30m`, `1d`, `1d12h` or an ISO 8601 duration in any case → ISO 8601; undefined when not a duration. */
export function parseDurationInput(text: string): string | undefined {
  const upper = text.toUpperCase();
  if (upper.startsWith('P')) return parseDuration(upper) ? upper : undefined;
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?:in)?)?$/i.exec(text);
  if (!m || !(m[1] || m[2] || m[3])) return undefined;
  const ms = ((Number(m[1] ?? 0) * 24 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 60_000;
  return ms > 0 && Number.isSafeInteger(ms) ? formatDuration(ms) : undefined;
}

/** A duration as a Slack user types it, as the ISO 8601 text the schema takes; anything else passes unchanged, for the schema to refuse. */
export function durationFromSlack(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  return parseDurationInput(text) ?? text;
}

/** Slack sends an optional input left empty as null (or leaves it out): absent, as in an HTTP body. */
function absentIfEmpty(value: unknown): unknown {
  return value === null || value === '' ? undefined : value;
}

// ---- how refusals read in Slack ----------------------------------------------------

function clip(text: string, max = 60): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const isMissing = (e: FieldError) => /^(is required|must not be empty)$/.test(e.message);

/** One refused field as a sentence for an ephemeral answer; `typed` is what the user typed for it. */
export function fieldErrorLine(e: FieldError, typed?: unknown): string {
  if (e.field === 'duration' && typeof typed === 'string' && typed.trim()) {
    return `\`${clip(typed.trim())}\` is not a duration; use e.g. \`30m\`, \`2h\` or \`PT2H\`.`;
  }
  if (e.field === 'justification' && isMissing(e)) return 'Say why you need access: add a justification after the duration.';
  return `\`${e.field}\` ${e.message}.`;
}

export function fieldErrorsText(errors: FieldError[], typed: Record<string, unknown> = {}): string {
  const lines = [...new Set(errors.map((e) => fieldErrorLine(e, typed[e.field])))];
  return lines.length === 1 ? lines[0]! : `That is not valid:\n${lines.map((l) => `• ${l}`).join('\n')}`;
}

/** Slack shows a view_submission error under its block; it reads as a sentence about that field. */
function modalMessage(e: FieldError, typed: unknown): string {
  if (e.field === 'duration' && typeof typed === 'string' && typed.trim()) return `“${clip(typed.trim())}” is not a duration; use e.g. 30m, 2h or 1d.`;
  if (e.field === 'justification' && isMissing(e)) return 'Say why you need access.';
  return `${e.message.charAt(0).toUpperCase()}${e.message.slice(1)}.`;
}

/** The request modal's block a field of the body is shown under. */
export function requestBlockOf(field: string): string {
  const top = field.split('.')[0] ?? '';
  if (top === 'duration' || top === 'startsAt') return REQUEST_FIELDS.duration;
  if (top === 'justification') return REQUEST_FIELDS.justification;
  if (top === 'ticket') return REQUEST_FIELDS.ticket;
  return REQUEST_FIELDS.target;
}

// ---- slash commands ----------------------------------------------------------------

const slackIdSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'is not a Slack id');
/** Trigger and view ids: short printable tokens, so `slack:<id>` is a valid Idempotency-Key. */
const opaqueIdSchema = z.string().regex(/^[\x21-\x7e]{1,200}$/, 'is not an id Slack issues');

// No cap on the text itself: the fields it holds are held to their own limits, and a refusal names the field.
const slashCommandSchema = z.object({
  user_id: slackIdSchema,
  text: z.string(),
  trigger_id: opaqueIdSchema.optional(),
  channel_id: slackIdSchema.optional(),
});
export type SlashCommandForm = z.output<typeof slashCommandSchema>;

/** The fields of a slash command's form the app reads. */
export function parseSlashCommandForm(form: URLSearchParams): Checked<SlashCommandForm> {
  const field = (name: string) => form.get(name) ?? undefined;
  return check(slashCommandSchema, {
    user_id: field('user_id'),
    text: field('text') ?? '',
    trigger_id: field('trigger_id'),
    channel_id: field('channel_id'),
  });
}

/**
 * The Idempotency-Key a Slack request files its grant under (`slack:<trigger_id>`,
 * `slack:view:<view id>`), held to the HTTP header's rule: a resent request is
 * answered with the first grant. No id, no key.
 */
export function slackIdempotencyKey(prefix: 'slack:' | 'slack:view:', id: string | undefined): Checked<string | undefined> {
  if (id === undefined) return { ok: true, value: undefined };
  const key = `${prefix}${id}`;
  const checked = check(idempotencyKeySchema, key);
  return checked.ok ? checked : { ok: false, errors: [{ field: prefix === 'slack:' ? 'trigger_id' : 'view.id', message: 'is not an id Slack issues' }] };
}

/** The fields of `/jit request` other than the target, checked before any read. */
const requestFieldsSchema = createGrantBodySchema.omit({ target: true, startsAt: true });

export interface CommandRequestFields {
  duration: string;
  justification: string;
  ticket?: string;
}

export function requestFieldsFromCommand(typed: { duration: string; justification: string; ticket?: string }): Checked<CommandRequestFields> {
  return check(requestFieldsSchema, {
    duration: durationFromSlack(typed.duration),
    justification: typed.justification,
    ...(typed.ticket !== undefined ? { ticket: typed.ticket } : {}),
  });
}

/** The whole `/jit request` once its target is resolved: exactly what POST /grants would take. */
export function grantRequestFromCommand(target: unknown, fields: CommandRequestFields): Checked<GrantRequestBody> {
  return check(createGrantBodySchema, { target, ...fields });
}

/** `/jit revoke <id> [reason…]`: the id as POST /grants/{id}/revoke's path, the reason as its body. */
export function revokeFromCommand(id: string, reason: string | undefined): Checked<{ grantId: string; reason?: string }> {
  const params = check(grantIdParamsSchema, { id: id.toUpperCase() });
  const body = reason === undefined ? undefined : check(revokeBodySchema, { reason });
  if (params.ok && (!body || body.ok)) return { ok: true, value: { grantId: params.value.id, ...(body?.ok ? { reason: body.value.reason } : {}) } };
  return { ok: false, errors: [...(params.ok ? [] : params.errors), ...(body && !body.ok ? body.errors : [])] };
}

// ---- interactions ------------------------------------------------------------------

const responseUrlSchema = z.url({ protocol: /^https?$/ }).max(2048);

const blockActionsSchema = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: slackIdSchema }),
  trigger_id: opaqueIdSchema.nullish(),
  response_url: responseUrlSchema.nullish(),
  channel: z.object({ id: slackIdSchema }).nullish(),
  // A value's shape is the button's business: it is checked against the route it stands for.
  actions: z.array(z.object({ action_id: z.string().max(255), value: z.unknown().optional() })).min(1),
});
export type BlockActionsPayload = z.output<typeof blockActionsSchema>;

// Each block's shape is read field by field below, so a bad one is refused under its own name.
const stateValuesSchema = z.record(z.string(), z.unknown());
export type ViewStateValues = z.output<typeof stateValuesSchema>;

const viewSubmissionSchema = z.object({
  type: z.literal('view_submission'),
  user: z.object({ id: slackIdSchema }),
  view: z.object({
    id: opaqueIdSchema,
    callback_id: z.string().max(255),
    private_metadata: z.string().max(3000).nullish(),
    state: z.object({ values: stateValuesSchema }),
  }),
});
export type ViewSubmissionPayload = z.output<typeof viewSubmissionSchema>;

type OurCallback = (typeof CALLBACK)[keyof typeof CALLBACK];

export type Interaction =
  | { kind: 'block_actions'; payload: BlockActionsPayload }
  | { kind: 'view_submission'; payload: ViewSubmissionPayload }
  /** A submission of one of our modals in a shape we do not read: refused on the modal. */
  | { kind: 'malformed_view'; callbackId: OurCallback; reason: string }
  | { kind: 'unsupported'; reason: string };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isOurCallback = (v: unknown): v is OurCallback => v === CALLBACK.request || v === CALLBACK.decision;

function issuesText(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`)
    .join('; ');
}

/** The `payload` field of an interaction request, as one of the shapes the app accepts. */
export function parseInteraction(body: string): Interaction {
  let payload: unknown;
  try {
    payload = JSON.parse(new URLSearchParams(body).get('payload') ?? '');
  } catch {
    return { kind: 'unsupported', reason: 'payload is not JSON' };
  }
  const type = isRecord(payload) ? payload.type : undefined;
  if (type === 'block_actions') {
    const parsed = blockActionsSchema.safeParse(payload);
    return parsed.success ? { kind: 'block_actions', payload: parsed.data } : { kind: 'unsupported', reason: `block_actions: ${issuesText(parsed.error)}` };
  }
  if (type === 'view_submission') {
    const parsed = viewSubmissionSchema.safeParse(payload);
    if (parsed.success) return { kind: 'view_submission', payload: parsed.data };
    const callbackId = isRecord(payload) && isRecord(payload.view) ? payload.view.callback_id : undefined;
    const reason = `view_submission: ${issuesText(parsed.error)}`;
    return isOurCallback(callbackId) ? { kind: 'malformed_view', callbackId, reason } : { kind: 'unsupported', reason };
  }
  // view_closed, shortcuts and the rest: not something this app offers.
  return { kind: 'unsupported', reason: `type ${typeof type === 'string' ? clip(type, 40) : typeof type}` };
}

/** Where the modal shows a refusal of the submission as a whole. */
export const MODAL_FIRST_BLOCK: Record<OurCallback, string> = { [CALLBACK.request]: REQUEST_FIELDS.target, [CALLBACK.decision]: 'comment' };
export const MALFORMED_VIEW_MESSAGE = 'Slack sent this form in a shape this app does not read. Close it and try again.';

// ---- buttons -----------------------------------------------------------------------

export type ButtonInput =
  | { action: 'approve' | 'approveWithComment' | 'deny' | 'revoke'; grantId: string }
  | { action: 'extend'; grantId: string; duration: string };

const BUTTONS: Record<string, ButtonInput['action']> = {
  [ACTION.approve]: 'approve',
  [ACTION.approveWithComment]: 'approveWithComment',
  [ACTION.deny]: 'deny',
  [ACTION.revoke]: 'revoke',
  [ACTION.extend]: 'extend',
};

/**
 * A button's value as the route it stands for would take it: the grant id as the path's
 * `{id}`; Extend packs `<id>|<duration>`, the duration being POST /grants/{id}/extend's body.
 * Undefined for a button this app did not draw.
 */
export function buttonInput(action: { action_id: string; value?: unknown }): Checked<ButtonInput> | undefined {
  const kind = BUTTONS[action.action_id];
  if (!kind) return undefined;
  if (kind !== 'extend') {
    const params = check(grantIdParamsSchema, { id: action.value });
    return params.ok ? { ok: true, value: { action: kind, grantId: params.value.id } } : params;
  }
  const [id, duration, ...rest] = typeof action.value === 'string' ? action.value.split('|') : [];
  const params = check(grantIdParamsSchema, { id });
  const body = check(extendBodySchema, { duration });
  if (params.ok && body.ok && rest.length === 0) return { ok: true, value: { action: kind, grantId: params.value.id, duration: body.value.duration } };
  return { ok: false, errors: [...(params.ok ? [] : params.errors), ...(body.ok ? [] : body.errors), ...(rest.length ? [{ field: 'value', message: 'is not <grant id>|<duration>' }] : [])] };
}

// ---- modals ------------------------------------------------------------------------

/** An input element's value (plain_text_input), or a select's chosen option value; `block_id` = `action_id` in our modals. */
function element(values: ViewStateValues, id: string): unknown {
  const block = values[id];
  return isRecord(block) ? block[id] : undefined;
}

function inputValue(values: ViewStateValues, id: string): unknown {
  const input = element(values, id);
  return isRecord(input) ? input.value : undefined;
}

function selectedValue(values: ViewStateValues, id: string): unknown {
  const select = element(values, id);
  return isRecord(select) && isRecord(select.selected_option) ? select.selected_option.value : undefined;
}

export type ModalChecked<T> = { ok: true; value: T } | { ok: false; errors: Record<string, string> };

function byBlock(errors: FieldError[], blockOf: (field: string) => string, messageOf: (e: FieldError) => string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of errors) out[blockOf(e.field)] ??= messageOf(e).slice(0, 300);
  return out;
}

/** The request modal's state as POST /grants's body. */
export function grantRequestFromView(values: ViewStateValues): ModalChecked<GrantRequestBody> {
  const selected = selectedValue(values, REQUEST_FIELDS.target);
  const target = typeof selected === 'string' ? decodeTargetOption(selected) : undefined;
  const typed = {
    duration: inputValue(values, REQUEST_FIELDS.duration),
    justification: absentIfEmpty(inputValue(values, REQUEST_FIELDS.justification)),
    ticket: absentIfEmpty(inputValue(values, REQUEST_FIELDS.ticket)),
  };
  const checked = check(createGrantBodySchema, { target, ...typed, duration: durationFromSlack(absentIfEmpty(typed.duration)) });
  if (checked.ok) return checked;
  return {
    ok: false,
    errors: byBlock(checked.errors, requestBlockOf, (e) =>
      requestBlockOf(e.field) === REQUEST_FIELDS.target && !target ? 'Choose what you need access to.' : modalMessage(e, typed[e.field as keyof typeof typed]),
    ),
  };
}

const decisionMetadataSchema = z.object({
  grantId: grantIdParamsSchema.shape.id,
  decision: z.enum(['approve', 'deny']),
  channel: z.string().optional(),
  responseUrl: z.string().optional(),
});

/** The decision modal: which grant and decision (our private_metadata) and the comment, as POST /grants/{id}/approve|deny's body. */
export function decisionFromView(view: ViewSubmissionPayload['view']): ModalChecked<{ meta: DecisionMetadata; comment?: string }> {
  let metadata: unknown;
  try {
    metadata = JSON.parse(view.private_metadata ?? '');
  } catch {
    metadata = undefined;
  }
  const meta = decisionMetadataSchema.safeParse(metadata);
  if (!meta.success) return { ok: false, errors: { comment: 'This form does not say which request it decides. Close it and use the buttons on the request again.' } };
  const comment = absentIfEmpty(inputValue(view.state.values, 'comment'));
  const body = check(decisionBodySchema, comment === undefined ? {} : { comment });
  if (!body.ok) return { ok: false, errors: byBlock(body.errors, () => 'comment', (e) => modalMessage(e, comment)) };
  return { ok: true, value: { meta: meta.data, ...(body.value.comment ? { comment: body.value.comment } : {}) } };
}
