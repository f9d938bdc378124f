/**
 * The pagination cursor codec (lib/http/cursor.ts): what it issues comes back as it went out
 * for the same caller and list, and everything else is a 400 ValidationError naming `cursor`
 * whose detail sends the caller back to the first page.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors.ts';
import { CursorCodec, MAX_CURSOR_LENGTH, type CursorScope } from '../../lib/http/cursor.ts';

const KEY = 'k'.repeat(32) + 'AbCdEfGhIjKlMnOpQrStUvWxYz012345';
const T0 = Date.parse('2030-01-01T00:00:00Z');
const codec = (now = () => T0, key = KEY) => new CursorCodec(key, { now });
const carol: CursorScope = { userId: 'u-carol', view: 'mine' };
const position = Buffer.from(JSON.stringify({ gsi1pk: 'USER#u-carol', gsi1sk: '01JD2X7Q8R9S0T1V2W3X4Y5Z6A', pk: 'GRANT#01JD2X7Q8R9S0T1V2W3X4Y5Z6A', sk: 'GRANT' })).toString('base64url');

/** The reason a cursor is refused; fails the test when it is accepted or refused some other way. */
function refusal(open: () => unknown): string {
  try {
    open();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    const err = e as ValidationError;
    expect(err.status).toBe(400);
    expect(err.message).toBe('cursor is not valid: start again from the first page (omit cursor)');
    expect(err.fields).toHaveLength(1);
    expect(err.fields![0]!.field).toBe('cursor');
    return err.fields![0]!.message;
  }
  throw new Error('the cursor was accepted');
}

/** The same MAC the codec computes, for crafting payloads it never issued. */
function forge(payload: unknown, key = KEY): string {
  const derived = createHmac('sha256', Buffer.from(key)).update('identity-center-jit/cursor/v1').digest();
  const body = Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)).toString('base64url');
  return `${body}.${createHmac('sha256', derived).update(body).digest('base64url')}`;
}

