/**
 * Invariant 6 on the Slack routes: properly signed requests with random shapes, random
 * types in every field, oversize strings, control characters and unicode, through the
 * real handlers and service (dynalite, the Identity Center emulator, the fake Slack).
 * Every one is answered below 500, no handler throws or logs an unexpected error, and
 * no idempotency claim is left naming a grant that does not exist.
 *
 * Each property sends a batch of requests per run (concurrently, as Slack would) so
 * that every route gets at least 5,000 inputs within the time budget.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDuration } from '../../lib/domain/duration.ts';
import type { Grant } from '../../lib/domain/grant.ts';
import { signSlackRequest } from '../../lib/slack/signature.ts';
import { ACTION, CALLBACK } from '../../lib/slack/views.ts';
import { claimsWithoutGrant } from '../support/idempotency.ts';
import { invoke, SIGNING_SECRET } from './harness.ts';
import { startSlackTestCloud, USERS, type SlackTestCloud } from './slack-cloud.ts';

const RUNS = 500;
const BATCH = 10;

let t: SlackTestCloud;
const unexpected: unknown[] = [];
const grantIds: string[] = [];
let responseUrl = '';

/** What the workflow does on success, through the store (so Revoke and Extend have ACTIVE grants to act on). */
async function activate(grant: Grant): Promise<void> {
  const { store, clock } = t.runtime;
  const actor = { id: 'system:workflow', name: 'grant workflow' };
  const activating = await store.transition({ current: grant, to: 'ACTIVATING', entry: { at: clock.now().toISOString(), actor, action: 'activating' } });
  const at = clock.now().toISOString();
  await store.transition({ current: activating, to: 'ACTIVE', set: { activatedAt: at, expiresAt: addDuration(at, grant.duration) }, entry: { at, actor, action: 'activated' } });
}

beforeAll(async () => {
  t = await startSlackTestCloud({
    knobs: { throttleTps: 0 },
    logger: { info: () => undefined, warn: () => undefined, error: (...args: unknown[]) => void unexpected.push(args) },
    postToResponseUrl: async () => undefined,
  });
  responseUrl = t.slack.newResponseUrl();
  const { service } = t.runtime;
  const bob = await service.callerForEmail('bob@example.com');
  const carol = await service.callerForEmail('carol@example.com');
  for (let i = 0; i < 3; i++) {
    grantIds.push((await service.request(bob, { target: { type: 'account', accountId: '555555555555', permissionSet: 'PowerUserAccess' }, duration: 'PT1H', justification: `pending ${i}` })).grant.id);
    const dev = (await service.request(carol, { target: { type: 'account', accountId: '444444444444', permissionSet: 'ReadOnlyAccess' }, duration: 'PT1H', justification: `active ${i}` })).grant;
    await activate(dev);
    grantIds.push(dev.id);
  }
}, 60_000);
afterAll(async () => t?.stop());

// ---- generators ----------------------------------------------------------------------

const big = ['x'.repeat(1001), 'y'.repeat(5000), 'z'.repeat(70_000), 'w'.repeat(300 * 1024)];
const nasty = fc.constantFrom('\u0000', '\u0007', '\u001b[2J', '\u009b', '\ud800', '\udfff', '😀', 'é', '\u202e', '\t', '\r\n', ' ', '', '<!channel>', '&lt;&gt;&amp;', '"', '“', '”', '|', 'ticket:', 'ticket:X', '../', '%00', '\\', '{}', 'null');
const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: nasty },
  { weight: 2, arbitrary: fc.array(fc.oneof(nasty, fc.string({ maxLength: 8 })), { maxLength: 6 }).map((a) => a.join('')) },
  { weight: 1, arbitrary: fc.constantFrom(...big) },
);
/** A value of any JSON type (or a nasty string) where a field of a known shape belongs. */
const anyJson = fc.oneof(fc.jsonValue({ maxDepth: 2 }), text, fc.constant(null), fc.integer(), fc.array(text, { maxLength: 2 }));
/** Mostly a value of the right shape; now and then one of another type, or the field left out. */
const sometimes = <T>(good: fc.Arbitrary<T>, weight = 20) =>
  fc.oneof({ weight, arbitrary: good as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: anyJson }, { weight: 1, arbitrary: fc.constant(undefined) });

