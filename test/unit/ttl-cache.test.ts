import { describe, expect, it } from 'vitest';
import { TtlCache } from '../../lib/ttl-cache.ts';

function counting<V>(answer: () => Promise<V>) {
  const load = () => {
    load.calls++;
    return answer();
  };
  load.calls = 0;
  return load;
}

describe('TtlCache', () => {
  it('shares one load between concurrent lookups and keeps the answer for the TTL', async () => {
    let t = 0;
    const cache = new TtlCache<string>({ ttlMs: 1000, now: () => t, keepUndefined: true });
    const load = counting(async () => 'v');
    expect(await Promise.all([cache.get('k', load), cache.get('k', load)])).toEqual(['v', 'v']);
    t = 999;
    await cache.get('k', load);
    expect(load.calls).toBe(1);
    t = 1000;
    await cache.get('k', load);
    expect(load.calls).toBe(2);
  });

  it('never keeps a failed load', async () => {
    const cache = new TtlCache<string>({ ttlMs: 1000, now: () => 0, keepUndefined: true });
    await expect(cache.get('k', async () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await cache.get('k', async () => 'back')).toBe('back');
  });

  it.each([
    [true, 1],
    [false, 2],
  ])('keepUndefined: %s → %s loads for two lookups of a miss', async (keepUndefined, loads) => {
    const cache = new TtlCache<string | undefined>({ ttlMs: 1000, now: () => 0, keepUndefined });
    const load = counting(async () => undefined);
    await cache.get('k', load);
    await cache.get('k', load);
    expect(load.calls).toBe(loads);
  });

  it('forgets everything on clear', async () => {
    const cache = new TtlCache<string>({ ttlMs: 1000, now: () => 0, keepUndefined: true });
    const load = counting(async () => 'v');
    await cache.get('k', load);
    cache.clear();
    await cache.get('k', load);
    expect(load.calls).toBe(2);
  });
});
