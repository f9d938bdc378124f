/**
 * Invariant 6 for pagination cursors, as a property over GET /grants in every view: whatever
 * arrives as `cursor` (random text, base64url of random JSON with or without the approvals
 * view's `N.` prefix, truncations and bit flips of real cursors, real cursors of other callers,
 * views and filters), the answer is never a 5xx; anything but a cursor the API issued to this
 * caller for this list is a 400 naming the cursor; and such a cursor is always accepted and
 * opens the page it was issued for.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, callApi } from '../support/api.ts';
import { startApiTestCloud, type ApiTestCloud } from '../support/cloud.ts';
import { CALLERS_OF_VIEW, collectCursors, listQuery, seedPagingGrants, type IssuedCursor, type View } from '../support/paging.ts';

/** Generated cursors per view. */
const RUNS = 5_000;
const STATUSES = [undefined, 'ACTIVE', 'APPROVED', 'PENDING_APPROVAL'] as const;

let cloud: ApiTestCloud;
let issued: IssuedCursor[];

beforeAll(async () => {
  cloud = await startApiTestCloud({ knobs: { throttleTps: 0 } });
  await seedPagingGrants(cloud);
  const lists: Array<{ email: string; view: View; status?: string }> = [];
  for (const [view, emails] of Object.entries(CALLERS_OF_VIEW) as [View, readonly string[]][]) for (const email of emails) lists.push({ email, view });
  lists.push({ email: 'carol@example.com', view: 'mine', status: 'APPROVED' }, { email: 'alice@example.com', view: 'all', status: 'ACTIVE' });
  issued = await collectCursors(lists);
}, 60_000);
afterAll(async () => cloud?.stop());

const b64url = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64url');

interface Case {
  cursor: string;
  status: string | undefined;
}

function cases(): fc.Arbitrary<Case> {
  const real = fc.constantFrom(...issued);
  const status = fc.constantFrom(...STATUSES);
  const text = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 120 }), fc.stringMatching(/^[A-Za-z0-9_.-]{1,200}$/));
  const jsonCursor = fc
    .tuple(fc.option(fc.nat({ max: 9 })), fc.jsonValue({ maxDepth: 3 }), fc.option(fc.uint8Array({ minLength: 0, maxLength: 40 })))
    .map(([rule, json, mac]) => `${rule === null ? '' : `${rule}.`}${b64url(JSON.stringify(json) ?? '')}${mac === null ? '' : `.${b64url(Buffer.from(mac))}`}`);
  const truncated = fc.tuple(real, fc.nat(), fc.boolean()).map(([c, n, head]) => {
    const at = n % c.cursor.length;
    return head ? c.cursor.slice(0, at) : c.cursor.slice(at + 1);
  });
  const textFlip = fc.tuple(real, fc.nat(), fc.integer({ min: 0, max: 6 })).map(([c, n, bit]) => {
    const at = n % c.cursor.length;
    return c.cursor.slice(0, at) + String.fromCharCode(c.cursor.charCodeAt(at) ^ (1 << bit)) + c.cursor.slice(at + 1);
  });
  // Bit flips inside the decoded payload or MAC, re-encoded: still well-formed base64url, so they reach the MAC check.
  const byteFlip = fc.tuple(real, fc.boolean(), fc.nat(), fc.integer({ min: 0, max: 7 })).map(([c, inMac, n, bit]) => {
    const parts = c.cursor.split('.') as [string, string];
    const i = inMac ? 1 : 0;
    const bytes = Buffer.from(parts[i], 'base64url');
    bytes[n % bytes.length]! ^= 1 << bit;
    parts[i] = b64url(bytes);
    return parts.join('.');
  });
  // A real cursor's payload under another one's MAC, or re-encoded as standard base64.
  const spliced = fc.tuple(real, real).map(([a, b]) => `${a.cursor.split('.')[0]}.${b.cursor.split('.')[1]}`);
  const reencoded = real.map((c) => c.cursor.split('.').map((p) => Buffer.from(p, 'base64url').toString('base64')).join('.'));
  return fc.oneof(
    { weight: 3, arbitrary: fc.tuple(fc.oneof(text, jsonCursor, truncated, textFlip, byteFlip, spliced, reencoded), status).map(([cursor, s]) => ({ cursor, status: s })) },
    // A real cursor with the filter it was issued for, or with another one.
    { weight: 1, arbitrary: fc.tuple(real, fc.boolean(), status).map(([c, same, s]) => ({ cursor: c.cursor, status: same ? c.status : s })) },
  );
}

describe.each(Object.keys(CALLERS_OF_VIEW) as View[])('GET /grants?view=%s', (view) => {
  it(`answers ${RUNS} generated cursors with a 400 naming the cursor, or the page a genuine one opens; never a 5xx`, async () => {
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...CALLERS_OF_VIEW[view]), cases(), async (email, c) => {
        const res = await callApi('listGrants', { claims: as(email), query: listQuery(view, c.cursor, c.status) });
        const detail = JSON.stringify(res.body);
        expect(res.status, detail).toBeLessThan(500);
        // A mutation can give back the cursor unchanged (a re-encoding without '-', '_' or padding; a cursor spliced with itself).
        const own = issued.find((i) => i.cursor === c.cursor && i.email === email && i.view === view && i.status === c.status);
        if (own) {
          expect(res.status, detail).toBe(200);
          expect(res.body.items.map((g: { id: string }) => g.id)).toEqual(own.next);
          accepted++;
        } else {
          expect(res.status, detail).toBe(400);
          expect(res.headers['content-type']).toBe('application/problem+json');
          // `cursor` from the cursor check; `query.cursor` when the query schema refuses it first (empty, too long).
          expect(res.body.errors.map((e: { field: string }) => e.field), detail).toEqual(expect.arrayContaining([expect.stringMatching(/^(query\.)?cursor$/)]));
          refused++;
        }
      }),
      { numRuns: RUNS },
    );
    expect(accepted + refused).toBeGreaterThanOrEqual(RUNS);
    expect(refused).toBeGreaterThan(RUNS / 2);
    // Each view has cursors of its own callers, and the generator hands them over unchanged.
    expect(accepted).toBeGreaterThan(0);
  }, 120_000);
});