const userId = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(USERS.bob.id, USERS.carol.id, USERS.dave.id, USERS.alice.id) }, { weight: 1, arbitrary: fc.constantFrom(USERS.eve.id, USERS.noEmail.id, 'UNOBODY') }, { weight: 1, arbitrary: text });
const triggerId = fc.oneof({ weight: 6, arbitrary: fc.stringMatching(/^[0-9]{5,12}\.[0-9]{3,8}\.[0-9a-f]{8,32}$/) }, { weight: 1, arbitrary: text });
const knownGrantId = fc.constantFrom(...Array.from({ length: 6 }, (_, i) => i)).map((i) => grantIds[i]!);
const grantIdText = fc.oneof({ weight: 5, arbitrary: knownGrantId }, { weight: 1, arbitrary: knownGrantId.map((id) => id.toLowerCase()) }, { weight: 1, arbitrary: fc.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/) }, { weight: 1, arbitrary: text });
const duration = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('30m', '1h', '2h', '1h30m', 'PT1H', 'pt15m', 'P1D', '9h', '0m', 'PT0S', 'P', 'forever', '99999999999999999999999d', `${'9'.repeat(400)}m`) },
  { weight: 2, arbitrary: fc.stringMatching(/^P(\d{1,3}D)?(T(\d{1,4}H)?(\d{1,4}M)?(\d{1,5}S)?)?$/) },
  { weight: 1, arbitrary: text },
);
const account = fc.oneof({ weight: 4, arbitrary: fc.constantFrom('444444444444', '555555555555', '111111111111', 'payments-dev', 'PAYMENTS-PROD', '"Data Lake Prod"', '12') }, { weight: 1, arbitrary: text });
const permissionSet = fc.oneof({ weight: 4, arbitrary: fc.constantFrom('ReadOnlyAccess', 'PowerUserAccess', 'AdministratorAccess') }, { weight: 1, arbitrary: text });
const words = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('look at logs', 'deploy the fix', 'x') }, { weight: 2, arbitrary: text });
const ticketWord = fc.option(fc.oneof(fc.constantFrom('ticket:INC-1', 'TICKET=OPS-7'), text.map((x) => `ticket:${x}`)), { nil: '' });

const requestText = fc.oneof(
  fc.tuple(account, permissionSet, duration, words, ticketWord).map((p) => `request ${p.join(' ')}`),
  fc.tuple(fc.constantFrom('BreakGlass', 'Developers', 'Nope'), duration, words, ticketWord).map((p) => `request group ${p.join(' ')}`),
  fc.tuple(fc.constantFrom('BreakGlass'), duration, words).map((p) => `REQUEST ${p.join(' ')}`),
);
const commandText = fc.oneof(
  { weight: 5, arbitrary: requestText },
  { weight: 2, arbitrary: fc.tuple(grantIdText, fc.option(words, { nil: '' })).map(([id, why]) => `revoke ${id} ${why}`) },
  { weight: 1, arbitrary: fc.constantFrom('list', 'list mine', 'list approvals', 'list active', 'list all', 'help', '', 'frobnicate', 'request', 'revoke', 'request "unclosed') },
  { weight: 2, arbitrary: text },
);

