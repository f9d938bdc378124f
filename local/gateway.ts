/**
 * The local HTTP API: routes from serverless.yml's `httpApi` events, the JWT authorizer
 * done for real (signature, issuer, audience, expiry; a missing or bad token is a 401
 * before any handler runs), API Gateway v2 (payload 2.0) events in, Lambda proxy results
 * out. One log line per request.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, Context } from 'aws-lambda';
import { errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { LOCAL_ACCOUNT_ID } from './protocol/aws.ts';
import { closer, listen, readBytes, send } from './protocol/http.ts';
import { gatewayPortFromEnv, LOCAL_ISSUER_PATH, type LocalIssuer } from './jwt.ts';
import { loadServerlessConfig, type FunctionConfig, type HttpRoute, type ServerlessConfig } from './serverless-config.ts';

// The problem type base of lib/errors.ts (kept literal: local/ must not pull in lib/ at import).
const PROBLEM_TYPE_BASE = 'https://identity-center-jit.dev/problems/';
/** API Gateway's payload limit for HTTP APIs. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** HTTP API integrations give up after 30 s whatever the function's timeout. */
const MAX_INTEGRATION_SECONDS = 30;

// The event type depends on the function; the gateway only sends HTTP API events.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type LambdaHandler = (event: any, context: Context) => unknown;

/** Verify with the persistent local issuer (issuer defaults to `<gateway url>/local-issuer`). */
export interface LocalIssuerJwt {
  localIssuer: LocalIssuer;
  issuer?: string;
  /** Default: the audience of the route's authorizer in serverless.yml. */
  audience?: string | string[];
}

/** Verify against any key set (e.g. a real IdP's remote JWKS). */
export interface KeySetJwt {
  keys: JWTVerifyGetKey;
  issuer: string;
  audience?: string | string[];
}

export interface GatewayOptions {
  /** Default: PORT, else 3000. 0 picks a free port. */
  port?: number;
  host?: string;
  /** Path to serverless.yml or the loaded config (default: ./serverless.yml, stage dev). */
  serverlessYml?: string | ServerlessConfig;
  /** Returns the function's handler. Default: import its handler file (tsx runs .ts). Called once per function. */
  loadHandler?: (functionName: string, fn: FunctionConfig) => LambdaHandler | Promise<LambdaHandler>;
  jwt: LocalIssuerJwt | KeySetJwt;
  /** Where the per-request lines go (default stdout). */
  log?: (line: string) => void;
  /**
   * Served before the API routes (the local sign-in, the web portal): each answers a request
   * and returns its status, or returns undefined to let the next one (and then the API) have it.
   */
  frontDoors?: FrontDoor[];
}

/** Where the gateway is, for a front door: known once it listens. */
export interface FrontDoorContext {
  gatewayUrl: string;
  issuer: string;
}

export type FrontDoor = (
  req: IncomingMessage,
  res: ServerResponse,
  rawPath: string,
  rawQueryString: string,
  ctx: FrontDoorContext,
) => Promise<number | undefined> | number | undefined;

