/**
 * Invariant 5: concurrent approve / deny / cancel on one grant. Exactly one
 * transition wins; every other call gets a clear 409; the history holds one
 * entry per accepted transition.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, callApi } from '../support/api.ts';
import { startApiTestCloud, type ApiTestCloud } from '../support/cloud.ts';

let cloud: ApiTestCloud;
beforeAll(async () => {
  cloud = await startApiTestCloud();
});
afterAll(async () => cloud?.stop());

const bob = as('bob@example.com');
const dave = as('dave@example.com');

async function pendingGrant(): Promise<string> {
  const created = await callApi('createGrant', {
    claims: bob,
    body: { target: { type: 'account', accountId: '555555555555', permissionSet: 'PowerUserAccess' }, duration: 'PT1H', justification: 'race' },
  });
  expect(created.body.status).toBe('PENDING_APPROVAL');
  const id = created.body.id as string;
  // Warm the directory caches so the race is about the write, not the lookups.
  await callApi('getGrant', { claims: dave, params: { id } });
  await callApi('getGrant', { claims: bob, params: { id } });
  return id;
}

describe('50 concurrent decisions on one grant', () => {
  it('approve vs deny: exactly one wins, the other 49 get 409', async () => {
    const id = await pendingGrant();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        i % 2 === 0
          ? callApi('approveGrant', { claims: dave, params: { id }, body: { comment: `approve ${i}` } })
          : callApi('denyGrant', { claims: dave, params: { id }, body: { comment: `deny ${i}` } }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);
    for (const r of results.filter((x) => x.status === 409)) {
      expect(r.headers['content-type']).toBe('application/problem+json');
      expect(r.body.detail).toMatch(/changed by another request|only a PENDING_APPROVAL request/);
    }
    const winner = results.find((r) => r.status === 200)!.body;
    const stored = await cloud.runtime.store.get(id);
    expect(stored!.status).toBe(winner.status);
    expect(stored!.history).toHaveLength(2); // requested + the one accepted transition
    expect(stored!.version).toBe(2);
  });

  it('approve / deny / cancel: each accepted call is one valid edge in the history, everything else is 409', async () => {
    const id = await pendingGrant();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => {
        if (i % 3 === 0) return callApi('approveGrant', { claims: dave, params: { id }, body: {} });
        if (i % 3 === 1) return callApi('denyGrant', { claims: dave, params: { id }, body: {} });
        return callApi('cancelGrant', { claims: bob, params: { id } });
      }),
    );
    const accepted = results.filter((r) => r.status === 200);
    expect(results.filter((r) => r.status !== 200).every((r) => r.status === 409)).toBe(true);
    // From PENDING_APPROVAL one decision wins; only APPROVED → CANCELLED may follow it.
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    expect(accepted.length).toBeLessThanOrEqual(2);
    const stored = (await cloud.runtime.store.get(id))!;
    const transitions = stored.history.slice(1);
    expect(transitions).toHaveLength(accepted.length);
    expect(stored.version).toBe(1 + accepted.length);
    let status = 'PENDING_APPROVAL';
    for (const t of transitions) {
      expect(t.from).toBe(status);
      status = t.to;
    }
    expect(stored.status).toBe(status);
    if (accepted.length === 2) expect(transitions.map((t) => t.to)).toEqual(['APPROVED', 'CANCELLED']);
  });
});

describe('50 concurrent revokes and extensions on one ACTIVE grant', () => {
  it('each accepted call is exactly one history entry; everything else is a 409; one revoke at most', async () => {
    const carol = as('carol@example.com');
    const created = await callApi('createGrant', {
      claims: carol,
      body: { target: { type: 'account', accountId: '444444444444', permissionSet: 'ReadOnlyAccess' }, duration: 'PT1H', justification: 'race' },
    });
    const { store, clock } = cloud.runtime;
    const now = clock.now().toISOString();
    const wf = { id: 'system:workflow', name: 'wf' };
    let g = (await store.get(created.body.id))!;
    g = await store.transition({ current: g, to: 'ACTIVATING', entry: { at: now, actor: wf, action: 'activating' } });
    g = await store.transition({ current: g, to: 'ACTIVE', set: { activatedAt: now, expiresAt: new Date(Date.parse(now) + 3600_000).toISOString() }, entry: { at: now, actor: wf, action: 'activated' } });
    const before = g.history.length;

    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        i % 2 === 0
          ? callApi('revokeGrant', { claims: carol, params: { id: g.id }, body: { reason: `revoke ${i}` } })
          : callApi('extendGrant', { claims: carol, params: { id: g.id }, body: { duration: 'PT15M' } }),
      ),
    );
    const accepted = results.filter((r) => r.status === 200);
    expect(results.filter((r) => r.status !== 200).every((r) => r.status === 409 || r.status === 422)).toBe(true);
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    const stored = (await store.get(g.id))!;
    const added = stored.history.slice(before);
    expect(added).toHaveLength(accepted.length);
    expect(stored.version).toBe(g.version + accepted.length);
    expect(added.filter((h) => h.to === 'REVOKING').length).toBeLessThanOrEqual(1);
    // Nothing follows a revoke: once REVOKING, every later extend or revoke lost.
    const revokeAt = added.findIndex((h) => h.to === 'REVOKING');
    if (revokeAt >= 0) expect(revokeAt).toBe(added.length - 1);
    for (const r of results.filter((x) => x.status === 409)) expect(r.body.detail).toMatch(/changed by another request|already being revoked|only an ACTIVE grant/);
  });
});
