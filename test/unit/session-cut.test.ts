import { describe, expect, it } from 'vitest';
import { cutoffSecond, denyStatements, dueForLift, SCP_MAX_CHARACTERS, scpContents, sessionDurationMs, sessionsValidUntil, sessionTerms, type SessionCutEntry } from '../../lib/domain/session-cut.ts';

const userId = (n: number) => `9067${String(n).padStart(6, '0')}-aaaa-bbbb-cccc-${String(n).padStart(12, '0')}`;

describe('session cut content', () => {
  it('rounds the cutoff up to the whole second', () => {
    expect(cutoffSecond('2026-11-30T12:00:00.001Z')).toBe('2026-11-30T12:00:01Z');
    expect(cutoffSecond('2026-11-30T12:00:00.000Z')).toBe('2026-11-30T12:00:00Z');
  });

  it('reads SessionDuration, one hour when absent, and refuses what is not one', () => {
    expect(sessionDurationMs('PT12H')).toBe(12 * 3_600_000);
    expect(sessionDurationMs('PT1H30M')).toBe(90 * 60_000);
    expect(sessionDurationMs(undefined)).toBe(3_600_000);
    expect(() => sessionDurationMs('P1D')).toThrow(/not a SessionDuration/);
  });

  it('merges users that share a cutoff into one deny statement, keyed on identitystore:userId and aws:TokenIssueTime', () => {
    const statements = denyStatements([
      { userId: 'u2', cutoff: '2026-11-30T12:00:01Z' },
      { userId: 'u1', cutoff: '2026-11-30T12:00:01Z' },
      { userId: 'u1', cutoff: '2026-11-30T12:00:01Z' },
      { userId: 'u3', cutoff: '2026-11-30T12:05:00Z' },
    ]);
    expect(statements).toHaveLength(2);
    expect(statements[0]).toEqual({
      Sid: 'SessionsIssuedBefore20261130120001',
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: { StringEquals: { 'identitystore:userId': ['u1', 'u2'] }, DateLessThan: { 'aws:TokenIssueTime': '2026-11-30T12:00:01Z' } },
    });
    expect(statements[1]!.Condition.StringEquals['identitystore:userId']).toEqual(['u3']);
  });

  it('keeps each SCP within 5,120 characters and spills the rest into the next, losing no user', () => {
    const entries = Array.from({ length: 300 }, (_, i) => ({ userId: userId(i), cutoff: `2026-11-30T12:${String(i % 7).padStart(2, '0')}:00Z` }));
    const contents = scpContents(entries);
    expect(contents.length).toBeGreaterThan(1);
    const seen = new Set<string>();
    for (const c of contents) {
      expect(c.length).toBeLessThanOrEqual(SCP_MAX_CHARACTERS);
      expect(c).toBe(JSON.stringify(JSON.parse(c)));
      for (const s of JSON.parse(c).Statement) for (const u of s.Condition.StringEquals['identitystore:userId']) seen.add(`${u}@${s.Condition.DateLessThan['aws:TokenIssueTime']}`);
    }
    expect(seen.size).toBe(300);
  });

  it('one small cut is one policy; nothing to cut is no policy', () => {
    expect(scpContents([{ userId: 'u1', cutoff: '2026-11-30T12:00:01Z' }])).toHaveLength(1);
    expect(scpContents([])).toEqual([]);
  });

  it('lifts only the entries whose lift time has come', () => {
    const e = (liftAt: string): SessionCutEntry => ({ accountId: '111111111111', userId: 'u', cutoff: '2026-11-30T11:00:00Z', liftAt, grantId: 'g' });
    expect(dueForLift([e('2026-11-30T12:00:00.000Z'), e('2026-11-30T12:00:01.000Z')], new Date('2026-11-30T12:00:00Z')).map((x) => x.liftAt)).toEqual(['2026-11-30T12:00:00.000Z']);
  });

  it('says what happens to sessions: cut with scp, valid until expiry + SessionDuration otherwise', () => {
    const on = sessionTerms('scp', 'PT8H', false);
    expect(on).toMatchObject({ duration: 'PT8H', revocation: 'scp' });
    expect(sessionsValidUntil(on, '2026-11-30T12:00:00Z')).toBeUndefined();
    const off = sessionTerms('off', 'PT8H', false);
    expect(off.note).toBe('Session revocation is off: a session started during the grant stays valid for up to 8 hours after it ends.');
    expect(sessionsValidUntil(off, '2026-11-30T12:00:00Z')).toBe('2026-11-30T20:00:00.000Z');
    const management = sessionTerms('scp', 'PT1H', true);
    expect(management.revocation).toBe('not-applicable-management-account');
    expect(management.note).toMatch(/management account, where service control policies do not apply/);
    expect(sessionsValidUntil(management, '2026-11-30T12:00:00Z')).toBe('2026-11-30T13:00:00.000Z');
  });
});
