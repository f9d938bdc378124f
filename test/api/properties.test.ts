/**
 * Invariant 6 as a property: whatever arrives over HTTP, every route answers
 * with a 2xx or a 4xx problem, never a 5xx.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATIONS } from '../../lib/http/schemas.ts';
import { callApi } from '../support/api.ts';
import { startApiTestCloud, type ApiTestCloud } from '../support/cloud.ts';

let cloud: ApiTestCloud;
beforeAll(async () => {
  cloud = await startApiTestCloud({ knobs: { throttleTps: 0 } });
});
afterAll(async () => cloud?.stop());

const emails = ['carol@example.com', 'bob@example.com', 'dave@example.com', 'alice@example.com', 'nobody@example.com', '', 'CAROL@EXAMPLE.COM'];
const anyJson = fc.jsonValue({ maxDepth: 3 });
const plausibleTarget = fc.oneof(
  fc.record({ type: fc.constant('account'), accountId: fc.constantFrom('444444444444', '555555555555', '111111111111', '12', 'x'), permissionSet: fc.constantFrom('ReadOnlyAccess', 'PowerUserAccess', 'AdministratorAccess', 'Nope', '') }),
  fc.record({ type: fc.constant('group'), group: fc.constantFrom('BreakGlass', 'Developers', '', 'x'.repeat(2000)) }),
  anyJson,
);
const plausibleBody = fc.oneof(
  fc.record(
    {
      target: plausibleTarget,
      duration: fc.constantFrom('PT1H', 'PT15M', 'PT9H', 'P1D', 'PT0S', 'P', '1h', 'PT99999999H'),
      justification: fc.oneof(fc.string(), fc.constant('fix')),
      ticket: fc.string(),
      startsAt: fc.oneof(fc.constant(new Date(Date.now() + 3600_000).toISOString()), fc.constant('2000-01-01T00:00:00Z'), fc.string()),
      comment: fc.string(),
      reason: fc.string(),
    },
    { requiredKeys: [] },
  ),
  anyJson,
);
const rawBody = fc.oneof(plausibleBody.map((b) => JSON.stringify(b)), fc.string(), fc.constant(''), fc.constant('{'));
const grantId = fc.oneof(fc.constant('01JD2X7Q8R9S0T1V2W3X4Y5Z6A'), fc.string({ maxLength: 40 }), fc.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/));
const query = fc.record(
  {
    view: fc.constantFrom('mine', 'approvals', 'active', 'all', 'bogus', ''),
    status: fc.constantFrom('ACTIVE', 'PENDING_APPROVAL', 'nope'),
    limit: fc.oneof(fc.integer({ min: -5, max: 200 }).map(String), fc.string({ maxLength: 5 })),
    cursor: fc.oneof(fc.string({ maxLength: 30 }), fc.base64String({ maxLength: 40 })),
  },
  { requiredKeys: [] },
);

describe.each(OPERATIONS.filter((o) => o.auth).map((o) => o.functionName))('%s', (functionName) => {
  it('never answers 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...emails), rawBody, grantId, query, fc.option(fc.string({ maxLength: 300 })), fc.constantFrom('application/json', 'text/plain', 'application/merge-patch+json'), async (email, body, id, q, idem, contentType) => {
        const res = await callApi(functionName, {
          claims: email ? { email } : {},
          rawBody: body,
          params: { id },
          query: q as Record<string, string>,
          headers: { 'content-type': contentType, ...(idem !== null ? { 'idempotency-key': idem } : {}) },
        });
        expect(res.status, JSON.stringify(res.body)).toBeLessThan(500);
        if (res.status >= 400) expect(res.headers['content-type']).toBe('application/problem+json');
      }),
      { numRuns: 60 },
    );
  });
});
