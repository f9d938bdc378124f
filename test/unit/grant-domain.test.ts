import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDuration, formatDuration, parseDuration } from '../../lib/domain/duration.ts';
import { canTransition, GRANT_STATUSES, isTerminal, STATUS_EDGES, TERMINAL_STATUSES } from '../../lib/domain/grant.ts';

describe('status edges', () => {
  it('follow docs/design.md: the lifecycle chain and the terminal statuses', () => {
    for (const [from, to] of [
      ['PENDING_APPROVAL', 'APPROVED'],
      ['APPROVED', 'ACTIVATING'],
      ['SCHEDULED', 'ACTIVATING'],
      ['ACTIVATING', 'ACTIVE'],
      ['ACTIVE', 'REVOKING'],
      ['REVOKING', 'EXPIRED'],
      ['REVOKING', 'REVOKED'],
    ] as const) expect(canTransition(from, to)).toBe(true);
    expect([...TERMINAL_STATUSES].sort()).toEqual(['APPROVAL_EXPIRED', 'CANCELLED', 'DENIED', 'EXPIRED', 'FAILED', 'REVOKED']);
    expect(canTransition('ACTIVE', 'EXPIRED')).toBe(false); // always through REVOKING
    expect(canTransition('PENDING_APPROVAL', 'ACTIVE')).toBe(false);
  });
  it('every non-terminal status can reach a terminal one (invariant 4)', () => {
    for (const s of GRANT_STATUSES) {
      const seen = new Set([s]);
      const queue = [s];
      while (queue.length) for (const n of STATUS_EDGES[queue.shift()!]) if (!seen.has(n)) (seen.add(n), queue.push(n));
      expect([...seen].some(isTerminal), s).toBe(true);
    }
  });
});

describe('durations', () => {
  it('parses the ISO 8601 forms access windows use', () => {
    expect(parseDuration('PT30M')).toBe(1_800_000);
    expect(parseDuration('PT8H')).toBe(28_800_000);
    expect(parseDuration('P1DT2H')).toBe(93_600_000);
    for (const bad of ['', 'P', 'PT', '1h', 'PT1.5H', 'P1W', 'pt1h', 'P1DT']) expect(parseDuration(bad), bad).toBeUndefined();
  });
  it('formats and parses back to the same length', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 400 * 86400 }), (s) => {
        expect(parseDuration(formatDuration(s * 1000))).toBe(s * 1000);
      }),
    );
  });
  it('adds to an instant', () => {
    expect(addDuration('2030-01-01T00:00:00.000Z', 'PT90M')).toBe('2030-01-01T01:30:00.000Z');
  });
});
