import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRemoteJWKSet, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { importHandler, startGateway, type Gateway } from '../../local/gateway.ts';
import { LocalIssuer, parseTtl, subjectFor } from '../../local/jwt.ts';
import { loadServerlessConfig } from '../../local/serverless-config.ts';
import { resolveTokenSettings, main as tokenMain } from '../../local/token.ts';

const FIXTURE = path.join(import.meta.dirname, 'fixtures', 'gateway.serverless.yml');

let dataDir: string;
let issuer: LocalIssuer;
let gateway: Gateway;
let logLines: string[] = [];
const invoked: string[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'gateway-test-'));
  issuer = await LocalIssuer.open(dataDir);
  const config = loadServerlessConfig({ file: FIXTURE });
  gateway = await startGateway({
    port: 0,
    serverlessYml: config,
    jwt: { localIssuer: issuer },
    log: (line) => logLines.push(line),
    loadHandler: async (name, fn) => {
      const handler = await importHandler(fn);
      return (...args: Parameters<typeof handler>) => {
        invoked.push(name);
        return handler(...args);
      };
    },
  });
});

afterAll(async () => {
  await gateway?.close();
  await rm(dataDir, { recursive: true, force: true });
});

beforeEach(() => {
  invoked.length = 0;
  logLines = [];
});

const tokenFor = (email: string, extra: Record<string, unknown> = {}, ttlSeconds = 300) =>
  issuer.sign({ email, ...extra }, { issuer: gateway.issuer, audience: 'gateway-fixture', ttlSeconds });

async function call(method: string, urlPath: string, init: { token?: string; headers?: Record<string, string>; body?: string | Uint8Array } = {}) {
  const res = await fetch(`${gateway.url}${urlPath}`, {
    method,
    headers: { ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), ...init.headers },
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, any> };
}

