/**
 * The HTTP contract: every request schema the handlers validate with. The
 * OpenAPI document (lib/http/openapi.ts) is generated from these same schemas,
 * whose documentation rides on zod's own `.meta()` so that handlers do not
 * bundle the generator. Routes are declared in serverless.yml; `OPERATIONS`
 * mirrors them for the document, and a test checks that the two agree.
 */
import * as z from 'zod';
import { isDuration, parseDuration } from '../domain/duration.ts';
import { GRANT_ID_PATTERN, GRANT_STATUSES } from '../domain/grant.ts';
import { grantEventSchema } from '../events/grant-event.ts';
import { MAX_CURSOR_LENGTH } from './cursor.ts';

const DURATION_MESSAGE = 'must be a positive ISO 8601 duration such as PT30M, PT8H or P1D';

export const durationSchema = z
  .string({ error: DURATION_MESSAGE })
  .max(32, 'must be at most 32 characters')
  .refine((d) => isDuration(d) && (parseDuration(d) ?? 0) > 0, DURATION_MESSAGE)
  .meta({ example: 'PT1H', description: 'ISO 8601 duration (days, hours, minutes, seconds)' });

export const accountTargetSchema = z
  .strictObject({
    type: z.literal('account'),
    accountId: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id').meta({ example: '111122223333' }),
    permissionSet: z
      .string()
      .regex(/^[\w+=,.@-]{1,32}$/, 'must be a permission set name (1-32 of letters, digits and +=,.@_-)')
      .meta({ example: 'ReadOnlyAccess' }),
  })
  .meta({ id: 'AccountTarget' });

/**
 * Field limits every entry point shares: the HTTP API validates with the schemas below,
 * and Slack's commands and modals map their input onto the same schemas (lib/slack/inputs.ts)
 * and size their inputs from these numbers.
 */
export const TEXT_LIMITS = { justification: 1000, ticket: 128, comment: 1000, reason: 1000, group: 1024 } as const;

/**
 * C0 and C1 control characters and DEL, except the tab and line breaks ordinary text
 * holds. Text that contains one is refused, not cleaned: what is stored, shown to
 * approvers and written to the audit trail is exactly what the caller sent.
 */
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
/** A lone UTF-16 surrogate is not text: DynamoDB and Slack both refuse it. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Free text as every entry point accepts it: trimmed, not empty, at most `max` characters, no control characters. */
export const textSchema = (max: number) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be text') })
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !CONTROL_CHARACTERS.test(s), 'must not contain control characters (tab and line breaks are fine)')
    .refine((s) => !LONE_SURROGATE.test(s), 'must be valid Unicode text');

export const groupTargetSchema = z
  .strictObject({
    type: z.literal('group'),
    group: textSchema(TEXT_LIMITS.group).meta({ example: 'BreakGlass' }),
  })
  .meta({ id: 'GroupTarget' });

export const targetSchema = z.discriminatedUnion('type', [accountTargetSchema, groupTargetSchema], {
  error: 'must be {"type":"account", accountId, permissionSet} or {"type":"group", group}',
});

export const createGrantBodySchema = z
  .strictObject({
    target: targetSchema,
    duration: durationSchema,
    justification: textSchema(TEXT_LIMITS.justification),
    ticket: textSchema(TEXT_LIMITS.ticket).optional(),
    startsAt: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time such as 2026-01-31T09:00:00Z' }).optional(),
  })
  .meta({ id: 'GrantRequest' });

export const decisionBodySchema = z.strictObject({ comment: textSchema(TEXT_LIMITS.comment).optional() }).meta({ id: 'Decision' });
export const revokeBodySchema = z.strictObject({ reason: textSchema(TEXT_LIMITS.reason) }).meta({ id: 'Revocation' });
export const extendBodySchema = z.strictObject({ duration: durationSchema }).meta({ id: 'Extension' });
export const emptyBodySchema = z.strictObject({});

export const grantIdParamsSchema = z.strictObject({
  id: z.string().regex(GRANT_ID_PATTERN, 'must be a grant id (26-character ULID)').meta({ example: '01JD2X7Q8R9S0T1V2W3X4Y5Z6A' }),
});

export const listQuerySchema = z.strictObject({
  view: z.enum(['mine', 'approvals', 'active', 'all']).default('mine'),
  status: z.enum(GRANT_STATUSES).optional(),
  limit: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1).max(100).default(25),
  cursor: z
    .string()
    .min(1)
    .max(MAX_CURSOR_LENGTH)
    .optional()
    .meta({
      description:
        "The previous page's `cursor`, unchanged, with the same view and status. Cursors are signed, bound to the caller who received them and valid for 24 hours; any other value is a 400: start again from the first page.",
    }),
});