export interface Gateway {
  url: string;
  port: number;
  /** The issuer tokens must carry. */
  issuer: string;
  audience: string[];
  routes: HttpRoute[];
  server: Server;
  close(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const config =
    typeof options.serverlessYml === 'object' ? options.serverlessYml : loadServerlessConfig({ file: options.serverlessYml ?? 'serverless.yml' });
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const router = new Router(config.httpRoutes);
  const loadHandler = options.loadHandler ?? ((_name: string, fn: FunctionConfig) => importHandler(fn));
  const handlers = new Map<string, Promise<LambdaHandler>>();
  const functionsByName = new Map(config.functions.map((f) => [f.name, f]));

  // Known once listening (port 0 → the chosen port).
  const state = { issuer: '', url: '' };
  const audienceFor = (route: HttpRoute): string[] => {
    if (options.jwt.audience !== undefined) return ([] as string[]).concat(options.jwt.audience);
    return config.jwtAuthorizers[route.authorizer ?? '']?.audience ?? [];
  };

  const handlerFor = (fn: FunctionConfig): Promise<LambdaHandler> => {
    let loading = handlers.get(fn.name);
    if (!loading) {
      loading = Promise.resolve()
        .then(() => loadHandler(fn.name, fn))
        .then((h) => {
          if (typeof h !== 'function') throw new Error(`${fn.handler.reference}: export "${fn.handler.exportName}" is not a function`);
          return h;
        });
      // A failed init is retried on the next request, as Lambda does with a new container.
      loading.catch(() => handlers.delete(fn.name));
      handlers.set(fn.name, loading);
    }
    return loading;
  };

  const server = createServer((req, res) => {
    const started = performance.now();
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    let functionName = '-';
    // API Gateway adds the CORS headers to every response for an allowed origin.
    if (config.cors) for (const [name, value] of Object.entries(corsHeaders(req, config.cors, false))) res.setHeader(name, value);
    const finish = (status: number) => {
      log(`${method} ${rawUrl.split('?')[0]} ${status} ${Math.round(performance.now() - started)}ms ${functionName}`);
    };
    handle(req, res, (name) => (functionName = name))
      .then(finish)
      .catch((err: unknown) => {
        log(`gateway error: ${(err as Error).stack ?? String(err)}`);
        if (!res.headersSent) send(res, 500, { 'content-type': 'application/json' }, JSON.stringify({ message: 'Internal Server Error' }));
        else res.destroy();
        finish(500);
      });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, onFunction: (name: string) => void): Promise<number> {
    const method = (req.method ?? 'GET').toUpperCase();
    const rawUrl = req.url ?? '/';
    const queryStart = rawUrl.indexOf('?');
    const rawPath = queryStart < 0 ? rawUrl : rawUrl.slice(0, queryStart);
    const rawQueryString = queryStart < 0 ? '' : rawUrl.slice(queryStart + 1);

    for (const frontDoor of options.frontDoors ?? []) {
      const status = await frontDoor(req, res, rawPath, rawQueryString, { gatewayUrl: state.url, issuer: state.issuer });
      if (status !== undefined) return status;
    }
    if ('localIssuer' in options.jwt && rawPath.startsWith(`${LOCAL_ISSUER_PATH}/`) && method === 'GET') {
      const issuer = options.jwt.localIssuer;
      if (rawPath === `${LOCAL_ISSUER_PATH}/.well-known/jwks.json`) return sendJson(res, 200, issuer.jwks());
      if (rawPath === `${LOCAL_ISSUER_PATH}/.well-known/openid-configuration`) return sendJson(res, 200, issuer.openIdConfiguration(state.issuer));
    }

    const match = router.match(method, rawPath);
    if (!match) {
      if (method === 'OPTIONS' && config.cors) return sendPreflight(req, res, config.cors);
      return sendJson(res, 404, { message: 'Not Found' });
    }
    const { route, pathParameters } = match;
    onFunction(route.functionName);
    const fn = functionsByName.get(route.functionName);
    if (!fn) throw new Error(`route ${route.routeKey} names unknown function ${route.functionName}`);

    let authorizer: APIGatewayProxyEventV2WithJWTAuthorizer['requestContext']['authorizer'] | undefined;
    if (route.authorizer !== undefined) {
      const verdict = await authorize(req, route);
      if (!verdict.ok) return sendProblem(res, verdict.status, verdict.detail, verdict.wwwAuthenticate);
      authorizer = { principalId: '', integrationLatency: 0, jwt: { claims: verdict.claims, scopes: verdict.scopes as string[] } };
    }

    const body = await readBytes(req, MAX_BODY_BYTES);
    if (body === undefined) return sendJson(res, 413, { message: 'Request Entity Too Large' });

    const event = buildEvent(req, { method, rawPath, rawQueryString, route, pathParameters, body, authorizer, config });
    const timeoutSeconds = Math.min(fn.timeoutSeconds, MAX_INTEGRATION_SECONDS);
    const context = lambdaContext(fn, config, timeoutSeconds);

    let result: unknown;
    try {
      const handler = await handlerFor(fn);
      result = await invokeWithTimeout(handler, event, context, timeoutSeconds * 1000);
    } catch (err) {
      if (err instanceof IntegrationTimeout) {
        log(`${fn.name}: timed out after ${timeoutSeconds} s`);
        return sendJson(res, 503, { message: 'Service Unavailable' }, event.requestContext.requestId);
      }
      log(`${fn.name}: ${(err as Error)?.stack ?? String(err)}`);
      return sendJson(res, 500, { message: 'Internal Server Error' }, event.requestContext.requestId);
    }
    return writeResult(res, result, event.requestContext.requestId, (message) => log(`${fn.name}: ${message}`));
  }

  type Verdict =
    | { ok: true; claims: Record<string, string>; scopes: string[] | null }
    | { ok: false; status: 401 | 403; detail: string; wwwAuthenticate?: string };

  async function authorize(req: IncomingMessage, route: HttpRoute): Promise<Verdict> {
    const header = req.headers.authorization;
    if (!header || !header.trim()) {
      return { ok: false, status: 401, detail: 'Missing bearer token in the Authorization header', wwwAuthenticate: 'Bearer' };
    }
    // API Gateway accepts the token with or without the "Bearer " prefix.
    const token = header.replace(/^Bearer\s+/i, '').trim();
    const audience = audienceFor(route);
    let payload: JWTPayload;
    try {
      const keys = 'localIssuer' in options.jwt ? options.jwt.localIssuer.keys : options.jwt.keys;
      // API Gateway's JWT authorizer requires exp; jose alone would accept a token that never expires.
      ({ payload } = await jwtVerify(token, keys, { issuer: state.issuer, audience, algorithms: ['RS256', 'ES256'], requiredClaims: ['exp'] }));
    } catch (err) {
      const detail = describeJwtError(err);
      return { ok: false, status: 401, detail, wwwAuthenticate: `Bearer error="invalid_token", error_description="${detail.replace(/"/g, "'")}"` };
    }
    const scopes = scopesOf(payload);
    if (route.scopes?.length && !route.scopes.some((s) => scopes?.includes(s))) {
      return { ok: false, status: 403, detail: `The token lacks a scope this route requires (${route.scopes.join(', ')})` };
    }
    return { ok: true, claims: apiGatewayClaims(payload), scopes };
  }

  const port = await listen(server, options.port ?? gatewayPortFromEnv(), host);
  state.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  state.issuer = 'localIssuer' in options.jwt ? (options.jwt.issuer ?? `${state.url}${LOCAL_ISSUER_PATH}`) : options.jwt.issuer;

  const audiences = new Set<string>();
  for (const route of config.httpRoutes) if (route.authorizer !== undefined) audienceFor(route).forEach((a) => audiences.add(a));

  return {
    url: state.url,
    port,
    issuer: state.issuer,
    audience: [...audiences],
    routes: config.httpRoutes,
    server,
    close: closer(server),
  };
}

/** Imports a function's handler file the way the Lambda runtime would load the bundle. */
export async function importHandler(fn: FunctionConfig): Promise<LambdaHandler> {
  const module = (await import(pathToFileURL(fn.handler.file).href)) as Record<string, unknown>;
  const handler = module[fn.handler.exportName];
  if (typeof handler !== 'function') throw new Error(`${fn.handler.relativeFile} has no exported function "${fn.handler.exportName}"`);
  return handler as LambdaHandler;
}

// ---------------------------------------------------------------------------
// Routing

type Segment = { kind: 0; text: string } | { kind: 1; name: string } | { kind: 2; name: string };

interface CompiledRoute {
  route: HttpRoute;
  /** undefined for the catch-all `$default` route. */
  segments?: Segment[];
}

/** API Gateway's precedence: exact method over ANY, static segment over `{param}` over `{greedy+}`, `$default` last. */
export class Router {
  private readonly routes: CompiledRoute[];

  constructor(routes: HttpRoute[]) {
    this.routes = routes.map((route) => ({
      route,
      ...(route.path === '*' ? {} : { segments: route.path.split('/').slice(1).map(compileSegment) }),
    }));
  }

  match(method: string, rawPath: string): { route: HttpRoute; pathParameters: Record<string, string> } | undefined {
    const parts = rawPath.split('/').slice(1);
    let best: { compiled: CompiledRoute; pathParameters: Record<string, string>; rank: number[] } | undefined;
    for (const compiled of this.routes) {
      if (compiled.route.method !== '*' && compiled.route.method !== method) continue;
      const pathParameters = compiled.segments ? matchSegments(compiled.segments, parts) : {};
      if (!pathParameters) continue;
      const rank = [
        ...(compiled.segments ? compiled.segments.map((s) => s.kind) : [3]),
        compiled.route.method === '*' ? 1 : 0,
      ];
      if (!best || compareRank(rank, best.rank) < 0) best = { compiled, pathParameters, rank };
    }
    return best && { route: best.compiled.route, pathParameters: best.pathParameters };
  }
}

function compileSegment(text: string): Segment {
  const param = /^\{([^}]+?)(\+?)\}$/.exec(text);
  if (!param) return { kind: 0, text };
  return param[2] ? { kind: 2, name: param[1]! } : { kind: 1, name: param[1]! };
}

function matchSegments(segments: Segment[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment.kind === 2) {
      const rest = parts.slice(i).join('/');
      if (!rest) return undefined;
      params[segment.name] = safeDecode(rest);
      return params;
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    if (segment.kind === 0) {
      if (safeDecode(part) !== segment.text) return undefined;
    } else {
      if (!part) return undefined;
      params[segment.name] = safeDecode(part);
    }
  }
  return parts.length === segments.length ? params : undefined;
}

function compareRank(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return b.length - a.length;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

// ---------------------------------------------------------------------------
// Events, context and results

/** Content types API Gateway passes as text; everything else arrives base64-encoded. */
function isTextContent(contentType: string | undefined): boolean {
  if (!contentType) return true;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type === 'application/x-www-form-urlencoded' ||
    type === 'application/javascript' ||
    type === 'application/yaml'
  );
}

interface EventParts {
  method: string;
  rawPath: string;
  rawQueryString: string;
  route: HttpRoute;
  pathParameters: Record<string, string>;
  body: Buffer;
  authorizer: APIGatewayProxyEventV2WithJWTAuthorizer['requestContext']['authorizer'] | undefined;
  config: ServerlessConfig;
}

export function buildEvent(req: IncomingMessage, parts: EventParts): APIGatewayProxyEventV2WithJWTAuthorizer {
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    const joined = Array.isArray(value) ? value.join(',') : value;
    // Payload 2.0 moves cookies out of the headers into their own list.
    if (name === 'cookie') cookies = joined.split(/;\s*/).filter(Boolean);
    else headers[name] = joined;
  }
  const query = new URLSearchParams(parts.rawQueryString);
  const queryStringParameters: Record<string, string> = {};
  for (const key of new Set(query.keys())) queryStringParameters[key] = query.getAll(key).join(',');

