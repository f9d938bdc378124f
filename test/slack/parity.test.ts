/**
 * One rule for every entry point: a justification, ticket or duration POST /grants
 * refuses is refused through Slack too (the request modal and `/jit request`), and
 * what POST /grants accepts, Slack accepts. Slack's own shapes are mapped first, in
 * the one place that maps them: a friendly duration (`2h`) becomes ISO 8601
 * (durationFromSlack), and an optional input left empty is absent.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenize } from '../../lib/slack/command-parser.ts';
import { durationFromSlack } from '../../lib/slack/inputs.ts';
import { CALLBACK } from '../../lib/slack/views.ts';
import { interactionRequest, slashCommandRequest, viewSubmission } from '../../local/slack/fake-slack.ts';
import { callApi } from '../support/api.ts';
import { invoke, SIGNING_SECRET } from './harness.ts';
import { startSlackTestCloud, USERS, type SlackTestCloud } from './slack-cloud.ts';

let t: SlackTestCloud;
beforeAll(async () => {
  t = await startSlackTestCloud({ knobs: { throttleTps: 0 } });
});
afterAll(async () => t?.stop());

const TARGET = { type: 'account', accountId: '444444444444', permissionSet: 'ReadOnlyAccess' } as const;

const around = (limit: number, unit: fc.Arbitrary<string>) => fc.tuple(fc.integer({ min: limit - 5, max: limit + 5 }), unit).map(([n, c]) => c.repeat(Math.ceil(n / c.length)).slice(0, n));
const oddChars = fc.constantFrom('word', 'two words', ' ', '\t', '\n', '\r\n', '\u0000', '\u0007', '\u001b', '\u007f', '\u0085', '\u009b', '\u00a0', '\u2028', '\ufeff', 'é', '😀', '\ud800', '"', 'ticket:', '&lt;');
const justification = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-z0-9]+( [a-z0-9.,:-]+){0,6}$/) },
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  around(1000, fc.constantFrom('j', 'é', ' j')),
  fc.array(oddChars, { maxLength: 8 }).map((a) => a.join('')),
  fc.constantFrom('', ' '),
);
const ticket = fc.option(
  fc.oneof({ weight: 3, arbitrary: fc.stringMatching(/^[A-Z]{2,5}-[0-9]{1,6}$/) }, fc.string({ maxLength: 20 }), around(128, fc.constantFrom('T', '-')), fc.array(oddChars, { minLength: 1, maxLength: 4 }).map((a) => a.join('')), fc.constantFrom('INC-1', 'OPS-7')),
  { nil: undefined },
);
const duration = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('15m', '30m', '45m', '1h', '2h', '4h', '1h30m', 'PT1H', 'pt15m', 'PT3H59M', 'PT2H') },
  fc.constantFrom('30m', '1h', '2h', '4h', '5h', '15m', '14m', '1h30m', 'PT1H', 'pt15m', 'P1D', 'PT4H1M', '0m', 'PT0S', 'P', 'PT', 'forever', '', ' 1h ', `${'9'.repeat(40)}m`),
  fc.stringMatching(/^P(\d{1,2}D)?(T(\d{1,2}H)?(\d{1,3}M)?(\d{1,5}S)?)?$/),
  fc.string({ maxLength: 10 }),
);

/** Whether `/jit request` can carry these values unchanged: words, no quotes, nothing the command syntax reads itself. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function commandCarries(j: string, tk: string | undefined, d: string): boolean {
  // A slash command arrives as a UTF-8 form; a lone surrogate cannot be encoded in it (it turns into U+FFFD on the way).
  if ([j, tk ?? '', d].some((s) => LONE_SURROGATE.test(s))) return false;
  const word = (s: string) => /^\S+$/.test(s) && tokenize(s).tokens.join(' ') === s && !/["“”]|&(lt|gt|amp);/.test(s);
  const words = j.length > 0 && tokenize(j).tokens.join(' ') === j && !/["“”]|&(lt|gt|amp);|(^|\s)ticket[:=]\S/i.test(j) && !tokenize(j).error;
  return word(d) && !/^ticket[:=]/i.test(d) && (j === '' || words) && (tk === undefined || (word(tk) && tk !== ''));
}

let seq = 0;

/** Generated cases, each sent through POST /grants, the request modal and (when it fits a command) /jit request. */
const RUNS = 5_000;

describe('the same verdict through POST /grants, the request modal and /jit request', () => {
  it('for generated justifications, tickets and durations', async () => {
    const seen = { accepted: 0, refused: 0, viaCommand: 0 };
    await fc.assert(
      fc.asyncProperty(justification, ticket, duration, async (j, tk, d) => {
        const ticketForHttp = tk === '' ? undefined : tk;
        const http = await callApi('createGrant', {
          claims: { email: 'carol@example.com' },
          body: { target: TARGET, duration: durationFromSlack(d), justification: j, ...(ticketForHttp !== undefined ? { ticket: ticketForHttp } : {}) },
        });
        expect(http.status, JSON.stringify(http.body)).toBeLessThan(500);
        const accepted = http.status === 201;

        const modal = await invoke(
          t.interactions,
          interactionRequest(
            SIGNING_SECRET,
            viewSubmission({
              userId: USERS.carol.id,
              callbackId: CALLBACK.request,
              viewId: `VPARITY${++seq}`,
              values: { target: { selected: `a|${TARGET.accountId}|${TARGET.permissionSet}` }, duration: { value: d }, justification: { value: j }, ...(tk !== undefined ? { ticket: { value: tk } } : {}) },
            }),
          ),
          { path: '/slack/interactions' },
        );
        expect(modal.status).toBe(200);
        const why = `HTTP ${http.status} ${JSON.stringify(http.body?.errors ?? http.body?.detail ?? '')}; modal ${modal.text.slice(0, 300)}`;
        expect(modal.json?.response_action === 'update', why).toBe(accepted);

        if (commandCarries(j, tk, d)) {
          seen.viaCommand++;
          const text = `request ${TARGET.accountId} ${TARGET.permissionSet} ${d} ${j}${tk !== undefined ? ` ticket:${tk}` : ''}`;
          const command = await invoke(t.commands, slashCommandRequest(SIGNING_SECRET, { userId: USERS.carol.id, text }));
          expect(command.status).toBe(200);
          expect(String(command.json?.text).startsWith('Requested'), `${why}; command ${command.text.slice(0, 300)}`).toBe(accepted);
        }
        seen[accepted ? 'accepted' : 'refused']++;
      }),
      { numRuns: RUNS },
    );
    // Both verdicts, and the command path, were exercised.
    expect(seen.accepted).toBeGreaterThan(RUNS / 10);
    expect(seen.refused).toBeGreaterThan(RUNS / 30);
    expect(seen.viaCommand).toBeGreaterThan(RUNS / 10);
    console.log(`parity: ${JSON.stringify(seen)}`);
  }, 600_000);
});
