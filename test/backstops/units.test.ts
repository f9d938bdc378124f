/** Pure parts of the backstops: execution names, status age, pacing, settings, the policy's reconcile section. */
import { describe, expect, it } from 'vitest';
import { Pacer } from '../../lib/backstops/pacer.ts';
import { loadBackstopEnv, reconcileCallsPerSecond, sweeperSettings } from '../../lib/config.ts';
import { statusSince, sweepRevokeExecutionName } from '../../lib/backstops/sweeper.ts';
import type { Grant } from '../../lib/domain/grant.ts';
import { ConfigError } from '../../lib/errors.ts';
import { parsePolicy } from '../../lib/policy/load.ts';

const ID = '01JTESTGRANT0000000000000A';
const WINDOW = 15 * 60_000;

describe('sweep revoke execution names', () => {
  it('are stable within a window, new in the next, distinct from the schedule names, and within 80 characters', () => {
    const t = Date.parse('2026-03-01T10:07:00Z');
    const a = sweepRevokeExecutionName(ID, new Date(t), WINDOW);
    expect(a).toBe(`revoke-${ID}-sweep-${Date.parse('2026-03-01T10:00:00Z') / 1000}`);
    expect(sweepRevokeExecutionName(ID, new Date(t + 7 * 60_000), WINDOW)).toBe(a);
    expect(sweepRevokeExecutionName(ID, new Date(t + 8 * 60_000), WINDOW)).not.toBe(a);
    expect(a.length).toBeLessThanOrEqual(80);
    expect(a).toMatch(/^[0-9A-Za-z_-]+$/);
  });
});

describe('statusSince', () => {
  const base = { requestedAt: '2026-01-01T00:00:00.000Z' } as Grant;
  it('is the time of the transition into the current status, ignoring self-edges (extensions, partial approvals)', () => {
    const grant = {
      ...base,
      status: 'ACTIVE',
      history: [
        { at: '2026-01-01T00:00:00.000Z', from: null, to: 'APPROVED' },
        { at: '2026-01-01T00:01:00.000Z', from: 'ACTIVATING', to: 'ACTIVE' },
        { at: '2026-01-01T00:30:00.000Z', from: 'ACTIVE', to: 'ACTIVE' },
      ],
    } as unknown as Grant;
    expect(new Date(statusSince(grant)).toISOString()).toBe('2026-01-01T00:01:00.000Z');
  });
});

describe('Pacer', () => {
  it('spaces calls to the rate, however many wait at once', async () => {
    let now = 1_000;
    const slept: number[] = [];
    const pacer = new Pacer(5, () => now, async (ms) => {
      slept.push(ms);
    });
    await Promise.all([pacer.take(), pacer.take(), pacer.take()]);
    expect(slept).toEqual([200, 400]);
    now += 1_000; // idle for a while: no debt carried over
    await pacer.take();
    expect(slept).toEqual([200, 400]);
  });

  it('refuses a rate of zero', () => {
    expect(() => new Pacer(0)).toThrow(RangeError);
  });
});

describe('backstop settings', () => {
  it('defaults: 20 s grace after expiry, 10 s in REVOKING and 20 s in ACTIVATING with no workflow running, 1 min attempt windows, a quarter of the Identity Center quota (5 calls/s)', () => {
    const env = loadBackstopEnv({});
    expect(sweeperSettings(env)).toMatchObject({ activeGraceMs: 20_000, revokingGraceMs: 10_000, activatingRestartMs: 20_000, attemptWindowMs: 60_000 });
    expect(reconcileCallsPerSecond(env)).toBe(5);
    expect(env.RECONCILE_STRATEGY).toBe('auto');
  });

  it('names every bad variable', () => {
    expect(() => loadBackstopEnv({ SWEEP_ACTIVE_GRACE_SECONDS: 'soon', RECONCILE_QUOTA_SHARE: '1.5' })).toThrow(ConfigError);
    expect(() => loadBackstopEnv({ SWEEP_ACTIVE_GRACE_SECONDS: 'soon' })).toThrow(/SWEEP_ACTIVE_GRACE_SECONDS/);
  });
});

describe('policy reconcile section', () => {
  const rules = 'rules:\n  - id: r\n    requesters: { users: [a@example.com] }\n    targets: { groups: [G] }\n    approval: { autoApprove: true }\n';
  it('defaults removeUnmanaged to false', () => {
    expect(parsePolicy(`version: 1\n${rules}`).reconcile).toEqual({ removeUnmanaged: false });
    expect(parsePolicy(`version: 1\nreconcile: {}\n${rules}`).reconcile).toEqual({ removeUnmanaged: false });
  });
  it('reads removeUnmanaged: true', () => {
    expect(parsePolicy(`version: 1\nreconcile:\n  removeUnmanaged: true\n${rules}`).reconcile.removeUnmanaged).toBe(true);
  });
  it('rejects unknown fields and non-booleans with the line', () => {
    expect(() => parsePolicy(`version: 1\nreconcile:\n  removeUnmanaged: yes please\n${rules}`)).toThrow(/:3:\d+ reconcile\.removeUnmanaged/);
    expect(() => parsePolicy(`version: 1\nreconcile:\n  removeAll: true\n${rules}`)).toThrow(/reconcile/);
  });
});