  const now = new Date();
  const requestId = `${randomBytes(10).toString('base64url')}=`;
  const text = isTextContent(headers['content-type']);
  const apiId = 'local';
  const domainName = headers.host ?? '127.0.0.1';

  const event = {
    version: '2.0',
    routeKey: parts.route.routeKey,
    rawPath: parts.rawPath,
    rawQueryString: parts.rawQueryString,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(Object.keys(queryStringParameters).length ? { queryStringParameters } : {}),
    ...(Object.keys(parts.pathParameters).length ? { pathParameters: parts.pathParameters } : {}),
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId,
      ...(parts.authorizer ? { authorizer: parts.authorizer } : {}),
      domainName,
      domainPrefix: domainName.split('.')[0]!,
      http: {
        method: parts.method,
        path: parts.rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: normalizeIp(req.socket.remoteAddress),
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: parts.route.routeKey,
      stage: '$default',
      time: formatRequestTime(now),
      timeEpoch: now.getTime(),
    },
    ...(parts.body.length ? { body: text ? parts.body.toString('utf8') : parts.body.toString('base64') } : {}),
    isBase64Encoded: parts.body.length > 0 && !text,
  };
  return event as APIGatewayProxyEventV2WithJWTAuthorizer;
}

function normalizeIp(address: string | undefined): string {
  if (!address) return '127.0.0.1';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** `12/Mar/2020:19:03:58 +0000`, API Gateway's requestContext.time. */
function formatRequestTime(d: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/** API Gateway hands JWT claims to the function as strings: numbers stringified, arrays as `[a b]`. */
export function apiGatewayClaims(payload: JWTPayload): Record<string, string> {
  const claims: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload)) {
    if (value === undefined || value === null) continue;
    if (typeof value === 'string') claims[name] = value;
    else if (Array.isArray(value)) claims[name] = `[${value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(' ')}]`;
    else if (typeof value === 'object') claims[name] = JSON.stringify(value);
    else claims[name] = String(value);
  }
  return claims;
}

