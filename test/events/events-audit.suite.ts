/**
 * Grant events and the audit export on the local cloud, over HTTP: a lifecycle leaves one
 * "Grant Status Changed" event per history entry in events.jsonl (stable ids, the history's
 * from/to sequence, valid against the shipped JSON Schema), and GET /audit returns the same
 * entries as JSON and CSV to admins and auditors, 403 to anyone else. Run from the sources
 * and, as deployed, from the packaged artifacts with IAM enforced.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud.ts';
import type { LocalEvent } from '../../local/eventbridge.ts';
import { GRANT_EVENT_SCHEMA_FILE, type GrantEvent } from '../../lib/events/grant-event.ts';
import { httpClient, startFastLocalCloud } from '../support/local-cloud.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const shippedEventSchema = z.fromJSONSchema(JSON.parse(readFileSync(path.join(ROOT, GRANT_EVENT_SCHEMA_FILE), 'utf8')));

export interface EventsAuditContext {
  cloud: () => LocalCloud;
  api: ReturnType<typeof httpClient>;
  dataDir: string;
}

/** The events of one grant the local EventBridge accepted, in the order they arrived. */
export function eventsOf(cloud: LocalCloud, grantId: string): LocalEvent[] {
  return cloud.eventBridge.events.filter((e) => (e.detail as GrantEvent).grantId === grantId);
}

/** Waits until `check` holds (events are published from the stream, after the write was answered). */
export async function until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A GET of the audit export with the raw answer (CSV is not JSON). */
export async function getAudit(cloud: LocalCloud, as: string, query: Record<string, string>, accept?: string) {
  const res = await fetch(`${cloud.gatewayUrl}/audit?${new URLSearchParams(query)}`, {
    headers: { authorization: `Bearer ${await cloud.token(as)}`, ...(accept ? { accept } : {}) },
  });
  return { status: res.status, contentType: res.headers.get('content-type'), nextCursor: res.headers.get('x-next-cursor'), text: await res.text() };
}

export function startEventsCloud(mode: { packaged: boolean }): EventsAuditContext {
  let cloud: LocalCloud;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'jit-events-'));
  beforeAll(async () => {
    cloud = await startFastLocalCloud({ packaged: mode.packaged, dataDir, scheduledFunctions: false, idcKnobs: { provisioningDelayMs: { minMs: 20, maxMs: 60 } } });
  }, 180_000);
  afterAll(async () => {
    await cloud?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { cloud: () => cloud, api: httpClient(() => cloud), dataDir };
}

export function eventsAndAuditOverHttp(mode: { packaged: boolean }): void {
  const { cloud, api, dataDir } = startEventsCloud(mode);

  async function waitForStatus(id: string, wanted: string) {
    return until(`grant ${id} ${wanted}`, async () => {
      const res = await api('GET', `/grants/${id}`, 'bob@example.com');
      return res.body.status === wanted ? res.body : undefined;
    });
  }

  describe(`events and the audit export (${mode.packaged ? 'packaged, IAM enforced' : 'sources'})`, () => {
    let grantId: string;
    let history: { from: string | null; to: string; at: string; action: string }[];

    it('publishes one event per history entry of a lifecycle, in order, with stable ids, to events.jsonl', async () => {
      const created = await api('POST', '/grants', 'bob@example.com', {
        target: { type: 'account', accountId: '555555555555', permissionSet: 'PowerUserAccess' },
        duration: 'PT2S',
        justification: 'events lifecycle',
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      grantId = created.body.id;
      expect((await api('POST', `/grants/${grantId}/approve`, 'dave@example.com', { comment: 'ok' })).status).toBe(200);
      const ended = await waitForStatus(grantId, 'EXPIRED');
      history = ended.history;
      expect(history.map((h) => h.to)).toEqual(['PENDING_APPROVAL', 'APPROVED', 'ACTIVATING', 'ACTIVE', 'REVOKING', 'EXPIRED']);

      const events = await until('every entry published', () => {
        const seen = eventsOf(cloud(), grantId);
        return seen.length >= history.length && seen;
      });
      expect(events.map((e) => (e.detail as GrantEvent).eventId)).toEqual(history.map((_, i) => `${grantId}:${i}`));
      expect(events.map((e) => [(e.detail as GrantEvent).from, (e.detail as GrantEvent).to, (e.detail as GrantEvent).at])).toEqual(history.map((h) => [h.from, h.to, h.at]));
      for (const e of events) {
        expect(e.source).toBe('identity-center-jit');
        expect(e['detail-type']).toBe('Grant Status Changed');
        expect(e['event-bus-name']).toBe('default');
        const parsed = shippedEventSchema.safeParse(e.detail);
        expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
      }
      const detail = events[1]!.detail as GrantEvent;
      expect(detail).toMatchObject({ grantId, action: 'approved', actor: { name: 'dave@example.com' }, detail: '1/1: ok', rule: 'prod-poweruser', principal: { userName: 'bob' } });

      // The same events, one JSON object a line, in the local data folder.
      const lines = readFileSync(path.join(dataDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as LocalEvent);
      expect(lines.filter((l) => (l.detail as GrantEvent).grantId === grantId)).toEqual(events);
    }, 60_000);

    it('serves the history to an admin (alice) and an auditor (dave) as JSON and CSV, and refuses bob', async () => {
      const from = new Date(Date.parse(history[0]!.at) - 1000).toISOString();
      for (const as of ['alice@example.com', 'dave@example.com']) {
        const json = await getAudit(cloud(), as, { from });
        expect(json.status, json.text).toBe(200);
        const items = (JSON.parse(json.text) as { items: GrantEvent[] }).items.filter((e) => e.grantId === grantId);
        // Newest first.
        expect(items.map((e) => e.to)).toEqual(history.map((h) => h.to).reverse());

        const csv = await getAudit(cloud(), as, { from }, 'text/csv');
        expect(csv.status, csv.text).toBe(200);
        expect(csv.contentType).toContain('text/csv');
        const rows = csv.text.trimEnd().split('\r\n');
        expect(rows[0]!.startsWith('at,eventId,grantId,action,from,to,')).toBe(true);
        expect(rows.filter((r) => r.includes(`,${grantId},`)).map((r) => r.split(',')[5])).toEqual(history.map((h) => h.to).reverse());
      }
      const refused = await api('GET', '/audit', 'bob@example.com');
      expect(refused.status).toBe(403);
      expect(refused.contentType).toContain('application/problem+json');
      expect(refused.body.detail).toBe('the audit trail and the access inventory are for admins and auditors (policy `admins`, `auditors`)');
    }, 30_000);
  });
}