/** A date (`2026-11-01`, midnight UTC) or an instant with its offset (`2026-11-01T09:30:00Z`). */
const INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const instantSchema = (description: string) =>
  z
    .string()
    .refine((s) => INSTANT.test(s) && !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 date or instant with its offset, such as 2026-11-01 or 2026-11-01T09:30:00Z')
    .optional()
    .meta({ description });

export const auditQuerySchema = z.strictObject({
  from: instantSchema('Start of the range, inclusive (default: 30 days before `to`)'),
  to: instantSchema('End of the range, exclusive (default: now)'),
  user: z
    .string()
    .regex(/^[\w+=,.@-]{1,128}$/, 'must be a user name (1-128 of letters, digits and +=,.@_-)')
    .optional()
    .meta({ description: "Only this user's entries (the principal's user name, any case)" }),
  account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id').optional().meta({ description: 'Only entries of grants on this account' }),
  limit: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1).max(1000).default(100),
  cursor: z
    .string()
    .min(1)
    .max(MAX_CURSOR_LENGTH)
    .optional()
    .meta({ description: "The previous page's `cursor`, unchanged, with the same from, to, user and account. Signed, bound to the caller, valid for 24 hours." }),
});

/** GET /access: every filter optional; together they narrow (AND). */
export const accessQuerySchema = z.strictObject({
  account: z.string().regex(/^\d{12}$/, 'must be a 12-digit account id').optional(),
  user: z.string().min(1).max(256).optional().meta({ description: 'Email or user name' }),
  permissionSet: z.string().min(1).max(32).optional().meta({ description: 'Permission set name' }),
  group: z.string().min(1).max(TEXT_LIMITS.group).optional().meta({ description: 'Group display name: its memberships' }),
});

const passSchema = z.object({ passId: z.string(), strategy: z.enum(['per-account', 'per-principal']), startedAt: z.string(), runs: z.number() });
export const accessAnswerSchema = z
  .object({
    freshness: z.object({
      lastPass: passSchema.extend({ finishedAt: z.string(), calls: z.number(), drift: z.number() }).optional().meta({ description: 'The last finished reconcile pass: the inventory is as fresh as its finish' }),
      currentPass: passSchema.extend({ unitsDone: z.number(), unitsTotal: z.number() }).optional().meta({ description: 'The pass under way and how far it has come' }),
    }),
    items: z.array(
      z.object({
        why: z.enum(['jit', 'permanent']).meta({ description: '`jit`: created by this system for the grants listed; `permanent`: access this system did not create' }),
        principal: z.object({ type: z.enum(['USER', 'GROUP']), id: z.string(), name: z.string().optional() }),
        account: z.object({ id: z.string(), name: z.string().optional() }).optional(),
        permissionSet: z.string().optional(),
        group: z.object({ id: z.string(), name: z.string().optional() }).optional(),
        grants: z.array(z.object({ id: z.string(), status: z.string(), until: z.string().optional() })),
        lastSeen: z.string().optional().meta({ description: 'When the reconciler last saw it in Identity Center; absent for access granted since it last looked' }),
        scimIssuer: z.string().optional().meta({ description: 'The group is provisioned by SCIM from this identity provider, whose next push may undo a membership added here' }),
      }),
    ),
  })
  .meta({ id: 'AccessInventory' });

export const idempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, 'must be 1-255 printable ASCII characters without spaces')
  .optional();

// ---- response shapes (documentation) ------------------------------------------

const actorSchema = z.object({ id: z.string(), name: z.string() });

/** What happens to the role sessions a grant issued once it ends (account targets). */
export const sessionTermsSchema = z
  .object({
    duration: z.string().meta({ description: "The permission set's SessionDuration (ISO 8601): how long a session issued under the grant lasts", example: 'PT8H' }),
    revocation: z.enum(['scp', 'off', 'not-applicable-management-account']).meta({
      description: 'scp: sessions issued before the access ended are refused within seconds (service control policy); off: they last their SessionDuration; the management account is not covered by SCPs',
    }),
    note: z.string().meta({ description: 'The same in a plain sentence' }),
  })
  .meta({ id: 'SessionTerms' });
const statusSchema = z.enum(GRANT_STATUSES).meta({ id: 'GrantStatus' });

export const grantSchema = z
  .object({
    id: z.string(),
    principal: z.object({ userId: z.string(), userName: z.string(), email: z.string() }),
    target: z.union([
      z.object({ type: z.literal('account'), accountId: z.string(), accountName: z.string().optional(), permissionSet: z.string(), permissionSetArn: z.string() }),
      z.object({ type: z.literal('group'), group: z.string(), groupId: z.string() }),
    ]),
    justification: z.string(),
    ticket: z.string().optional(),
    ruleId: z.string(),
    requestedAt: z.string(),
    startsAt: z.string().optional(),
    duration: z.string(),
    expiresAt: z.string().optional(),
    activatedAt: z.string().optional(),
    endedAt: z.string().optional(),
    pendingExpiresAt: z.string().optional(),
    status: statusSchema,
    quorum: z.number().int(),
    approvals: z.array(z.object({ by: actorSchema, at: z.string(), comment: z.string().optional() })),
    history: z.array(
      z.object({ at: z.string(), actor: actorSchema, action: z.string(), from: statusSchema.nullable(), to: statusSchema, detail: z.string().optional() }),
    ),
    version: z.number().int(),
    coveredByExistingAccess: z.boolean().optional(),
    failureReason: z.string().optional(),
    revokeReason: z.string().optional(),
    session: sessionTermsSchema.optional(),
    sessionsValidUntil: z.string().optional().meta({ description: 'expiresAt + SessionDuration: until when a session issued under the grant may still work (revocation off, or the management account)' }),
  })
  .meta({ id: 'Grant' });

