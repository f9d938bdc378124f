/**
 * The event detail as a value: which history entries a write appended, their stable ids, the
 * shipped JSON Schema (generated from the zod schema, never stale), and the CSV of the export.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import { applyTransition } from '../../lib/domain/transition.ts';
import { appendedEvents, GRANT_EVENT_SCHEMA_FILE, grantEventSchemaText, type GrantEvent } from '../../lib/events/grant-event.ts';
import { AUDIT_CSV_COLUMNS, auditCsv, csvField } from '../../lib/http/audit-csv.ts';
import { openApiDocument } from '../../lib/http/openapi.ts';
import { makeGrant, testActor } from '../support/grants.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('appendedEvents', () => {
  const requested = makeGrant({ quorum: 2 });
  const oneApproval = applyTransition({ current: requested, to: 'PENDING_APPROVAL', entry: { at: '2026-11-30T12:00:01.000Z', actor: testActor, action: 'approve', detail: 'first of two' } }).next;
  const approved = applyTransition({ current: oneApproval, to: 'APPROVED', entry: { at: '2026-11-30T12:00:02.000Z', actor: { id: 'user-8', name: 'dave' }, action: 'approve' } }).next;

  it('gives the request itself for a new grant, with from null', () => {
    const events = appendedEvents(undefined, requested);
    expect(events).toHaveLength(1);
    expect(events[0]).toEqual({
      position: 0,
      event: {
        eventId: `${requested.id}:0`,
        grantId: requested.id,
        principal: requested.principal,
        target: requested.target,
        from: null,
        to: 'PENDING_APPROVAL',
        action: 'requested',
        actor: requested.history[0]!.actor,
        at: requested.history[0]!.at,
        rule: 'dev-readonly',
      },
    });
  });

  it('gives every entry a write appended, the self-edge of an approval short of quorum included', () => {
    expect(appendedEvents(requested, oneApproval).map((e) => [e.position, e.event.from, e.event.to, e.event.detail])).toEqual([[1, 'PENDING_APPROVAL', 'PENDING_APPROVAL', 'first of two']]);
    // A record that carries two changes at once (the stream coalesces nothing, but a consumer may see an older image).
    expect(appendedEvents(requested, approved).map((e) => e.event.eventId)).toEqual([`${requested.id}:1`, `${requested.id}:2`]);
  });

  it('gives nothing for a write that appended no entry, and the same ids when a record is delivered again', () => {
    expect(appendedEvents(approved, { ...approved, ttl: 1 } as typeof approved)).toEqual([]);
    expect(appendedEvents(oneApproval, approved)).toEqual(appendedEvents(oneApproval, approved));
  });
});

describe('the shipped JSON Schema', () => {
  const shipped = readFileSync(path.join(ROOT, GRANT_EVENT_SCHEMA_FILE), 'utf8');

  it(`is what the zod schema generates (run \`npm run events:schema\` when this fails)`, () => {
    expect(shipped).toBe(grantEventSchemaText());
  });

  it('accepts the events of a lifecycle and refuses a malformed one', () => {
    const schema = z.fromJSONSchema(JSON.parse(shipped));
    const requested = makeGrant();
    const events = appendedEvents(undefined, requested).map((e) => e.event);
    for (const e of events) expect(schema.safeParse(e).success).toBe(true);
    const bad = { ...events[0]!, to: 'GRANTED' } as unknown as GrantEvent;
    expect(schema.safeParse(bad).success).toBe(false);
    const { rule: _rule, ...withoutRule } = events[0]!;
    expect(schema.safeParse(withoutRule).success).toBe(false);
  });
});

describe('audit CSV', () => {
  it('quotes as RFC 4180 and defuses spreadsheet formulas', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('-2')).toBe("'-2");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
  });

  it('writes a header row and one row per entry, CRLF-terminated', () => {
    const grant = makeGrant({ justification: 'x' });
    const event = { ...appendedEvents(undefined, grant)[0]!.event, detail: '=cmd|calc' };
    const text = auditCsv([event]);
    const lines = text.split('\r\n');
    expect(lines[0]).toBe(AUDIT_CSV_COLUMNS.join(','));
    expect(lines[1]).toBe(
      [event.at, event.eventId, grant.id, 'requested', '', 'PENDING_APPROVAL', 'user-1', 'carol', 'carol', 'user-1', 'carol@example.com', 'account', '444444444444', 'ReadOnlyAccess', '', 'dev-readonly', "'=cmd|calc"].join(','),
    );
    expect(lines[2]).toBe('');
  });
});

describe('the OpenAPI document', () => {
  it('describes GET /audit with its query parameters and the entry schema', () => {
    const doc = openApiDocument() as { paths: Record<string, { get?: { parameters?: { name: string }[] } }>; components: { schemas: Record<string, { required?: string[] }> } };
    expect(doc.paths['/audit']?.get?.parameters?.map((p) => p.name)).toEqual(['from', 'to', 'user', 'account', 'limit', 'cursor']);
    expect(doc.components.schemas.GrantStatusChanged?.required).toEqual(expect.arrayContaining(['eventId', 'grantId', 'from', 'to', 'actor', 'at', 'rule']));
  });
});