function scopesOf(payload: JWTPayload): string[] | null {
  const raw = payload.scope ?? payload.scp;
  if (typeof raw === 'string') return raw.split(' ').filter(Boolean);
  if (Array.isArray(raw)) return raw.map(String);
  return null;
}

function describeJwtError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'The token has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return `The token has no "${err.claim}" claim${err.claim === 'exp' ? ' (expiry), which the JWT authorizer requires' : ''}`;
    if (err.claim === 'aud') return 'The token was issued for another audience';
    if (err.claim === 'iss') return 'The token comes from an untrusted issuer';
    if (err.claim === 'nbf') return 'The token is not valid yet';
    return `The token's "${err.claim}" claim is not valid`;
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed || err instanceof joseErrors.JWKSNoMatchingKey) {
    return 'The token signature does not verify';
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'The token is signed with an algorithm that is not accepted';
  return 'The bearer token is not a valid JWT';
}

function lambdaContext(fn: FunctionConfig, config: ServerlessConfig, timeoutSeconds: number): Context {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const today = new Date().toISOString().slice(0, 10).replace(/-/g, '/');
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fn.lambdaName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${config.region}:${LOCAL_ACCOUNT_ID}:function:${fn.lambdaName}`,
    memoryLimitInMB: String(fn.memorySize),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${fn.lambdaName}`,
    logStreamName: `${today}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

class IntegrationTimeout extends Error {}

async function invokeWithTimeout(handler: LambdaHandler, event: unknown, context: Context, timeoutMs: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new IntegrationTimeout()), timeoutMs);
  });
  // nodejs24.x runs async (promise-returning) handlers only; callback handlers are gone.
  const invocation = Promise.resolve().then(() => handler(event, context));
  try {
    return await Promise.race([invocation, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Maps a Lambda result to the HTTP response the way HTTP API payload 2.0 does. */
function writeResult(res: ServerResponse, result: unknown, requestId: string, log: (message: string) => void): number {
  const isProxyResult = result !== null && typeof result === 'object' && 'statusCode' in result;
  if (!isProxyResult) {
    // No statusCode: API Gateway answers 200 with the result as JSON (a string as-is).
    const body = result === undefined ? '' : typeof result === 'string' ? result : JSON.stringify(result);
    return send(res, 200, { 'content-type': 'application/json', 'apigw-requestid': requestId }, body);
  }
  const r = result as { statusCode: unknown; headers?: Record<string, unknown>; cookies?: unknown; body?: unknown; isBase64Encoded?: unknown };
  const status = Number(r.statusCode);
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    log(`invalid statusCode ${JSON.stringify(r.statusCode)} in the function's result`);
    return sendJson(res, 500, { message: 'Internal Server Error' }, requestId);
  }
  const headers: Record<string, string | string[]> = { 'apigw-requestid': requestId };
  for (const [name, value] of Object.entries(r.headers ?? {})) {
    if (value !== undefined && value !== null) headers[name.toLowerCase()] = String(value);
  }
  if (Array.isArray(r.cookies) && r.cookies.length) headers['set-cookie'] = r.cookies.map(String);
  const bodyText = r.body === undefined || r.body === null ? '' : String(r.body);
  const body = r.isBase64Encoded === true ? Buffer.from(bodyText, 'base64') : bodyText;
  return send(res, status, headers, body);
}