let seq = 0;
/** Signed as Slack signs; a sequence number in every body keeps identical ones from being refused as replays. */
function signed(fields: [string, string][], contentType = 'application/x-www-form-urlencoded') {
  const body = new URLSearchParams([...fields, ['_n', String(++seq)]]).toString();
  return { body, headers: { 'content-type': contentType, ...signSlackRequest(SIGNING_SECRET, body) } };
}
function signedJson(value: Record<string, unknown>) {
  const body = JSON.stringify({ ...value, _n: ++seq });
  return { body, headers: { 'content-type': 'application/json', ...signSlackRequest(SIGNING_SECRET, body) } };
}
/** Any text as a request body (bytes: a lone surrogate cannot cross the wire, it becomes U+FFFD as it would). */
function signedRaw(raw: string) {
  const body = `${Buffer.from(raw, 'utf8').toString('utf8')}&_n=${++seq}`;
  return { body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(SIGNING_SECRET, body) } };
}

const formOf = (fields: Record<string, unknown>): [string, string][] =>
  Object.entries(fields).flatMap(([k, v]): [string, string][] => (v === undefined ? [] : [[k, typeof v === 'string' ? v : (JSON.stringify(v) ?? '')]]));
const payloadOf = (p: unknown): [string, string][] => [['payload', JSON.stringify(p) ?? '']];

const commandBody = fc.oneof(
  {
    weight: 12,
    arbitrary: fc
      .record(
        { user_id: sometimes(userId), text: sometimes(commandText), trigger_id: sometimes(triggerId), channel_id: sometimes(fc.constantFrom('CREQUESTS', 'DUBOB')), command: fc.constantFrom('/jit', '/other'), response_url: sometimes(fc.constant('http://127.0.0.1:9/response/none')) },
      )
      .map((f) => signed(formOf(f))),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constantFrom('url_verification', 'event_callback'), challenge: anyJson }, { requiredKeys: [] }).map((b) => signedJson(b)) },
  { weight: 1, arbitrary: fc.oneof(text, fc.constant('ssl_check=1')).map((b) => signedRaw(b)) },
);

const action = fc.constantFrom(...Object.values(ACTION), 'jit_other').chain((id) =>
  fc.record({
    type: fc.constant('button'),
    action_id: sometimes(fc.constant(id), 40),
    block_id: fc.constant('b'),
    value: sometimes(id === ACTION.extend ? fc.tuple(grantIdText, duration).map(([g, d]) => `${g}|${d}`) : grantIdText),
  }),
);
const blockActions = fc.record({
  type: fc.constant('block_actions'),
  user: sometimes(fc.record({ id: userId }), 40),
  trigger_id: sometimes(triggerId),
  response_url: sometimes(fc.constant('https://hooks.slack.example/actions/T/1/x')),
  channel: sometimes(fc.record({ id: fc.constantFrom('CPRODACCESS', 'CJITAPPROVALS') })),
  actions: sometimes(fc.array(action, { minLength: 1, maxLength: 2 }), 40),
});

