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