function sendJson(res: ServerResponse, status: number, value: unknown, requestId?: string): number {
  return send(res, status, { 'content-type': 'application/json', ...(requestId ? { 'apigw-requestid': requestId } : {}) }, JSON.stringify(value));
}

function sendProblem(res: ServerResponse, status: 401 | 403, detail: string, wwwAuthenticate?: string): number {
  const type = status === 401 ? 'unauthenticated' : 'forbidden';
  const title = status === 401 ? 'Not authenticated' : 'Not allowed';
  return send(
    res,
    status,
    { 'content-type': 'application/problem+json', ...(wwwAuthenticate ? { 'www-authenticate': wwwAuthenticate } : {}) },
    JSON.stringify({ type: `${PROBLEM_TYPE_BASE}${type}`, title, status, detail }),
  );
}

/** Answers a CORS preflight from provider.httpApi.cors, as API Gateway does before any route. */
function sendPreflight(req: IncomingMessage, res: ServerResponse, cors: unknown): number {
  return send(res, 204, corsHeaders(req, cors, true), '');
}

function corsHeaders(req: IncomingMessage, cors: unknown, preflight: boolean): Record<string, string> {
  const c = (cors === true ? {} : cors) as {
    allowedOrigins?: string[];
    allowedHeaders?: string[];
    allowedMethods?: string[];
    exposedResponseHeaders?: string[];
    maxAge?: number;
    allowCredentials?: boolean;
  };
  const origin = req.headers.origin;
  const origins = c.allowedOrigins ?? ['*'];
  if (!origin || !(origins.includes('*') || origins.includes(origin))) return {};
  const headers: Record<string, string> = {
    'access-control-allow-origin': origins.includes('*') && !c.allowCredentials ? '*' : origin,
  };
  if (c.allowCredentials) headers['access-control-allow-credentials'] = 'true';
  if (preflight) {
    headers['access-control-allow-methods'] = (c.allowedMethods ?? ['*']).join(',');
    headers['access-control-allow-headers'] = (c.allowedHeaders ?? ['*']).join(',').toLowerCase();
    if (c.maxAge !== undefined) headers['access-control-max-age'] = String(c.maxAge);
  } else if (c.exposedResponseHeaders?.length) {
    headers['access-control-expose-headers'] = c.exposedResponseHeaders.join(',');
  }
  return headers;
}
