/**
 * "Grant Status Changed": one event per history entry of a grant, and the audit trail's entry.
 * The detail's schema lives here once (zod); docs/events/grant-status-changed.schema.json is
 * generated from it (`npm run events:schema`) and a test fails when that file is stale.
 * Pure: no SDK, no table keys. The stream function (lib/events/publish-handler.ts) finds the
 * entries a write appended, the adapters publish and store them.
 */
import * as z from 'zod';
import { GRANT_STATUSES, type Grant } from '../domain/grant.ts';

export const EVENT_SOURCE = 'identity-center-jit';
export const EVENT_DETAIL_TYPE = 'Grant Status Changed';

const status = z.enum(GRANT_STATUSES);
const actor = z.object({ id: z.string().meta({ description: 'Identity Store user id, or a system component (`system:sweeper`)' }), name: z.string() });

export const grantEventSchema = z
  .object({
    eventId: z.string().meta({
      description: 'Stable id of this change: the grant id and the position of the entry in its history. A replayed delivery carries the same id; consumers de-duplicate on it.',
      example: '01JD2X7Q8R9S0T1V2W3X4Y5Z6A:3',
    }),
    grantId: z.string(),
    principal: z.object({ userId: z.string(), userName: z.string(), email: z.string() }),
    target: z.discriminatedUnion('type', [
      z.object({ type: z.literal('account'), accountId: z.string(), accountName: z.string().optional(), permissionSet: z.string(), permissionSetArn: z.string() }),
      z.object({ type: z.literal('group'), group: z.string(), groupId: z.string() }),
    ]),
    from: status.nullable().meta({ description: 'Status before the change; null for the request itself' }),
    to: status.meta({ description: 'Status after the change (equal to `from` for an approval short of quorum or an extension)' }),
    action: z.string().meta({ description: "The history entry's action: requested, auto-approved, approved, denied, cancelled, activation started, activated, activation failed, extended, revoke requested, ..." }),
    actor,
    at: z.iso.datetime().meta({ description: 'When the change was written (ISO 8601, UTC)' }),
    detail: z.string().optional().meta({ description: 'Why: a comment, a revocation reason, a failure reason' }),
    rule: z.string().meta({ description: 'The policy rule that admitted the request' }),
  })
  .meta({ id: 'GrantStatusChanged', title: 'Grant Status Changed', description: `Detail of the EventBridge events with source \`${EVENT_SOURCE}\` and detail-type \`${EVENT_DETAIL_TYPE}\`.` });

export type GrantEvent = z.infer<typeof grantEventSchema>;

/** The event id of the history entry at `position`: the same for every delivery of the same change. */
export const grantEventId = (grantId: string, position: number): string => `${grantId}:${position}`;

/** A history entry as an event, with its position in the grant's history. */
export interface AppendedEvent {
  position: number;
  event: GrantEvent;
}

/** The events of the history entries `after` has and `before` had not (history only grows, in the same write as each change). */
export function appendedEvents(before: Grant | undefined, after: Grant): AppendedEvent[] {
  const known = before && before.id === after.id ? before.history.length : 0;
  return after.history.slice(known).map((entry, i) => {
    const position = known + i;
    const event: GrantEvent = {
      eventId: grantEventId(after.id, position),
      grantId: after.id,
      principal: { userId: after.principal.userId, userName: after.principal.userName, email: after.principal.email },
      target: { ...after.target },
      from: entry.from,
      to: entry.to,
      action: entry.action,
      actor: { id: entry.actor.id, name: entry.actor.name },
      at: entry.at,
      ...(entry.detail !== undefined ? { detail: entry.detail } : {}),
      rule: after.ruleId,
    };
    return { position, event };
  });
}

/** Where the JSON Schema ships, from the repository root. */
export const GRANT_EVENT_SCHEMA_FILE = 'docs/events/grant-status-changed.schema.json';

/** The JSON Schema (draft 2020-12) of the detail. */
export function grantEventJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(grantEventSchema, { target: 'draft-2020-12', io: 'output' }) as Record<string, unknown>;
}

/** The schema file's text, exactly as shipped. */
export const grantEventSchemaText = (): string => `${JSON.stringify(grantEventJsonSchema(), null, 2)}\n`;