const input = (value: fc.Arbitrary<unknown>) => sometimes(fc.record({ type: fc.constant('plain_text_input'), value }));
const targetOption = fc.oneof({ weight: 10, arbitrary: fc.constantFrom('a|444444444444|ReadOnlyAccess', 'a|555555555555|PowerUserAccess', 'g|BreakGlass', 'a|12|x', 'g|', 'x', 'a|444444444444|') }, { weight: 1, arbitrary: text.map((x) => `g|${x}`) }, { weight: 1, arbitrary: anyJson });
const select = sometimes(fc.record({ type: fc.constant('static_select'), selected_option: sometimes(fc.record({ value: targetOption })) }));
const block = (id: string, element: fc.Arbitrary<unknown>) => sometimes(element.map((e) => ({ [id]: e })));
const requestState = fc.record({
  target: block('target', select),
  duration: block('duration', input(duration)),
  justification: block('justification', input(words)),
  ticket: block('ticket', input(fc.oneof(fc.constant(null), fc.constant(''), text))),
});
const decisionState = fc.record({ comment: block('comment', input(fc.oneof(fc.constant(null), words))) });
const metadata = fc.oneof(
  { weight: 10, arbitrary: fc.record({ grantId: sometimes(grantIdText), decision: fc.constantFrom('approve', 'deny', 'maybe'), channel: fc.constant('CPRODACCESS'), responseUrl: fc.constant('https://hooks.slack.example/x') }).map((m) => JSON.stringify(m)) },
  { weight: 1, arbitrary: text },
  { weight: 1, arbitrary: anyJson },
);
const viewSubmission = fc.constantFrom(CALLBACK.request, CALLBACK.request, CALLBACK.decision, 'jit_request_done', 'other').chain((callbackId) =>
  fc.record({
    type: fc.constant('view_submission'),
    user: sometimes(fc.record({ id: userId }), 40),
    trigger_id: sometimes(triggerId),
    view: sometimes(
      fc.record({
        id: sometimes(fc.stringMatching(/^V[0-9A-Z]{6,10}$/), 40),
        callback_id: sometimes(fc.constant(callbackId), 40),
        private_metadata: metadata,
        state: sometimes(fc.record({ values: sometimes((callbackId === CALLBACK.decision ? decisionState : requestState) as fc.Arbitrary<unknown>, 40) }), 40),
      }),
      40,
    ),
  }),
);
const garbage = fc.oneof(
  fc.record({ type: fc.oneof(fc.constantFrom('view_closed', 'shortcut', 'message_action', 'block_suggestion', 'interactive_message', 'dialog_submission'), text), user: anyJson, view: anyJson, actions: anyJson }, { requiredKeys: [] }),
  anyJson,
);
const interactionBody = fc.oneof(
  { weight: 5, arbitrary: blockActions.map((p) => signed(payloadOf(p))) },
  { weight: 5, arbitrary: viewSubmission.map((p) => signed(payloadOf(p))) },
  { weight: 2, arbitrary: garbage.map((p) => signed(payloadOf(p))) },
  { weight: 1, arbitrary: text.map((raw) => signed([['payload', raw]])) },
  { weight: 1, arbitrary: text.map((raw) => signedRaw(raw)) },
);

// ---- properties ----------------------------------------------------------------------

const statuses = new Map<string, Map<number, number>>();
function count(route: string, status: number) {
  const m = statuses.get(route) ?? new Map<number, number>();
  m.set(status, (m.get(status) ?? 0) + 1);
  statuses.set(route, m);
}

describe.each([
  ['/slack/commands', commandBody, () => t.commands],
  ['/slack/interactions', interactionBody, () => t.interactions],
] as const)('POST %s with signed random payloads', (path, body, handler) => {
  it(`answers ${RUNS * BATCH} of them below 500, without an unexpected error`, async () => {
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(fc.array(body, { minLength: BATCH, maxLength: BATCH }), async (requests) => {
        const answers = await Promise.all(requests.map((req) => invoke(handler(), req, { path })));
        for (const [i, res] of answers.entries()) {
          count(path, res.status);
          expect(res.status, `${requests[i]!.body.slice(0, 300)} → ${res.text.slice(0, 300)}`).toBeLessThan(500);
        }
        expect(unexpected).toEqual([]);
      }),
      { numRuns: RUNS },
    );
    const byStatus = Object.fromEntries(statuses.get(path) ?? []);
    expect(Object.values(byStatus).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(RUNS * BATCH);
    console.log(`${path}: ${RUNS * BATCH} signed random requests in ${((Date.now() - started) / 1000).toFixed(1)} s, by status ${JSON.stringify(byStatus)}`);
  }, 120_000);
});

describe('afterwards', () => {
  it('the fuzzing reached the service (grants were filed), and no idempotency claim names a missing grant', async () => {
    expect((await t.runtime.store.listAll({ limit: 100 })).items.length).toBeGreaterThan(6);
    expect(await claimsWithoutGrant(t.runtime.clients.dynamodb, t.runtime.config.GRANTS_TABLE)).toEqual([]);
    expect(unexpected).toEqual([]);
  });
});
