/**
 * The audit export's reads at scale: a year of history for 10,000 grants (50,000 entries) in the
 * table, and every page (the whole year, a month, one user, one account) costs a handful of
 * Queries, counted at the edge, never a Scan; a range over empty months never more than a page's budget.
 */
import { BatchWriteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditTrail, MAX_QUERIES_PER_PAGE } from '../../lib/adapters/dynamo-audit-trail.ts';
import type { AppendedEvent, GrantEvent } from '../../lib/events/grant-event.ts';
import type { AuditQuery } from '../../lib/ports/index.ts';
import type { LocalCloud } from '../../local/cloud.ts';
import type { EdgeRequest } from '../../local/edge.ts';
import { startFastLocalCloud } from '../support/local-cloud.ts';

const GRANTS = 10_000;
const YEAR_START = Date.parse('2025-12-01T00:00:00.000Z');
const YEAR_MS = 365 * 86_400_000;
const STEPS: [GrantEvent['from'], GrantEvent['to'], string, number][] = [
  [null, 'PENDING_APPROVAL', 'requested', 0],
  ['PENDING_APPROVAL', 'APPROVED', 'approved', 60_000],
  ['APPROVED', 'ACTIVATING', 'activation started', 61_000],
  ['ACTIVATING', 'ACTIVE', 'activated', 65_000],
  ['ACTIVE', 'REVOKING', 'expired', 3_665_000],
];

function yearOfHistory(): AppendedEvent[] {
  const entries: AppendedEvent[] = [];
  for (let g = 0; g < GRANTS; g++) {
    const grantId = `01GRANT${String(g).padStart(19, '0')}`;
    const start = YEAR_START + Math.floor((g / GRANTS) * (YEAR_MS - 4_000_000));
    const user = `user${g % 200}`;
    const accountId = String(100000000000 + (g % 20));
    STEPS.forEach(([from, to, action, offset], position) => {
      entries.push({
        position,
        event: {
          eventId: `${grantId}:${position}`,
          grantId,
          principal: { userId: `id-${user}`, userName: user, email: `${user}@example.com` },
          target: { type: 'account', accountId, permissionSet: 'ReadOnlyAccess', permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-1/ps-1' },
          from,
          to,
          action,
          actor: { id: 'system:workflow', name: 'grant workflow' },
          at: new Date(start + offset).toISOString(),
          rule: 'dev-readonly',
        },
      });
    });
  }
  return entries;
}

describe('audit pages over a year of history for 10,000 grants', () => {
  let cloud: LocalCloud;
  let trail: DynamoAuditTrail;
  const requests: EdgeRequest[] = [];

  beforeAll(async () => {
    cloud = await startFastLocalCloud({ functions: [], scheduledFunctions: false, slack: false, observe: (r) => requests.push(r) });
    // Loaded straight into dynalite (not through the edge), 25 items a request, a few requests at a time.
    const direct = new DynamoDBClient({ endpoint: cloud.dynamo.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const items = yearOfHistory().map((e) => ({ PutRequest: { Item: marshall(DynamoAuditTrail.item(e), { removeUndefinedValues: true }) } }));
    const batches: (typeof items)[] = [];
    for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
    const worker = async () => {
      for (let batch = batches.pop(); batch; batch = batches.pop()) {
        let unprocessed: typeof items | undefined = batch;
        while (unprocessed?.length) {
          const out = await direct.send(new BatchWriteItemCommand({ RequestItems: { [cloud.tableName]: unprocessed } }));
          unprocessed = out.UnprocessedItems?.[cloud.tableName] as typeof items | undefined;
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    direct.destroy();
    trail = new DynamoAuditTrail(new DynamoDBClient({ endpoint: cloud.edgeUrl, region: 'us-east-1' }), cloud.tableName);
  }, 300_000);
  afterAll(async () => cloud?.stop());

  /** Reads `pages` pages of `query` and returns the Queries each cost. */
  async function queriesPerPage(query: AuditQuery, limit: number, pages: number) {
    const counts: number[] = [];
    const seen: GrantEvent[] = [];
    let cursor: string | undefined;
    for (let p = 0; p < pages; p++) {
      const before = requests.length;
      const page = await trail.page(query, { limit, ...(cursor ? { cursor } : {}) });
      const made = requests.slice(before);
      expect(made.every((r) => r.service === 'dynamodb' && r.operation === 'Query')).toBe(true);
      counts.push(made.length);
      seen.push(...page.items);
      cursor = page.cursor;
      if (!cursor) break;
    }
    return { counts, seen };
  }

  it('reads the whole year newest first, each page of 100 in at most 2 Queries', async () => {
    const { counts, seen } = await queriesPerPage({ from: '2025-12-01T00:00:00Z', to: '2026-12-01T00:00:00Z' }, 100, 60);
    expect(counts).toHaveLength(60);
    expect(Math.max(...counts)).toBeLessThanOrEqual(2);
    const ats = seen.map((e) => e.at);
    expect([...ats].sort().reverse()).toEqual(ats);
    expect(new Set(seen.map((e) => e.eventId)).size).toBe(seen.length);
  }, 120_000);

  it('reads across a month boundary without a gap: the last entries of one month, then the first of the one before', async () => {
    const { counts, seen } = await queriesPerPage({ from: '2026-05-25T00:00:00Z', to: '2026-06-05T00:00:00Z' }, 500, 100);
    expect(Math.max(...counts)).toBeLessThanOrEqual(2);
    const inRange = (e: GrantEvent) => e.at >= '2026-05-25T00:00:00Z' && e.at < '2026-06-05T00:00:00Z';
    expect(seen.every(inRange)).toBe(true);
    // Every grant of the range has all its entries there (11 of 365 days of 10,000 grants, five entries each).
    expect(seen.length).toBeGreaterThan(1400);
    expect(seen.some((e) => e.at.startsWith('2026-05'))).toBe(true);
    expect(seen.some((e) => e.at.startsWith('2026-06'))).toBe(true);
  }, 120_000);

  it('answers a range over years of empty months in pages of a handful of Queries, short pages carrying the cursor on', async () => {
    // 2029-12 back to 2026-12 hold nothing; the history starts below them.
    const { counts, seen } = await queriesPerPage({ from: '2025-12-01T00:00:00Z', to: '2030-01-01T00:00:00Z' }, 100, 20);
    expect(Math.max(...counts)).toBeLessThanOrEqual(MAX_QUERIES_PER_PAGE);
    expect(counts.slice(0, 6)).toEqual([6, 6, 6, 6, 6, 6]);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[0]!.at.startsWith('2026-11')).toBe(true);
  }, 120_000);

  it('reads one user’s or one account’s year in one Query a page', async () => {
    const user = await queriesPerPage({ from: '2025-12-01T00:00:00Z', to: '2026-12-01T00:00:00Z', user: 'USER7' }, 100, 10);
    expect(user.counts.every((c) => c === 1)).toBe(true);
    expect(user.seen).toHaveLength(50 * 5);
    expect(user.seen.every((e) => e.principal.userName === 'user7')).toBe(true);
    const account = await queriesPerPage({ from: '2026-03-01T00:00:00Z', to: '2026-04-01T00:00:00Z', account: '100000000003' }, 100, 5);
    expect(account.counts.every((c) => c === 1)).toBe(true);
    expect(account.seen.length).toBeGreaterThan(0);
    expect(account.seen.every((e) => e.target.type === 'account' && e.target.accountId === '100000000003' && e.at.startsWith('2026-03'))).toBe(true);
  }, 120_000);
});