export const grantPageSchema = z.object({ items: z.array(grantSchema), cursor: z.string().optional() }).meta({ id: 'GrantPage' });

export const auditPageSchema = z.object({ items: z.array(grantEventSchema), cursor: z.string().optional() }).meta({ id: 'AuditPage' });

export const eligibilitySchema = z
  .object({
    items: z.array(
      z.object({
        ruleId: z.string(),
        description: z.string().optional(),
        targets: z.array(z.looseObject({ session: sessionTermsSchema.optional() }).meta({ description: 'An account × permission set (with its session terms) or a group' })),
        duration: z.object({ min: z.string(), max: z.string(), default: z.string(), maxTotal: z.string() }),
        approvalRequired: z.boolean(),
        quorum: z.number().int(),
        approvers: z
          .object({ users: z.array(z.string()), groups: z.array(z.string()) })
          .meta({ description: 'Who may approve, as the policy names them; empty when auto-approved' }),
      }),
    ),
  })
  .meta({ id: 'Eligibility' });

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem' });

// ---- operations ---------------------------------------------------------------

type Method = 'get' | 'post';
interface Operation {
  /** The serverless.yml function that serves it. */
  functionName: string;
  method: Method;
  path: string;
  summary: string;
  auth: boolean;
  body?: z.ZodType;
  query?: z.ZodObject;
  params?: z.ZodObject;
  success: { status: number; schema: z.ZodType; description: string };
  idempotencyKey?: boolean;
}

const grantResponse = (description: string) => ({ status: 200, schema: grantSchema, description });

export const OPERATIONS: Operation[] = [
  { functionName: 'createGrant', method: 'post', path: '/grants', summary: 'Request access', auth: true, body: createGrantBodySchema, idempotencyKey: true, success: { status: 201, schema: grantSchema, description: 'The new grant (200 when an Idempotency-Key replays an earlier request)' } },
  { functionName: 'listGrants', method: 'get', path: '/grants', summary: 'List grants', auth: true, query: listQuerySchema, success: { status: 200, schema: grantPageSchema, description: 'A page of grants' } },
  { functionName: 'getGrant', method: 'get', path: '/grants/{id}', summary: 'Get one grant with its history', auth: true, params: grantIdParamsSchema, success: grantResponse('The grant') },
  { functionName: 'approveGrant', method: 'post', path: '/grants/{id}/approve', summary: 'Approve a pending request', auth: true, params: grantIdParamsSchema, body: decisionBodySchema, success: grantResponse('The grant after the approval') },
  { functionName: 'denyGrant', method: 'post', path: '/grants/{id}/deny', summary: 'Deny a pending request', auth: true, params: grantIdParamsSchema, body: decisionBodySchema, success: grantResponse('The denied grant') },
  { functionName: 'revokeGrant', method: 'post', path: '/grants/{id}/revoke', summary: 'Revoke active access now', auth: true, params: grantIdParamsSchema, body: revokeBodySchema, success: grantResponse('The grant, now REVOKING') },
  { functionName: 'extendGrant', method: 'post', path: '/grants/{id}/extend', summary: 'Extend active access', auth: true, params: grantIdParamsSchema, body: extendBodySchema, success: grantResponse('The grant with its new expiresAt') },
  { functionName: 'cancelGrant', method: 'post', path: '/grants/{id}/cancel', summary: 'Cancel a request before it is active', auth: true, params: grantIdParamsSchema, body: emptyBodySchema, success: grantResponse('The cancelled grant') },
  { functionName: 'getEligibility', method: 'get', path: '/eligibility', summary: 'What the caller may request', auth: true, success: { status: 200, schema: eligibilitySchema, description: 'Rules and targets the caller may request' } },
  { functionName: 'getAudit', method: 'get', path: '/audit', summary: 'Export the audit trail (admins and auditors; CSV with Accept: text/csv)', auth: true, query: auditQuerySchema, success: { status: 200, schema: auditPageSchema, description: 'A page of history entries, newest first' } },
  { functionName: 'getAccess', method: 'get', path: '/access', summary: 'Who holds what now, and why (admins and auditors)', auth: true, query: accessQuerySchema, success: { status: 200, schema: accessAnswerSchema, description: 'The access inventory with its freshness' } },
  { functionName: 'getOpenApi', method: 'get', path: '/openapi.json', summary: 'This document', auth: false, success: { status: 200, schema: z.record(z.string(), z.unknown()), description: 'OpenAPI 3.1 document' } },
];

export function operation(functionName: string): Operation {
  const op = OPERATIONS.find((o) => o.functionName === functionName);
  if (!op) throw new Error(`no HTTP operation for function ${functionName}`);
  return op;
}

