/**
 * Idempotency-Key when a first attempt is still running (or timed out) as the
 * client retries: both share the claimed grant id; whichever writes first wins
 * and the other answers with that grant instead of a conflict.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Grant } from '../../lib/domain/grant.ts';
import { GrantService } from '../../lib/service/grants.ts';
import { startApiTestCloud, type ApiTestCloud } from '../support/cloud.ts';

let cloud: ApiTestCloud;
beforeAll(async () => {
  cloud = await startApiTestCloud();
});
afterAll(async () => cloud?.stop());

const body = { target: { type: 'account' as const, accountId: '555555555555', permissionSet: 'PowerUserAccess' }, duration: 'PT1H', justification: 'slow first attempt' };

describe('Idempotency-Key under a slow first attempt', () => {
  it('the slow attempt and its retry both answer with one grant', async () => {
    const { runtime } = cloud;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let creates = 0;
    // The first attempt stalls just before its write, as a Lambda near its timeout would.
    const store = Object.create(runtime.store) as typeof runtime.store;
    store.create = async (g: Grant) => {
      if (creates++ === 0) await gate;
      return runtime.store.create(g);
    };
    const service = new GrantService({ store, directory: runtime.directory, policy: runtime.policy, workflows: runtime.workflows, clock: runtime.clock, maxStartAheadMs: 86_400_000 });
    const bob = await service.callerForEmail('bob@example.com');
    const key = `slow-${Date.now()}`;

    const first = service.request(bob, body, key);
    await new Promise((r) => setTimeout(r, 50)); // the first attempt has claimed the key and is stalled
    const retry = await service.request(bob, body, key);
    release();
    const original = await first;

    expect(retry.grant.id).toBe(original.grant.id);
    expect([retry.replayed, original.replayed].sort()).toEqual([false, true]);
    expect((await runtime.store.get(retry.grant.id))?.justification).toBe('slow first attempt');
  });
});
