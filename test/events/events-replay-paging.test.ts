/**
 * Grant events and the audit export from the sources, beyond the lifecycle suite
 * (events-audit.suite.ts): a replayed stream record, PutEvents faults, the export's pages,
 * filters and bad inputs. The stream function is the real one, wrapped to keep its records.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import type { LocalCloud } from '../../local/cloud.ts';
import type { EdgeRequest } from '../../local/edge.ts';
import type { GrantEvent } from '../../lib/events/grant-event.ts';
import { httpClient, startFastLocalCloud } from '../support/local-cloud.ts';
import { eventsOf, getAudit, until } from './events-audit.suite.ts';


describe('grant events: replays and faults; the audit export: pages, filters, bad input (sources)', () => {
  let cloud: LocalCloud;
  const api = httpClient(() => cloud);
  const records: DynamoDBStreamEvent[] = [];
  const answers: unknown[] = [];
  const putEvents: EdgeRequest[] = [];

  beforeAll(async () => {
    cloud = await startFastLocalCloud({
      scheduledFunctions: false,
      observe: (request) => {
        if (request.service === 'AWSEvents') putEvents.push(request);
      },
      // The real handler, with the records it is given and its answers kept for the test.
      handlers: {
        publishGrantEvents: async (event) => {
          records.push(event as DynamoDBStreamEvent);
          const { handler } = await import('../../functions/publishGrantEvents.ts');
          const answer = await handler(event as DynamoDBStreamEvent);
          answers.push(answer);
          return answer;
        },
      },
    });
  }, 120_000);
  afterAll(async () => cloud?.stop());

  /** A dev grant for `as`: auto-approved, active for a second, then expired: six entries. */
  async function devGrant(as: string, permissionSet = 'ReadOnlyAccess') {
    const created = await api('POST', '/grants', as, { target: { type: 'account', accountId: '444444444444', permissionSet }, duration: 'PT1S', justification: 'audit paging' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    const ended = await until(`grant ${id} ended`, async () => {
      const res = await api('GET', `/grants/${id}`, as);
      return ['EXPIRED', 'FAILED'].includes(res.body.status) && res.body;
    });
    await until(`events of ${id}`, () => eventsOf(cloud, id).length >= ended.history.length);
    return { id, history: ended.history as unknown[] };
  }

  const pending = async (justification: string) => {
    const created = await api('POST', '/grants', 'bob@example.com', { target: { type: 'account', accountId: '555555555555', permissionSet: 'PowerUserAccess' }, duration: 'PT1M', justification });
    expect(created.status).toBe(201);
    return created.body.id as string;
  };

  it('gives a replayed stream record the event ids it had, and leaves the audit entries as they were', async () => {
    const id = await pending('replayed');
    const record = await until('the request’s stream record', () => records.flatMap((e) => e.Records).find((r) => JSON.stringify(r.dynamodb?.NewImage ?? {}).includes(id)));
    await until('its event', () => eventsOf(cloud, id).length === 1);
    const auditBefore = await getAudit(cloud, 'alice@example.com', { user: 'bob' });

    const answer = await cloud.invoke('publishGrantEvents', { Records: [record] });
    expect(answer).toEqual({ batchItemFailures: [] });
    const events = eventsOf(cloud, id);
    // Delivered twice (at least once), one id: a consumer de-duplicating on eventId sees one change.
    expect(events).toHaveLength(2);
    expect(events.map((e) => (e.detail as GrantEvent).eventId)).toEqual([`${id}:0`, `${id}:0`]);
    expect(events[1]!.detail).toEqual(events[0]!.detail);
    expect(events[1]!.id).not.toBe(events[0]!.id);
    const auditAfter = await getAudit(cloud, 'alice@example.com', { user: 'bob' });
    expect(JSON.parse(auditAfter.text)).toEqual(JSON.parse(auditBefore.text));
  });

  it('sends an entry PutEvents failed once again, and publishes it once', async () => {
    const before = putEvents.length;
    const answersBefore = answers.length;
    cloud.eventBridge.failEntryOnce((entry) => entry.Detail?.includes('fault once') === true);
    const id = await pending('fault once');
    const events = await until('the event after its retry', () => eventsOf(cloud, id).length === 1 && eventsOf(cloud, id));
    expect((events[0]!.detail as GrantEvent).eventId).toBe(`${id}:0`);
    const withIt = putEvents.slice(before).filter((r) => JSON.stringify(r.input).includes(`${id}:0`));
    expect(withIt).toHaveLength(2);
    // Mended within the invocation: its answer reports no failure.
    const given = await until('the handler’s answer', () => answers.length > answersBefore && answers.slice(answersBefore));
    expect(given).toEqual([{ batchItemFailures: [] }]);
  });

  it('reports a record whose entry keeps failing as a batch item failure, and the stream delivers it again', async () => {
    // More failures than the publisher's attempts in one invocation (6).
    for (let i = 0; i < 7; i++) cloud.eventBridge.failEntryOnce((entry) => entry.Detail?.includes('keeps failing') === true);
    const answersBefore = answers.length;
    const id = await pending('keeps failing');
    const events = await until('the event after the record came again', () => eventsOf(cloud, id).length === 1 && eventsOf(cloud, id), 60_000);
    expect((events[0]!.detail as GrantEvent).eventId).toBe(`${id}:0`);
    // The handler answers after its PutEvents: wait for the second answer too.
    const mine = await until('both answers', () => {
      const given = answers.slice(answersBefore) as { batchItemFailures: { itemIdentifier: string }[] }[];
      return given.length >= 2 && given;
    });
    expect(mine.map((a) => a.batchItemFailures.length)).toEqual([1, 0]);
  }, 60_000);

  it('pages the export newest first without gaps or repeats, and filters by user and by account', async () => {
    // Entries of the earlier tests may fall in the range too; the counts below are this test's grants'.
    const start = new Date().toISOString();
    const grants = [await devGrant('carol@example.com'), await devGrant('bob@example.com'), await devGrant('carol@example.com', 'PowerUserAccess')];
    const elsewhere = await pending('not on the dev account');
    await until('the last request in the trail', async () => (JSON.parse((await getAudit(cloud, 'dave@example.com', { from: start })).text).items as GrantEvent[]).some((e) => e.grantId === elsewhere));
    const to = new Date(Date.now() + 1000).toISOString();

    const whole = JSON.parse((await getAudit(cloud, 'dave@example.com', { from: start, to, limit: '1000' })).text) as { items: GrantEvent[]; cursor?: string };
    expect(whole.cursor).toBeUndefined();
    const mine = new Set([...grants.map((g) => g.id), elsewhere]);
    expect(whole.items.filter((e) => mine.has(e.grantId)).length).toBe(grants.reduce((n, g) => n + g.history.length, 0) + 1);
    const ats = whole.items.map((e) => e.at);
    expect([...ats].sort().reverse()).toEqual(ats);

    const paged: GrantEvent[] = [];
    let cursor: string | undefined;
    do {
      const page = await getAudit(cloud, 'dave@example.com', { from: start, to, limit: '4', ...(cursor ? { cursor } : {}) });
      expect(page.status, page.text).toBe(200);
      const body = JSON.parse(page.text) as { items: GrantEvent[]; cursor?: string };
      expect(body.items.length).toBeLessThanOrEqual(4);
      paged.push(...body.items);
      cursor = body.cursor;
    } while (cursor);
    expect(paged.map((e) => e.eventId)).toEqual(whole.items.map((e) => e.eventId));

    // CSV pages carry the next cursor in a header.
    const csv = await getAudit(cloud, 'dave@example.com', { from: start, to, limit: '4' }, 'text/csv');
    expect(csv.text.trimEnd().split('\r\n')).toHaveLength(5);
    const csvNext = await getAudit(cloud, 'dave@example.com', { from: start, to, limit: '4', cursor: csv.nextCursor! }, 'text/csv');
    expect(csvNext.text.trimEnd().split('\r\n')[1]!.split(',')[1]).toBe(paged[4]!.eventId);
    // A browser may read that header (CORS exposes it).
    const fromPortal = await fetch(`${cloud.gatewayUrl}/audit?limit=1`, { headers: { authorization: `Bearer ${await cloud.token('dave@example.com')}`, accept: 'text/csv', origin: 'https://portal.example' } });
    expect(fromPortal.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('x-next-cursor');

    // A range ending far ahead reads from now: its first page holds the newest entries.
    const farAhead = JSON.parse((await getAudit(cloud, 'dave@example.com', { from: start, to: '2100-01-01', limit: '3' })).text) as { items: GrantEvent[] };
    expect(farAhead.items.map((e) => e.eventId)).toEqual(whole.items.slice(0, 3).map((e) => e.eventId));

    const carols = JSON.parse((await getAudit(cloud, 'alice@example.com', { from: start, to, user: 'CAROL' })).text).items as GrantEvent[];
    expect(new Set(carols.map((e) => e.grantId))).toEqual(new Set([grants[0]!.id, grants[2]!.id]));
    expect(carols.map((e) => e.eventId)).toEqual(whole.items.filter((e) => e.principal.userName === 'carol').map((e) => e.eventId));

    const dev = JSON.parse((await getAudit(cloud, 'alice@example.com', { from: start, to, account: '444444444444' })).text).items as GrantEvent[];
    expect(new Set(dev.map((e) => e.grantId))).toEqual(new Set(grants.map((g) => g.id)));
    const bobsDev = JSON.parse((await getAudit(cloud, 'alice@example.com', { from: start, to, account: '444444444444', user: 'bob' })).text).items as GrantEvent[];
    expect(new Set(bobsDev.map((e) => e.grantId))).toEqual(new Set([grants[1]!.id]));

    // A filtered list pages too, and its cursor is bound to its filter.
    const firstOfCarol = await getAudit(cloud, 'alice@example.com', { from: start, to, user: 'carol', limit: '2' });
    const carolCursor = (JSON.parse(firstOfCarol.text) as { cursor: string }).cursor;
    const nextOfCarol = JSON.parse((await getAudit(cloud, 'alice@example.com', { from: start, to, user: 'carol', limit: '2', cursor: carolCursor })).text) as { items: GrantEvent[] };
    expect(nextOfCarol.items.map((e) => e.eventId)).toEqual(carols.slice(2, 4).map((e) => e.eventId));
    const otherFilter = await getAudit(cloud, 'alice@example.com', { from: start, to, user: 'bob', limit: '2', cursor: carolCursor });
    expect(otherFilter.status).toBe(400);
  }, 120_000);

  it('answers bad from, to, limit, user, account and cursor with a 400 that says what is wrong', async () => {
    const problem = async (query: Record<string, string>) => {
      const res = await getAudit(cloud, 'alice@example.com', query);
      expect(res.status, res.text).toBe(400);
      expect(res.contentType).toContain('application/problem+json');
      return JSON.parse(res.text) as { detail: string; errors?: { field: string; message: string }[] };
    };
    expect((await problem({ from: 'yesterday' })).errors).toEqual([{ field: 'query.from', message: expect.stringContaining('ISO 8601') }]);
    expect((await problem({ to: '2026-13-45' })).errors).toEqual([{ field: 'query.to', message: expect.stringContaining('ISO 8601') }]);
    expect((await problem({ from: '2026-11-02', to: '2026-11-01' })).errors).toEqual([{ field: 'query.from', message: '2026-11-02T00:00:00.000Z is not before to (2026-11-01T00:00:00.000Z)' }]);
    expect((await problem({ limit: '0' })).errors?.[0]?.field).toBe('query.limit');
    expect((await problem({ limit: 'many' })).errors?.[0]?.field).toBe('query.limit');
    expect((await problem({ account: '12345' })).errors).toEqual([{ field: 'query.account', message: 'must be a 12-digit AWS account id' }]);
    expect((await problem({ user: 'a b' })).errors?.[0]?.field).toBe('query.user');
    expect((await problem({ cursor: 'eyJhIjoxfQ' })).detail).toBe('cursor is not valid: start again from the first page (omit cursor)');
    expect((await problem({ view: 'all' })).errors?.[0]?.field).toBe('query');
  });
});