describe('routing from serverless.yml', () => {
  it('routes to the function with path parameters and builds a payload 2.0 event', async () => {
    const token = await tokenFor('Alice@Example.com', { groups: ['admins', 'devs'], scope: 'openid grants/read' });
    const res = await call('GET', '/items/abc%20def?view=mine&tag=a&tag=b', {
      token,
      headers: { 'X-Custom-Header': 'Value', cookie: 'session=1; theme=dark' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-function')).toBe('gateway-fixture-test-echo');
    const { event, context } = res.json();
    expect(event.version).toBe('2.0');
    expect(event.routeKey).toBe('GET /items/{id}');
    expect(event.rawPath).toBe('/items/abc%20def');
    expect(event.rawQueryString).toBe('view=mine&tag=a&tag=b');
    expect(event.pathParameters).toEqual({ id: 'abc def' });
    expect(event.queryStringParameters).toEqual({ view: 'mine', tag: 'a,b' });
    expect(event.headers['x-custom-header']).toBe('Value');
    expect(event.headers.authorization).toBe(`Bearer ${token}`);
    expect(event.headers.cookie).toBeUndefined();
    expect(event.cookies).toEqual(['session=1', 'theme=dark']);
    expect(event.isBase64Encoded).toBe(false);
    expect(event.body).toBeUndefined();
    expect(event.requestContext.http).toMatchObject({ method: 'GET', path: '/items/abc%20def', sourceIp: '127.0.0.1' });
    expect(event.requestContext.routeKey).toBe('GET /items/{id}');
    expect(event.requestContext.stage).toBe('$default');
    expect(typeof event.requestContext.requestId).toBe('string');
    expect(context).toMatchObject({ functionName: 'gateway-fixture-test-echo', memoryLimitInMB: '256' });
    expect(context.remainingMs).toBeGreaterThan(0);
    expect(context.remainingMs).toBeLessThanOrEqual(5000);
  });

  it('passes the JWT claims as API Gateway does: every value a string, arrays as [a b]', async () => {
    const token = await tokenFor('alice@example.com', { groups: ['admins', 'devs'], scope: 'openid grants/read', level: 3 });
    const { event } = (await call('GET', '/items/1', { token })).json();
    const { claims, scopes } = event.requestContext.authorizer.jwt;
    expect(claims.email).toBe('alice@example.com');
    expect(claims.username).toBe('alice@example.com');
    expect(claims.sub).toBe(subjectFor('alice@example.com'));
    expect(claims.iss).toBe(gateway.issuer);
    expect(claims.aud).toBe('gateway-fixture');
    expect(claims.groups).toBe('[admins devs]');
    expect(claims.level).toBe('3');
    expect(claims.exp).toMatch(/^\d+$/);
    expect(scopes).toEqual(['openid', 'grants/read']);
  });

  it('prefers a static segment over a path parameter, and supports greedy parameters', async () => {
    const token = await tokenFor('alice@example.com');
    const special = await call('GET', '/items/special', { token });
    expect(special.text).toBe('special');
    const greedy = (await call('GET', '/files/a/b/c.txt', { token })).json();
    expect(greedy.event.routeKey).toBe('GET /files/{path+}');
    expect(greedy.event.pathParameters).toEqual({ path: 'a/b/c.txt' });
  });

  it('answers 404 for an unknown path or a method without a route, without calling a handler', async () => {
    const token = await tokenFor('alice@example.com');
    expect((await call('GET', '/nope', { token })).status).toBe(404);
    expect((await call('DELETE', '/items/1', { token })).status).toBe(404);
    expect((await call('GET', '/items/1/notes', { token })).status).toBe(404);
    expect(invoked).toEqual([]);
  });

  it('passes a text body as is and a binary body base64-encoded', async () => {
    const json = (await call('POST', '/public/shapes?shape=echo-body', { body: '{"a":1}', headers: { 'content-type': 'application/json' } })).json();
    expect(json).toEqual({ body: '{"a":1}', isBase64Encoded: false });
    const bytes = new Uint8Array([0, 159, 146, 150]);
    const binary = (await call('POST', '/public/shapes?shape=echo-body', { body: bytes, headers: { 'content-type': 'application/octet-stream' } })).json();
    expect(binary).toEqual({ body: Buffer.from(bytes).toString('base64'), isBase64Encoded: true });
  });

  it('logs one line per request: method, path, status, duration and function', async () => {
    await call('GET', '/public/shapes?shape=string');
    expect(logLines).toHaveLength(1);
    expect(logLines[0]).toMatch(/^GET \/public\/shapes 200 \d+ms shapes$/);
  });
});

describe('JWT authorizer', () => {
  const expectUnauthorized = async (res: Awaited<ReturnType<typeof call>>, detail: RegExp) => {
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const problem = res.json();
    expect(problem).toMatchObject({ status: 401, title: 'Not authenticated', type: expect.stringMatching(/unauthenticated$/) });
    expect(problem.detail).toMatch(detail);
    expect(invoked).toEqual([]);
  };

  it('refuses a request without a token', async () => {
    await expectUnauthorized(await call('GET', '/items/1'), /missing/i);
  });

  it('refuses a token signed by another key', async () => {
    const stranger = await LocalIssuer.ephemeral();
    const token = await stranger.sign({ email: 'mallory@example.com' }, { issuer: gateway.issuer, audience: 'gateway-fixture' });
    await expectUnauthorized(await call('GET', '/items/1', { token }), /signature/i);
  });

  it('refuses a token whose signature was tampered with', async () => {
    const token = await tokenFor('alice@example.com');
    const [header, , signature] = token.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ email: 'admin@example.com', iss: gateway.issuer, aud: 'gateway-fixture', exp: 9999999999 })).toString('base64url');
    await expectUnauthorized(await call('GET', '/items/1', { token: `${header}.${forgedPayload}.${signature}` }), /signature/i);
  });

  it('refuses a token for another audience', async () => {
    const token = await issuer.sign({ email: 'alice@example.com' }, { issuer: gateway.issuer, audience: 'someone-else' });
    await expectUnauthorized(await call('GET', '/items/1', { token }), /audience/i);
  });

  it('refuses a token from another issuer', async () => {
    const token = await issuer.sign({ email: 'alice@example.com' }, { issuer: 'https://elsewhere.example.com', audience: 'gateway-fixture' });
    await expectUnauthorized(await call('GET', '/items/1', { token }), /issuer/i);
  });

  it('refuses an expired token', async () => {
    const token = await issuer.sign(
      { email: 'alice@example.com' },
      { issuer: gateway.issuer, audience: 'gateway-fixture', issuedAt: new Date(Date.now() - 2 * 3600_000), ttlSeconds: 3600 },
    );
    await expectUnauthorized(await call('GET', '/items/1', { token }), /expired/i);
  });

  it('refuses a token without exp, as the JWT authorizer does', async () => {
    const key = await importJWK(JSON.parse(await readFile(path.join(dataDir, 'local-issuer-key.json'), 'utf8')) as JWK, 'RS256');
    const token = await new SignJWT({ email: 'alice@example.com' })
      .setProtectedHeader({ alg: 'RS256', kid: issuer.keyId, typ: 'JWT' })
      .setIssuer(gateway.issuer)
      .setAudience('gateway-fixture')
      .setIssuedAt()
      .sign(key);
    await expectUnauthorized(await call('GET', '/items/1', { token }), /no "exp" claim/);
  });

  it('refuses something that is not a JWT', async () => {
    await expectUnauthorized(await call('GET', '/items/1', { token: 'not-a-jwt' }), /not a valid JWT/i);
  });

  it('accepts the token without the Bearer prefix, as API Gateway does', async () => {
    const token = await tokenFor('alice@example.com');
    expect((await call('GET', '/items/1', { headers: { authorization: token } })).status).toBe(200);
  });

  it('answers 403 when the route requires a scope the token lacks', async () => {
    const without = await call('POST', '/admin', { token: await tokenFor('alice@example.com', { scope: 'grants/read' }) });
    expect(without.status).toBe(403);
    expect(without.headers.get('content-type')).toBe('application/problem+json');
    expect(invoked).toEqual([]);
    const withScope = await call('POST', '/admin', { token: await tokenFor('alice@example.com', { scope: 'grants/admin' }) });
    expect(withScope.status).toBe(200);
  });

  it('lets public routes through without a token', async () => {
    expect((await call('GET', '/public/shapes?shape=string')).status).toBe(200);
  });

  it('serves the JWKS so any verifier can check the tokens', async () => {
    const discovery = (await call('GET', '/local-issuer/.well-known/openid-configuration')).json();
    expect(discovery.issuer).toBe(gateway.issuer);
    const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
    const { payload } = await jwtVerify(await tokenFor('bob@example.com'), jwks, { issuer: gateway.issuer, audience: 'gateway-fixture' });
    expect(payload.email).toBe('bob@example.com');
  });
});