describe('CursorCodec', () => {
  it('round-trips a position for the caller and list it was issued for', () => {
    const c = codec();
    for (const scope of [carol, { userId: 'u-dave', view: 'approvals' }, { userId: 'u-alice', view: 'all', status: 'ACTIVE' }] satisfies CursorScope[]) {
      for (const p of [position, '0.', `3.${position}`, 'x']) {
        const cursor = c.seal(p, scope);
        expect(cursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
        expect(c.open(cursor, scope)).toBe(p);
      }
    }
  });

  it('accepts its cursors in another container with the same key (nothing is kept in memory)', () => {
    expect(codec().open(codec().seal(position, carol), carol)).toBe(position);
  });

  it('refuses a tampered payload: any one character changed', () => {
    const c = codec();
    const cursor = c.seal(position, carol);
    const dot = cursor.indexOf('.');
    for (let i = 0; i < dot; i++) {
      const other = cursor[i] === 'A' ? 'B' : 'A';
      expect(refusal(() => c.open(cursor.slice(0, i) + other + cursor.slice(i + 1), carol))).toMatch(/not a cursor this API issued/);
    }
  });

  it('refuses a tampered MAC: every bit of it flipped in turn', () => {
    const c = codec();
    const cursor = c.seal(position, carol);
    const [body, mac] = cursor.split('.') as [string, string];
    const bytes = Buffer.from(mac, 'base64url');
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const flipped = Buffer.from(bytes);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      expect(refusal(() => c.open(`${body}.${flipped.toString('base64url')}`, carol))).toMatch(/altered|not a cursor/);
    }
  });

  it('refuses a payload with its MAC moved onto another payload (splicing two real cursors)', () => {
    const c = codec();
    const a = c.seal(position, carol).split('.');
    const b = c.seal('other', carol).split('.');
    refusal(() => c.open(`${a[0]}.${b[1]}`, carol));
  });

  it('refuses truncated cursors of every length', () => {
    const c = codec();
    const cursor = c.seal(position, carol);
    for (let n = 0; n < cursor.length; n++) refusal(() => c.open(cursor.slice(0, n), carol));
    for (let n = 1; n < cursor.length; n++) refusal(() => c.open(cursor.slice(n), carol));
  });

  it('refuses re-encodings that decode to the same bytes: padding, standard base64, other trailing bits, percent-encoding', () => {
    const c = codec();
    const cursor = c.seal(`${position}xy`, carol);
    const [body, mac] = cursor.split('.') as [string, string];
    const std = (s: string) => Buffer.from(s, 'base64url').toString('base64');
    const variants = [
      `${std(body)}.${mac}`,
      `${body}.${std(mac)}`,
      `${std(body)}.${std(mac)}`,
      `${body}=.${mac}`,
      `${body}==.${mac}`,
      `${body}.${mac}=`,
      ` ${cursor}`,
      `${cursor}\n`,
      encodeURIComponent(cursor).replace('.', '%2E'),
      cursor.replace('.', '..'),
      `${cursor}.${mac}`,
    ];
    // Same bytes, other text: the last character's unused low bits set differently.
    const last = body.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = [...alphabet].find((ch) => ch !== last && Buffer.from(body.slice(0, -1) + ch, 'base64url').equals(Buffer.from(body, 'base64url')));
    if (sibling) variants.push(`${body.slice(0, -1)}${sibling}.${mac}`);
    expect(variants.length).toBeGreaterThan(10);
    for (const v of variants) refusal(() => c.open(v, carol));
  });

  it('refuses empty, degenerate and huge cursors without looking further', () => {
    const c = codec();
    for (const v of ['', '.', '..', 'a.', '.a', 'abc', 'a'.repeat(43), `.${'a'.repeat(43)}`, `${'a'.repeat(MAX_CURSOR_LENGTH)}.${'a'.repeat(43)}`, 'x'.repeat(1_000_000)]) {
      expect(refusal(() => c.open(v, carol))).toBe('not a cursor this API issued');
    }
  });

  it("refuses another caller's cursor, even for the same view", () => {
    const c = codec();
    expect(refusal(() => c.open(c.seal(position, { userId: 'u-bob', view: 'mine' }), carol))).toBe('issued to another caller');
  });

  it("refuses another view's or another status filter's cursor", () => {
    const c = codec();
    const cursor = c.seal(position, carol);
    for (const scope of [
      { userId: carol.userId, view: 'all' },
      { userId: carol.userId, view: 'approvals' },
      { userId: carol.userId, view: 'mine', status: 'ACTIVE' },
    ] satisfies CursorScope[]) {
      expect(refusal(() => c.open(cursor, scope))).toBe('issued for another view or status filter');
    }
    const filtered = c.seal(position, { ...carol, status: 'ACTIVE' });
    expect(refusal(() => c.open(filtered, carol))).toBe('issued for another view or status filter');
    expect(refusal(() => c.open(filtered, { ...carol, status: 'EXPIRED' }))).toBe('issued for another view or status filter');
  });

  it('refuses cursors signed with another key (another deployment, or a replaced secret)', () => {
    const cursor = codec(() => T0, 'z'.repeat(64)).seal(position, carol);
    expect(refusal(() => codec().open(cursor, carol))).toMatch(/not a cursor this API issued/);
  });

  it('refuses cursors older than a day, and cursors from the future beyond clock skew', () => {
    let now = T0;
    const c = codec(() => now);
    const cursor = c.seal(position, carol);
    now = T0 + 24 * 3600_000;
    expect(c.open(cursor, carol)).toBe(position);
    now = T0 + 24 * 3600_000 + 1000;
    expect(refusal(() => c.open(cursor, carol))).toBe('expired');
    now = T0 - 10 * 60_000;
    expect(refusal(() => c.open(cursor, carol))).toBe('expired');
  });

  it('refuses a correctly signed payload of another shape (what a reused key or an older version would carry)', () => {
    const c = codec();
    const t = T0 / 1000;
    const bad: unknown[] = [
      'not json',
      '[]',
      'null',
      { a: 1 },
      { v: 2, u: carol.userId, w: 'mine', s: null, p: position, t },
      { v: 1, u: carol.userId, w: 'mine', s: null, p: '', t },
      { v: 1, u: carol.userId, w: 'mine', s: null, p: { gsi1pk: 'USER#u-bob' }, t },
      { v: 1, u: carol.userId, w: 'mine', p: position, t },
      { v: 1, u: carol.userId, w: 'mine', s: null, p: position, t: '0' },
    ];
    for (const payload of bad) refusal(() => c.open(forge(payload), carol));
    // The forging helper is right: a well-formed payload it signs is accepted.
    expect(c.open(forge({ v: 1, u: carol.userId, w: 'mine', s: null, p: position, t }), carol)).toBe(position);
  });

  it('will not run with a short key', () => {
    expect(() => new CursorCodec('short')).toThrow(/at least 32 bytes/);
  });
});
