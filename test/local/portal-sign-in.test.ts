/**
 * The web portal around the app, through the local cloud's gateway with plain fetch: the
 * local issuer's authorization code flow with PKCE, the portal's files and runtime settings,
 * navigation vs API routing on the same path, and the security headers.
 * The app itself is a small fixture here (its own build and browser tests live with it).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud.ts';
import { startGateway } from '../../local/gateway.ts';
import { LocalIssuer } from '../../local/jwt.ts';
import { AUTHORIZATION_CODE_TTL_MS, LOCAL_PORTAL_CLIENT_ID, LocalSignIn } from '../../local/oidc.ts';
import { startFastLocalCloud } from '../support/local-cloud.ts';

const TOKEN_TTL_SECONDS = 120;
const FIXTURE_INDEX = '<!doctype html><html lang="en"><head><script type="module" src="/assets/app-3f9a1c.js"></script></head><body><main id="app"></main></body></html>';
const FIXTURE_SCRIPT = 'document.getElementById("app").textContent = "portal";';

let cloud: LocalCloud;
let redirectUri: string;

beforeAll(async () => {
  cloud = await startFastLocalCloud({
    functions: ['getGrant', 'getOpenApi'],
    signInTokenTtlSeconds: TOKEN_TTL_SECONDS,
    portal: {
      build: async ({ outDir }) => {
        await mkdir(path.join(outDir, 'assets'), { recursive: true });
        await writeFile(path.join(outDir, 'index.html'), FIXTURE_INDEX);
        await writeFile(path.join(outDir, 'assets', 'app-3f9a1c.js'), FIXTURE_SCRIPT);
      },
    },
  });
  redirectUri = `${cloud.gatewayUrl}/callback`;
}, 60_000);

afterAll(async () => {
  await cloud?.stop();
});

const issuerUrl = () => `${cloud.gatewayUrl}/local-issuer`;

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeQuery(overrides: Record<string, string | undefined> = {}, challenge = pkce().challenge): string {
  const params: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: LOCAL_PORTAL_CLIENT_ID,
    redirect_uri: redirectUri,
    state: 'state-123',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    scope: 'openid email profile',
    ...overrides,
  };
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.set(name, value);
  return query.toString();
}

/** Opens the sign-in page, submits the form of `email` as a browser would, returns the redirect. */
async function signInAs(email: string, challenge: string): Promise<URL> {
  const page = await fetch(`${issuerUrl()}/authorize?${authorizeQuery({}, challenge)}`, { headers: { accept: 'text/html' } });
  expect(page.status).toBe(200);
  const html = await page.text();
  const form = [...html.matchAll(/<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/g)].find((m) => m[2]!.includes(`value="${email}"`));
  expect(form, `a sign-in form for ${email}`).toBeDefined();
  const fields = new URLSearchParams();
  for (const input of form![2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields.set(input[1]!, input[2]!.replace(/&amp;/g, '&'));
  fields.set('email', email);
  const res = await fetch(new URL(form![1]!, cloud.gatewayUrl), { method: 'POST', body: fields, redirect: 'manual' });
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location')!);
}

async function token(fields: Record<string, string>) {
  const res = await fetch(`${issuerUrl()}/token`, { method: 'POST', body: new URLSearchParams(fields) });
  return { status: res.status, cacheControl: res.headers.get('cache-control'), body: (await res.json()) as Record<string, any> };
}

const redeem = (code: string, verifier: string, extra: Record<string, string> = {}) =>
  token({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri, client_id: LOCAL_PORTAL_CLIENT_ID, ...extra });

describe('local issuer: discovery', () => {
  it('names the authorization and token endpoints, S256 PKCE and the code grant, and keeps the key set', async () => {
    const res = await fetch(`${issuerUrl()}/.well-known/openid-configuration`);
    const doc = (await res.json()) as Record<string, unknown>;
    expect(doc).toMatchObject({
      issuer: issuerUrl(),
      authorization_endpoint: `${issuerUrl()}/authorize`,
      token_endpoint: `${issuerUrl()}/token`,
      jwks_uri: `${issuerUrl()}/.well-known/jwks.json`,
      code_challenge_methods_supported: ['S256'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      response_types_supported: ['code'],
    });
    const jwks = (await (await fetch(String(doc.jwks_uri))).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.map((k) => k.kid)).toEqual([cloud.issuer.keyId]);
  });
});

describe('local issuer: authorization code with PKCE', () => {
  it('lists every seeded user on an accessible page without script, and redirects with a code and the state', async () => {
    const res = await fetch(`${issuerUrl()}/authorize?${authorizeQuery()}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toMatch(/<html lang="en">/);
    expect(html).toMatch(/<main>\s*<h1>Sign in<\/h1>/);
    expect(html).not.toMatch(/<script/i);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    for (const user of cloud.idc.fixture.users) {
      expect(html).toContain(`Sign in as ${user.displayName}</button>`);
      expect(html).toContain(user.email);
    }
    // Group names come from the fixture's memberships.
    const groupOfSomeone = cloud.idc.fixture.groups.find((g) => cloud.idc.fixture.memberships.some((m) => m.groupId === g.id));
    expect(html).toContain(groupOfSomeone!.displayName);

    const location = await signInAs('carol@example.com', pkce().challenge);
    expect(`${location.origin}${location.pathname}`).toBe(redirectUri);
    expect(location.searchParams.get('state')).toBe('state-123');
    expect(location.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{40,}$/);
  });

  it('exchanges the code for tokens the API accepts and an id token for the client', async () => {
    const { verifier, challenge } = pkce();
    const code = (await signInAs('carol@example.com', challenge)).searchParams.get('code')!;
    const { status, body, cacheControl } = await redeem(code, verifier);
    expect(status).toBe(200);
    expect(cacheControl).toBe('no-store');
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: TOKEN_TTL_SECONDS });
    expect(typeof body.refresh_token).toBe('string');

    const keys = createLocalJWKSet(cloud.issuer.jwks());
    const access = await jwtVerify(body.access_token, keys, { issuer: issuerUrl(), audience: 'identity-center-jit' });
    expect(access.payload.email).toBe('carol@example.com');
    expect(access.payload.exp! - access.payload.iat!).toBe(TOKEN_TTL_SECONDS);
    const id = await jwtVerify(body.id_token, keys, { issuer: issuerUrl(), audience: LOCAL_PORTAL_CLIENT_ID });
    expect(id.payload).toMatchObject({ email: 'carol@example.com', name: 'Carol Coder' });

    // The gateway's JWT check lets it through to the function: the grant is unknown, not the caller.
    const api = await fetch(`${cloud.gatewayUrl}/grants/01JAAAAAAAAAAAAAAAAAAAAAAA`, { headers: { authorization: `Bearer ${body.access_token}` } });
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toBe('application/problem+json');
  });

  it('refuses a wrong verifier, and a code used twice', async () => {
    const first = pkce();
    const spentByWrongVerifier = (await signInAs('bob@example.com', first.challenge)).searchParams.get('code')!;
    const wrong = await redeem(spentByWrongVerifier, pkce().verifier);
    expect(wrong.status).toBe(400);
    expect(wrong.body).toEqual({ error: 'invalid_grant', error_description: expect.stringMatching(/code_verifier does not match/) });
    // The failed attempt spent the code: the right verifier comes too late.
    expect((await redeem(spentByWrongVerifier, first.verifier)).body.error).toBe('invalid_grant');

    const second = pkce();
    const code = (await signInAs('bob@example.com', second.challenge)).searchParams.get('code')!;
    const ok = await redeem(code, second.verifier);
    expect(ok.status).toBe(200);
    const replay = await redeem(code, second.verifier);
    expect(replay.status).toBe(400);
    expect(replay.body).toEqual({ error: 'invalid_grant', error_description: expect.stringMatching(/already used/) });
    // A replayed code revokes what it gave.
    const refresh = await token({ grant_type: 'refresh_token', refresh_token: ok.body.refresh_token, client_id: LOCAL_PORTAL_CLIENT_ID });
    expect(refresh.body.error).toBe('invalid_grant');
  });

  it('refreshes: new tokens for the same user, and each refresh token works once', async () => {
    const { verifier, challenge } = pkce();
    const code = (await signInAs('dave@example.com', challenge)).searchParams.get('code')!;
    const signedIn = await redeem(code, verifier);
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: signedIn.body.refresh_token, client_id: LOCAL_PORTAL_CLIENT_ID });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).toMatchObject({ token_type: 'Bearer', expires_in: TOKEN_TTL_SECONDS });
    expect(refreshed.body.refresh_token).not.toBe(signedIn.body.refresh_token);
    const access = await jwtVerify(refreshed.body.access_token, createLocalJWKSet(cloud.issuer.jwks()), { issuer: issuerUrl(), audience: 'identity-center-jit' });
    expect(access.payload.email).toBe('dave@example.com');
    const again = await token({ grant_type: 'refresh_token', refresh_token: signedIn.body.refresh_token, client_id: LOCAL_PORTAL_CLIENT_ID });
    expect(again.status).toBe(400);
    expect(again.body.error).toBe('invalid_grant');
  });

  it.each([
    ['an unknown client', { client_id: 'someone-else' }, /Unknown client "someone-else"/],
    ['a redirect_uri not registered for the client', { redirect_uri: 'http://127.0.0.1:9/callback' }, /redirect_uri "http:\/\/127\.0\.0\.1:9\/callback" is not registered/],
    ['no PKCE challenge', { code_challenge: undefined }, /PKCE is required/],
    ['the plain PKCE method', { code_challenge_method: 'plain' }, /code_challenge_method must be "S256"/],
    ['a challenge that is no S256 hash', { code_challenge: 'short' }, /not an S256 challenge/],
    ['another response type', { response_type: 'token' }, /response_type must be "code"/],
  ])('refuses an authorization request with %s, saying so on a 400 page', async (_what, overrides, message) => {
    const res = await fetch(`${issuerUrl()}/authorize?${authorizeQuery(overrides)}`);
    expect(res.status).toBe(400);
    const html = (await res.text()).replace(/&quot;/g, '"');
    expect(html).toMatch(/<html lang="en">/);
    expect(html).toMatch(message);
    expect(html).not.toContain('<form');
  });

  it('answers OAuth errors as { error, error_description } for bad token requests', async () => {
    expect((await token({ grant_type: 'password', username: 'x' })).body).toEqual({ error: 'unsupported_grant_type', error_description: expect.any(String) });
    expect((await token({ grant_type: 'authorization_code', code: 'nope', client_id: LOCAL_PORTAL_CLIENT_ID, redirect_uri: redirectUri })).body).toEqual({
      error: 'invalid_request',
      error_description: 'code_verifier is missing.',
    });
    const unknown = await redeem('no-such-code', pkce().verifier);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe('invalid_grant');
    const json = await fetch(`${issuerUrl()}/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(400);
    expect(((await json.json()) as { error: string }).error).toBe('invalid_request');
  });

  it('refuses a code redeemed for another redirect_uri', async () => {
    const { verifier, challenge } = pkce();
    const code = (await signInAs('alice@example.com', challenge)).searchParams.get('code')!;
    const res = await redeem(code, verifier, { redirect_uri: `${cloud.gatewayUrl}/elsewhere` });
    expect(res.body).toEqual({ error: 'invalid_grant', error_description: expect.stringMatching(/redirect_uri differs/) });
  });
});

describe('serving the portal on the gateway port', () => {
  const expectedCsp = () => {
    const origin = new URL(cloud.gatewayUrl).origin;
    return `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ${origin} ${origin}; frame-ancestors 'none'; base-uri 'self'; form-action 'self' ${origin}`;
  };

  it.each(['/', '/callback', '/grants/01JAAAAAAAAAAAAAAAAAAAAAAA', '/approvals', '/mine', '/admin', '/request'])(
    'answers a browser navigation to %s with the app page and its security headers',
    async (pathname) => {
      const res = await fetch(`${cloud.gatewayUrl}${pathname}`, { headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await res.text()).toBe(FIXTURE_INDEX);
      expect(res.headers.get('content-security-policy')).toBe(expectedCsp());
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      // Plain HTTP on loopback: HSTS belongs to the HTTPS deployment only.
      expect(res.headers.get('strict-transport-security')).toBeNull();
    },
  );

  it('keeps sending the same path to the API when the caller asks for anything or JSON', async () => {
    for (const accept of ['*/*', 'application/json', undefined]) {
      const res = await fetch(`${cloud.gatewayUrl}/grants/01JAAAAAAAAAAAAAAAAAAAAAAA`, { headers: accept ? { accept } : {} });
      expect(res.status, `Accept: ${accept}`).toBe(401);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.headers.get('content-security-policy')).toBeNull();
    }
    // A path with a file extension is never a page: the public API description stays reachable from a browser.
    const openApi = await fetch(`${cloud.gatewayUrl}/openapi.json`, { headers: { accept: 'text/html' } });
    expect(openApi.headers.get('content-type')).toMatch(/json/);
  });

  it('serves the runtime settings at /portal-config.json', async () => {
    const res = await fetch(`${cloud.gatewayUrl}/portal-config.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('content-security-policy')).toBe(expectedCsp());
    expect(await res.json()).toEqual({
      apiUrl: cloud.gatewayUrl,
      issuer: issuerUrl(),
      clientId: LOCAL_PORTAL_CLIENT_ID,
      ssoStartUrl: `https://${cloud.idc.fixture.instance.identityStoreId}.awsapps.com/start`,
      scopes: 'openid email profile',
    });
  });

  it('serves assets with long cache headers and a 404 for a missing one', async () => {
    const res = await fetch(`${cloud.gatewayUrl}/assets/app-3f9a1c.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toBe(FIXTURE_SCRIPT);

    const missing = await fetch(`${cloud.gatewayUrl}/assets/app-000000.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('cache-control')).toBe('no-store');
    // An encoded climb out of assets/ finds nothing, not the page or anything beyond the build.
    const climb = await fetch(`${cloud.gatewayUrl}/assets/..%2Findex.html`);
    expect(climb.status).toBe(404);
  });
});

describe('local issuer: code lifetime', () => {
  it('refuses a code presented after 60 seconds', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const issuer = await LocalIssuer.ephemeral();
    const signIn = new LocalSignIn({
      issuer,
      users: [{ email: 'erin@example.com', userName: 'erin', displayName: 'Erin', groups: [] }],
      now: () => now,
    });
    const gateway = await startGateway({
      port: 0,
      serverlessYml: path.join(import.meta.dirname, 'fixtures', 'gateway.serverless.yml'),
      jwt: { localIssuer: issuer },
      log: () => undefined,
      frontDoors: [(req, res, rawPath, query, ctx) => signIn.handle(req, res, rawPath, query, ctx)],
    });
    try {
      const callback = `${gateway.url}/callback`;
      const { verifier, challenge } = pkce();
      const form = new URLSearchParams({ response_type: 'code', client_id: LOCAL_PORTAL_CLIENT_ID, redirect_uri: callback, code_challenge: challenge, code_challenge_method: 'S256', scope: 'openid', email: 'erin@example.com' });
      const codeNow = async () => {
        const res = await fetch(`${gateway.url}/local-issuer/authorize`, { method: 'POST', body: form, redirect: 'manual' });
        return new URL(res.headers.get('location')!).searchParams.get('code')!;
      };
      const exchange = async (code: string) => {
        const res = await fetch(`${gateway.url}/local-issuer/token`, {
          method: 'POST',
          body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: callback, client_id: LOCAL_PORTAL_CLIENT_ID }),
        });
        return { status: res.status, body: (await res.json()) as Record<string, string> };
      };
      const late = await codeNow();
      now += AUTHORIZATION_CODE_TTL_MS;
      expect(await exchange(late)).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: expect.stringMatching(/unknown or has expired/) } });
      const inTime = await codeNow();
      now += AUTHORIZATION_CODE_TTL_MS - 1;
      expect((await exchange(inTime)).status).toBe(200);
    } finally {
      await gateway.close();
    }
  });
});