describe('handler results', () => {
  it('maps an object without statusCode to 200 JSON', async () => {
    const res = await call('GET', '/public/shapes?shape=object');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.json()).toEqual({ hello: 'world', n: 1 });
  });

  it('maps a string result to its text', async () => {
    const res = await call('GET', '/public/shapes?shape=string');
    expect(res.text).toBe('plain text');
  });

  it('turns cookies into Set-Cookie headers', async () => {
    const res = await call('GET', '/public/shapes?shape=cookies');
    expect(res.status).toBe(204);
    expect(res.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; HttpOnly']);
  });

  it('decodes a base64 body', async () => {
    const res = await fetch(`${gateway.url}/public/shapes?shape=binary`);
    expect([...new Uint8Array(await res.arrayBuffer())]).toEqual([0, 1, 2, 255]);
  });

  it('answers 500 like API Gateway when the handler throws or returns a bad statusCode', async () => {
    for (const shape of ['throw', 'bad-status']) {
      const res = await call('GET', `/public/shapes?shape=${shape}`);
      expect(res.status).toBe(500);
      expect(res.json()).toEqual({ message: 'Internal Server Error' });
    }
    expect(logLines.some((l) => l.includes('handler failed on purpose'))).toBe(true);
  });
});

describe('CORS', () => {
  it('answers preflight requests from serverless.yml and marks responses for allowed origins', async () => {
    const preflight = await call('OPTIONS', '/items/1', {
      headers: { origin: 'https://portal.example.com', 'access-control-request-method': 'GET' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://portal.example.com');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('authorization,content-type');
    expect(preflight.headers.get('access-control-max-age')).toBe('60');
    const simple = await call('GET', '/public/shapes?shape=string', { headers: { origin: 'https://portal.example.com' } });
    expect(simple.headers.get('access-control-allow-origin')).toBe('https://portal.example.com');
    const other = await call('GET', '/public/shapes?shape=string', { headers: { origin: 'https://evil.example.com' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('local issuer and `npm run token`', () => {
  it('keeps its key across restarts', async () => {
    const again = await LocalIssuer.open(dataDir);
    expect(again.keyId).toBe(issuer.keyId);
    const token = await again.sign({ email: 'alice@example.com' }, { issuer: gateway.issuer, audience: 'gateway-fixture' });
    expect((await call('GET', '/items/1', { token })).status).toBe(200);
  });

  it('prints a token the gateway accepts', async () => {
    const { token } = await tokenMain(['carol@example.com', '--ttl', '10m', '--issuer', gateway.issuer, '--audience', 'gateway-fixture'], { LOCAL_DATA_DIR: dataDir });
    const { event } = (await call('GET', '/items/1', { token })).json();
    const claims = event.requestContext.authorizer.jwt.claims;
    expect(claims.email).toBe('carol@example.com');
    expect(Number(claims.exp) - Number(claims.iat)).toBe(600);
  });

  it('reads the key from LOCAL_DATA_DIR and names the issuer of PORT, as npm start does', () => {
    expect(resolveTokenSettings({}, { LOCAL_DATA_DIR: '/srv/jit-data', PORT: '3101' })).toEqual({
      dataDir: '/srv/jit-data',
      keyFile: '/srv/jit-data/local-issuer-key.json',
      issuer: 'http://127.0.0.1:3101/local-issuer',
      audience: 'identity-center-jit',
      localGateway: true,
    });
    // Unset: the project's .local-data/ (wherever it is run from) and port 3000.
    const defaults = resolveTokenSettings({}, {});
    expect(defaults.keyFile).toBe(path.resolve(import.meta.dirname, '../../.local-data/local-issuer-key.json'));
    expect(defaults.issuer).toBe('http://127.0.0.1:3000/local-issuer');
    expect(resolveTokenSettings({ issuer: 'https://idp.example.com', audience: 'aud' }, {})).toMatchObject({ issuer: 'https://idp.example.com', audience: 'aud', localGateway: false });
  });

  it('uses the key the running gateway serves, on the port it listens on', async () => {
    const issued = await tokenMain(['carol@example.com', '--audience', 'gateway-fixture'], { LOCAL_DATA_DIR: dataDir, PORT: String(gateway.port) });
    expect(issued.settings).toMatchObject({ keyFile: path.join(dataDir, 'local-issuer-key.json'), issuer: gateway.issuer });
    expect(issued.notes).toEqual([]);
    expect((await call('GET', '/items/1', { token: issued.token })).status).toBe(200);
  });

  it('refuses when LOCAL_DATA_DIR holds no key, and creates none', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'token-empty-'));
    try {
      await expect(tokenMain(['carol@example.com'], { LOCAL_DATA_DIR: empty, PORT: String(gateway.port) })).rejects.toThrow(
        new RegExp(`no local cloud key at ${path.join(empty, 'local-issuer-key.json')}: start the local cloud first`),
      );
      await expect(readFile(path.join(empty, 'local-issuer-key.json'))).rejects.toThrow(/ENOENT/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('refuses when the gateway on PORT serves another key, and notes when no gateway answers', async () => {
    const other = await mkdtemp(path.join(tmpdir(), 'token-other-'));
    try {
      await LocalIssuer.open(other); // an earlier local cloud's key, not the running one's
      await expect(tokenMain(['carol@example.com'], { LOCAL_DATA_DIR: other, PORT: String(gateway.port) })).rejects.toThrow(/signs with another key than/);
      const offline = await tokenMain(['carol@example.com'], { LOCAL_DATA_DIR: other, PORT: '3999' }, async () => undefined);
      expect(offline.notes).toEqual([expect.stringContaining('no local cloud answers at http://127.0.0.1:3999/local-issuer')]);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('as a command: exits non-zero with the message on stderr and nothing on stdout', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'token-cli-'));
    try {
      const run = spawnSync(process.execPath, ['--import', 'tsx', path.resolve(import.meta.dirname, '../../local/token.ts'), 'carol@example.com'], {
        env: { ...process.env, LOCAL_DATA_DIR: empty },
        encoding: 'utf8',
      });
      expect(run.status).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(`no local cloud key at ${path.join(empty, 'local-issuer-key.json')}`);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('refuses bad arguments', async () => {
    await expect(tokenMain([])).rejects.toThrow(/usage/);
    await expect(tokenMain(['not-an-email'])).rejects.toThrow(/not an email/);
    await expect(tokenMain(['a@example.com', '--ttl', 'forever'])).rejects.toThrow(/invalid TTL/);
  });

  it('parses TTLs', () => {
    expect(parseTtl('90')).toBe(90);
    expect(parseTtl('30m')).toBe(1800);
    expect(parseTtl('8h')).toBe(28800);
    expect(parseTtl('2d')).toBe(172800);
    expect(parseTtl('PT1H30M')).toBe(5400);
    expect(() => parseTtl('0s')).toThrow();
    expect(() => parseTtl('PT')).toThrow();
  });
});
