/**
 * Idempotency-Key when a first attempt is still running (or timed out) as the
 * client retries: both share the claimed grant id; whichever writes first wins
 * and the other answers with that grant instead of a conflict. A write that
 * fails gives its claim back, unless the grant is there after all.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
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

describe('Idempotency-Key when the grant write fails', () => {
  const claimOf = async (principalId: string, key: string) => {
    const { runtime } = cloud;
    const out = await runtime.clients.dynamodb.send(
      new GetItemCommand({ TableName: runtime.config.GRANTS_TABLE, Key: { pk: { S: `IDEMPOTENCY#${principalId}#${key}` }, sk: { S: 'IDEMPOTENCY' } }, ConsistentRead: true }),
    );
    return out.Item;
  };
  const serviceWith = (store: typeof cloud.runtime.store) => {
    const { runtime } = cloud;
    return new GrantService({ store, directory: runtime.directory, policy: runtime.policy, workflows: runtime.workflows, clock: runtime.clock, maxStartAheadMs: 86_400_000 });
  };

  it('gives the claim back, so a retry with the key files the request afresh', async () => {
    const { runtime } = cloud;
    const failing = Object.create(runtime.store) as typeof runtime.store;
    failing.create = async () => {
      throw new Error('write failed');
    };
    const bob = await runtime.service.callerForEmail('bob@example.com');
    const key = `fails-${Date.now()}`;
    await expect(serviceWith(failing).request(bob, body, key)).rejects.toThrow('write failed');
    expect(await claimOf(bob.userId, key)).toBeUndefined();

    const retry = await runtime.service.request(bob, body, key);
    expect(retry.replayed).toBe(false);
    expect((await claimOf(bob.userId, key))?.grantId?.S).toBe(retry.grant.id);
  });

  it('leaves nothing when DynamoDB refuses the item (an oversize justification that skipped validation)', async () => {
    const { runtime } = cloud;
    const bob = await runtime.service.callerForEmail('bob@example.com');
    const key = `oversize-${Date.now()}`;
    await expect(runtime.service.request(bob, { ...body, justification: 'x'.repeat(300 * 1024) }, key)).rejects.toThrow(/size/i);
    expect(await claimOf(bob.userId, key)).toBeUndefined();
  });

  it('keeps the claim when the write landed before its error', async () => {
    const { runtime } = cloud;
    const landsThenFails = Object.create(runtime.store) as typeof runtime.store;
    landsThenFails.create = async (g: Grant) => {
      await runtime.store.create(g);
      throw new Error('connection reset after the write');
    };
    const bob = await runtime.service.callerForEmail('bob@example.com');
    const key = `landed-${Date.now()}`;
    await expect(serviceWith(landsThenFails).request(bob, body, key)).rejects.toThrow('connection reset');
    const claim = await claimOf(bob.userId, key);
    expect(claim).toBeDefined();
    const retry = await runtime.service.request(bob, body, key);
    expect(retry).toMatchObject({ replayed: true, grant: { id: claim?.grantId?.S } });
  });
});
