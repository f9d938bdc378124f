/**
 * The DynamoStore suite, run against whichever DynamoDB-compatible server the
 * caller starts: dynalite (test/integration), moto_server (test/conformance),
 * or the endpoint in AWS_ENDPOINT_URL_DYNAMODB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStore } from '../../lib/adapters/dynamo-store.ts';
import type { Grant } from '../../lib/domain/grant.ts';
import { ConflictError, ValidationError } from '../../lib/errors.ts';
import type { TestTable } from '../support/dynamo.ts';
import { makeGrant, testActor } from '../support/grants.ts';

export function dynamoStoreSuite(startTable: () => Promise<TestTable>): void {
  let table: TestTable;
  let store: DynamoStore;

  beforeAll(async () => {
    table = await startTable();
    store = new DynamoStore(table.client, { tableName: table.tableName, retentionDays: 30 });
  });
  afterAll(async () => table?.stop());

  const entry = (action: string) => ({ at: new Date().toISOString(), actor: testActor, action });

  describe('grants', () => {
    it('creates once and reads back exactly what it wrote', async () => {
      const g = makeGrant();
      await store.create(g);
      expect(await store.get(g.id)).toEqual(g);
      await expect(store.create(g)).rejects.toBeInstanceOf(ConflictError);
      expect(await store.get('01JD2X7Q8R9S0T1V2W3X4Y5Z6A')).toBeUndefined();
    });

    it('transitions conditionally on status and version, appending history in the same write', async () => {
      const g = makeGrant();
      await store.create(g);
      const approved = await store.transition({ current: g, to: 'APPROVED', set: { pendingExpiresAt: undefined }, entry: entry('approved') });
      expect(approved.version).toBe(2);
      const stored = await store.get(g.id);
      expect(stored).toEqual(approved);
      expect(stored!.pendingExpiresAt).toBeUndefined();
      expect(stored!.history.at(-1)).toMatchObject({ action: 'approved', from: 'PENDING_APPROVAL', to: 'APPROVED' });
      // A stale copy loses.
      await expect(store.transition({ current: g, to: 'DENIED', entry: entry('denied') })).rejects.toBeInstanceOf(ConflictError);
      // An edge that is not in the table is refused before any write.
      await expect(store.transition({ current: approved, to: 'EXPIRED', entry: entry('x') })).rejects.toThrow(/cannot become EXPIRED/);
      expect((await store.get(g.id))!.version).toBe(2);
    });

    it('lists a principal’s grants newest first, with a status filter and cursors', async () => {
      const userId = `user-${Date.now()}`;
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const g = makeGrant({ principal: { userId, userName: 'u', email: 'u@example.com' } });
        ids.push(g.id);
        await store.create(g);
        await new Promise((r) => setTimeout(r, 2)); // distinct ULID milliseconds keep the order strict
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listByPrincipal(userId, { limit: 2, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items.map((g) => g.id));
        cursor = page.cursor;
      } while (cursor);
      expect(seen).toEqual([...ids].reverse());
      expect((await store.listByPrincipal(userId, { limit: 10 }, 'ACTIVE')).items).toEqual([]);
    });

    it('orders grants by status deadline and finds the overdue ones (the sweeper query)', async () => {
      const base = Date.parse('2030-01-01T00:00:00Z');
      const made: Grant[] = [];
      for (const minutes of [30, 10, 20]) {
        const g = makeGrant({ status: 'ACTIVE', activatedAt: new Date(base).toISOString(), expiresAt: new Date(base + minutes * 60_000).toISOString() });
        await store.create(g);
        made.push(g);
      }
      const before = new Date(base + 25 * 60_000).toISOString();
      const overdue = await store.listByStatus('ACTIVE', { limit: 100 }, before);
      const mine = overdue.items.filter((g) => made.some((m) => m.id === g.id)).map((g) => g.expiresAt);
      expect(mine).toEqual([new Date(base + 10 * 60_000).toISOString(), new Date(base + 20 * 60_000).toISOString()]);
    });

    it('indexes pending requests by rule only while they are pending', async () => {
      const ruleId = `rule-${Date.now()}`;
      const g = makeGrant({ ruleId });
      await store.create(g);
      expect((await store.listPendingForRule(ruleId, { limit: 10 })).items.map((x) => x.id)).toEqual([g.id]);
      await store.transition({ current: g, to: 'DENIED', set: { endedAt: new Date().toISOString() }, entry: entry('denied') });
      expect((await store.listPendingForRule(ruleId, { limit: 10 })).items).toEqual([]);
    });

    it('rejects a cursor it did not issue with a validation error', async () => {
      await expect(store.listAll({ limit: 1, cursor: '!!!' })).rejects.toBeInstanceOf(ValidationError);
    });

    it('claims an idempotency key once and returns the first claim afterwards', async () => {
      const rec = { key: `k-${Date.now()}`, principalId: 'user-1', bodyHash: 'abc', grantId: 'G1' };
      expect(await store.claimIdempotencyKey(rec)).toBeUndefined();
      expect(await store.claimIdempotencyKey({ ...rec, bodyHash: 'other', grantId: 'G2' })).toEqual(rec);
      // Keys are per principal.
      expect(await store.claimIdempotencyKey({ ...rec, principalId: 'user-2' })).toBeUndefined();
    });

    it('releases a claim only while it still names the grant', async () => {
      const rec = { key: `r-${Date.now()}`, principalId: 'user-1', bodyHash: 'abc', grantId: 'G1' };
      await store.claimIdempotencyKey(rec);
      await store.releaseIdempotencyKey(rec.principalId, rec.key, 'G-other');
      expect(await store.claimIdempotencyKey({ ...rec, grantId: 'G2' })).toEqual(rec);
      await store.releaseIdempotencyKey(rec.principalId, rec.key, 'G1');
      // Released: the key is free again, and releasing twice is harmless.
      await store.releaseIdempotencyKey(rec.principalId, rec.key, 'G1');
      expect(await store.claimIdempotencyKey({ ...rec, grantId: 'G3' })).toBeUndefined();
    });
  });

  describe('holders', () => {
    const target = { type: 'account' as const, accountId: '444444444444', permissionSet: 'ReadOnlyAccess', permissionSetArn: 'arn:ps' };

    it('keeps managed access until the last holder leaves, then marks it for deletion', async () => {
      const key = `h-${Date.now()}-managed`;
      const h1 = await store.createHolder({ key, target, principalId: 'u', grantIds: ['A'], managed: true, state: 'PRESENT' });
      await expect(store.createHolder({ key, target, principalId: 'u', grantIds: ['B'], managed: true, state: 'PRESENT' })).rejects.toBeInstanceOf(ConflictError);
      const h2 = await store.joinHolder(h1, 'B');
      expect(h2.grantIds).toEqual(['A', 'B']);
      const h3 = await store.leaveHolder(h2, 'A');
      expect(h3).toMatchObject({ grantIds: ['B'], state: 'PRESENT' });
      const h4 = await store.leaveHolder(h3!, 'B');
      expect(h4).toMatchObject({ grantIds: [], state: 'DELETING' });
      await expect(store.joinHolder(h4!, 'C')).rejects.toBeInstanceOf(ConflictError);
      await store.removeDeletedHolder(key);
      expect(await store.getHolder(key)).toBeUndefined();
      await store.removeDeletedHolder(key); // a retry is harmless
    });

    it('forgets unmanaged (pre-existing) access when its last holder leaves, never marking it for deletion', async () => {
      const key = `h-${Date.now()}-unmanaged`;
      const h1 = await store.createHolder({ key, target, principalId: 'u', grantIds: ['A'], managed: false, state: 'PRESENT' });
      expect(await store.leaveHolder(h1, 'A')).toBeUndefined();
      expect(await store.getHolder(key)).toBeUndefined();
    });

    it('refuses a stale version so two leavers cannot both leave', async () => {
      const key = `h-${Date.now()}-race`;
      const h1 = await store.createHolder({ key, target, principalId: 'u', grantIds: ['A', 'B'], managed: true, state: 'PRESENT' });
      const results = await Promise.allSettled([store.leaveHolder(h1, 'A'), store.leaveHolder(h1, 'B')]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect((await store.getHolder(key))!.grantIds).toHaveLength(1);
    });

    it('lists holders for the reconciler', async () => {
      const key = `h-${Date.now()}-list`;
      await store.createHolder({ key, target, principalId: 'u', grantIds: ['A'], managed: true, state: 'PRESENT', membershipId: undefined });
      const all = [];
      let cursor: string | undefined;
      do {
        const page = await store.listHolders({ limit: 50, ...(cursor ? { cursor } : {}) });
        all.push(...page.items);
        cursor = page.cursor;
      } while (cursor);
      expect(all.find((h) => h.key === key)).toMatchObject({ key, managed: true, grantIds: ['A'] });
    });
  });

  describe('holder membership ids', () => {
    it('records the membership id a group grant needs for deletion', async () => {
      const key = `h-${Date.now()}-membership`;
      const target = { type: 'group' as const, group: 'BreakGlass', groupId: 'g-1' };
      const h1 = await store.createHolder({ key, target, principalId: 'u', grantIds: ['A'], managed: true, state: 'PRESENT' });
      const h2 = await store.setMembershipId(key, 'm-123', h1.version);
      expect(h2).toMatchObject({ membershipId: 'm-123', version: h1.version + 1, state: 'PRESENT' });
      expect((await store.getHolder(key))!.membershipId).toBe('m-123');
    });
  });
}
