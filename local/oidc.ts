/**
 * The local issuer's sign-in: the OpenID Connect endpoints a browser app needs for the
 * Authorization Code flow with PKCE (public clients, S256 only), on top of the issuer's
 * key. The authorize page lists the seeded Identity Store users to sign in as; the token
 * endpoint answers access tokens the gateway's JWT check accepts (the same kind
 * `npm run token` prints), an id token for the client and a refresh token.
 *
 * Codes and refresh tokens live in memory: a restart signs everyone out, as a new IdP
 * session would.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBytes, send } from './protocol/http.ts';
import { LOCAL_AUDIENCE, LOCAL_ISSUER_PATH, type LocalIssuer } from './jwt.ts';

/** The portal's client id locally (a public client: no secret). */
export const LOCAL_PORTAL_CLIENT_ID = 'identity-center-jit-portal';
export const DEFAULT_SIGN_IN_TOKEN_TTL_SECONDS = 3600;
/** Authorization codes are single use and expire after this (RFC 6749 recommends at most 10 minutes). */
export const AUTHORIZATION_CODE_TTL_MS = 60_000;
/** A refresh token lasts a working day; each use replaces it. */
const REFRESH_TOKEN_TTL_MS = 12 * 3600_000;
const MAX_FORM_BYTES = 64 * 1024;
/** RFC 7636: 43–128 characters of [A-Z a-z 0-9 - . _ ~]; an S256 challenge is 43 base64url characters. */
const VERIFIER_PATTERN = /^[A-Za-z0-9\-._~]{43,128}$/;
const S256_CHALLENGE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface SignInUser {
  email: string;
  userName: string;
  displayName: string;
  groups: string[];
}

export interface SignInClient {
  clientId: string;
  redirectUris: string[];
}

export interface LocalSignInOptions {
  issuer: LocalIssuer;
  users: SignInUser[];
  /** Default: the portal's client, redirecting to `<gateway origin>/callback`. */
  clients?: (gatewayUrl: string) => SignInClient[];
  /** Lifetime of access and id tokens (default 1 h). */
  tokenTtlSeconds?: number;
  /** The audience access tokens carry (default the API's, `identity-center-jit`). */
  audience?: string;
  now?: () => number;
}

export interface SignInContext {
  /** The issuer URL tokens carry, e.g. `http://127.0.0.1:3000/local-issuer`. */
  issuer: string;
  gatewayUrl: string;
}

interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  state: string;
  codeChallenge: string;
  scope: string;
  nonce: string;
}

interface IssuedCode {
  request: AuthorizationRequest;
  email: string;
  expiresAt: number;
  used: boolean;
  /** Refresh tokens issued for it: a replayed code revokes them (RFC 6749 §4.1.2). */
  refreshTokens: Set<string>;
}

interface RefreshGrant {
  email: string;
  clientId: string;
  scope: string;
  expiresAt: number;
  code: string;
}

class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

/** Answers the sign-in endpoints under `/local-issuer/`; `handle` returns undefined for any other request. */
export class LocalSignIn {
  private readonly codes = new Map<string, IssuedCode>();
  private readonly refreshTokens = new Map<string, RefreshGrant>();
  private readonly now: () => number;
  readonly tokenTtlSeconds: number;

  constructor(private readonly options: LocalSignInOptions) {
    this.now = options.now ?? Date.now;
    this.tokenTtlSeconds = options.tokenTtlSeconds ?? DEFAULT_SIGN_IN_TOKEN_TTL_SECONDS;
  }

  /** The discovery document: the issuer's keys plus the endpoints of the code flow. */
  discovery(issuer: string): Record<string, unknown> {
    return {
      ...this.options.issuer.openIdConfiguration(issuer),
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
      scopes_supported: ['openid', 'email', 'profile'],
      claims_supported: ['sub', 'email', 'name', 'preferred_username', 'groups'],
    };
  }

  async handle(req: IncomingMessage, res: ServerResponse, rawPath: string, rawQueryString: string, ctx: SignInContext): Promise<number | undefined> {
    const method = (req.method ?? 'GET').toUpperCase();
    const endpoint = rawPath.slice(LOCAL_ISSUER_PATH.length);
    if (endpoint === '/.well-known/openid-configuration' && method === 'GET') {
      return send(res, 200, { 'content-type': 'application/json', 'cache-control': 'no-store' }, JSON.stringify(this.discovery(ctx.issuer)));
    }
    if (endpoint === '/authorize' && method === 'GET') return this.authorizePage(res, new URLSearchParams(rawQueryString), ctx);
    if (endpoint === '/authorize' && method === 'POST') {
      const form = await readForm(req);
      if (!form) return errorPage(res, 400, 'The sign-in form could not be read: send it as application/x-www-form-urlencoded.');
      return this.authorizeSubmit(res, form, ctx);
    }
    if (endpoint === '/token' && method === 'POST') {
      const form = await readForm(req);
      try {
        if (!form) throw new OAuthError('invalid_request', 'The token request must be an application/x-www-form-urlencoded body.');
        return sendTokenJson(res, 200, await this.token(form, ctx));
      } catch (err) {
        if (!(err instanceof OAuthError)) throw err;
        return sendTokenJson(res, 400, { error: err.error, error_description: err.description });
      }
    }
    if ((endpoint === '/authorize' || endpoint === '/token') && method !== 'OPTIONS') {
      return send(res, 405, { 'content-type': 'text/plain; charset=utf-8', allow: endpoint === '/token' ? 'POST' : 'GET, POST' }, `${method} is not allowed on ${rawPath}\n`);
    }
    return undefined;
  }

  private clients(ctx: SignInContext): SignInClient[] {
    return this.options.clients?.(ctx.gatewayUrl) ?? [{ clientId: LOCAL_PORTAL_CLIENT_ID, redirectUris: [`${ctx.gatewayUrl}/callback`] }];
  }

  /** The authorization request's parameters, or what is wrong with them (one sentence). */
  private parseAuthorizationRequest(params: URLSearchParams, ctx: SignInContext): AuthorizationRequest | string {
    const clientId = params.get('client_id') ?? '';
    if (!clientId) return 'The request names no client (client_id is missing).';
    const client = this.clients(ctx).find((c) => c.clientId === clientId);
    if (!client) return `Unknown client "${clientId}": this issuer knows ${this.clients(ctx).map((c) => `"${c.clientId}"`).join(', ')}.`;
    const redirectUri = params.get('redirect_uri') ?? '';
    if (!redirectUri) return 'The request has no redirect_uri.';
    if (!client.redirectUris.includes(redirectUri)) {
      return `The redirect_uri "${redirectUri}" is not registered for client "${clientId}" (registered: ${client.redirectUris.join(', ')}).`;
    }
    const responseType = params.get('response_type') ?? '';
    if (responseType !== 'code') return `response_type must be "code" (the authorization code flow), got "${responseType}".`;
    const codeChallenge = params.get('code_challenge') ?? '';
    if (!codeChallenge) return 'PKCE is required: the request has no code_challenge.';
    const method = params.get('code_challenge_method') ?? '';
    if (method !== 'S256') return `code_challenge_method must be "S256", got "${method || '(none, which means plain)'}".`;
    if (!S256_CHALLENGE_PATTERN.test(codeChallenge)) return 'The code_challenge is not an S256 challenge (43 base64url characters, the SHA-256 of the verifier).';
    const scope = params.get('scope') ?? 'openid';
    if (!scope.split(' ').includes('openid')) return `The scope must include "openid", got "${scope}".`;
    return { clientId, redirectUri, state: params.get('state') ?? '', codeChallenge, scope, nonce: params.get('nonce') ?? '' };
  }

  private authorizePage(res: ServerResponse, params: URLSearchParams, ctx: SignInContext): number {
    const request = this.parseAuthorizationRequest(params, ctx);
    if (typeof request === 'string') return errorPage(res, 400, request);
    const hidden = [
      ['response_type', 'code'],
      ['client_id', request.clientId],
      ['redirect_uri', request.redirectUri],
      ['state', request.state],
      ['code_challenge', request.codeChallenge],
      ['code_challenge_method', 'S256'],
      ['scope', request.scope],
      ['nonce', request.nonce],
    ]
      .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value!)}">`)
      .join('');
    const users = this.options.users
      .map(
        (u) => `<li><form method="post" action="${LOCAL_ISSUER_PATH}/authorize">${hidden}
  <p><strong>${escapeHtml(u.displayName)}</strong> <span>${escapeHtml(u.email)}</span><br>
  <span>Groups: ${u.groups.length ? escapeHtml(u.groups.join(', ')) : 'none'}</span></p>
  <button type="submit" name="email" value="${escapeHtml(u.email)}">Sign in as ${escapeHtml(u.displayName)}</button>
</form></li>`,
      )
      .join('\n');
    const body = `<p>Local issuer: pick a user of the demo Identity Store to sign in to <strong>${escapeHtml(request.clientId)}</strong>. No password: this issuer exists only on this machine.</p>
<ul class="users">
${users}
</ul>`;
    return htmlPage(res, 200, 'Sign in', body, new URL(request.redirectUri).origin);
  }

  private authorizeSubmit(res: ServerResponse, form: URLSearchParams, ctx: SignInContext): number {
    const request = this.parseAuthorizationRequest(form, ctx);
    if (typeof request === 'string') return errorPage(res, 400, request);
    const email = form.get('email') ?? '';
    const user = this.options.users.find((u) => u.email.toLowerCase() === email.toLowerCase());
    if (!user) return errorPage(res, 400, `No seeded user has the email "${email}": pick one of the listed users.`);
    const code = randomBytes(32).toString('base64url');
    this.forgetExpired();
    this.codes.set(code, { request, email: user.email, expiresAt: this.now() + AUTHORIZATION_CODE_TTL_MS, used: false, refreshTokens: new Set() });
    const location = new URL(request.redirectUri);
    location.searchParams.set('code', code);
    if (request.state) location.searchParams.set('state', request.state);
    location.searchParams.set('iss', ctx.issuer);
    return send(res, 302, { location: location.toString(), 'cache-control': 'no-store' }, '');
  }

  private async token(form: URLSearchParams, ctx: SignInContext): Promise<Record<string, unknown>> {
    const grantType = form.get('grant_type') ?? '';
    if (grantType === 'authorization_code') return this.redeemCode(form, ctx);
    if (grantType === 'refresh_token') return this.refresh(form, ctx);
    if (!grantType) throw new OAuthError('invalid_request', 'grant_type is missing.');
    throw new OAuthError('unsupported_grant_type', `grant_type "${grantType}" is not supported: use "authorization_code" or "refresh_token".`);
  }

  private async redeemCode(form: URLSearchParams, ctx: SignInContext): Promise<Record<string, unknown>> {
    const code = required(form, 'code');
    const clientId = required(form, 'client_id');
    const redirectUri = required(form, 'redirect_uri');
    const verifier = required(form, 'code_verifier');
    const issued = this.codes.get(code);
    if (!issued || issued.expiresAt <= this.now()) throw new OAuthError('invalid_grant', 'The authorization code is unknown or has expired (codes last 60 seconds).');
    if (issued.used) {
      for (const token of issued.refreshTokens) this.refreshTokens.delete(token);
      throw new OAuthError('invalid_grant', 'The authorization code was already used; the tokens issued for it are revoked.');
    }
    if (issued.request.clientId !== clientId) throw new OAuthError('invalid_grant', `The authorization code was issued to another client than "${clientId}".`);
    if (issued.request.redirectUri !== redirectUri) throw new OAuthError('invalid_grant', 'The redirect_uri differs from the one in the authorization request.');
    if (!VERIFIER_PATTERN.test(verifier)) throw new OAuthError('invalid_request', 'The code_verifier must be 43–128 characters of A–Z, a–z, 0–9, "-", ".", "_" and "~".');
    // A wrong verifier spends the code too: an attacker holding it gets one guess.
    issued.used = true;
    if (s256(verifier) !== issued.request.codeChallenge) throw new OAuthError('invalid_grant', 'The code_verifier does not match the code_challenge (PKCE S256).');
    return this.issueTokens(issued.email, issued.request.clientId, issued.request.scope, code, ctx, issued.request.nonce);
  }

  private async refresh(form: URLSearchParams, ctx: SignInContext): Promise<Record<string, unknown>> {
    const token = required(form, 'refresh_token');
    const clientId = required(form, 'client_id');
    const grant = this.refreshTokens.get(token);
    if (!grant || grant.expiresAt <= this.now()) throw new OAuthError('invalid_grant', 'The refresh token is unknown, used or expired: sign in again.');
    if (grant.clientId !== clientId) throw new OAuthError('invalid_grant', `The refresh token was issued to another client than "${clientId}".`);
    // Rotation: each refresh token works once (public clients cannot keep a secret).
    this.refreshTokens.delete(token);
    this.codes.get(grant.code)?.refreshTokens.delete(token);
    return this.issueTokens(grant.email, grant.clientId, grant.scope, grant.code, ctx);
  }

  private async issueTokens(email: string, clientId: string, scope: string, code: string, ctx: SignInContext, nonce = ''): Promise<Record<string, unknown>> {
    const user = this.options.users.find((u) => u.email.toLowerCase() === email.toLowerCase());
    if (!user) throw new OAuthError('invalid_grant', `The user ${email} is no longer in the Identity Store.`);
    const ttlSeconds = this.tokenTtlSeconds;
    const issuedAt = new Date(this.now());
    const signer = this.options.issuer;
    const accessToken = await signer.sign(
      { email: user.email, username: user.userName, scope, client_id: clientId },
      { issuer: ctx.issuer, audience: this.options.audience ?? LOCAL_AUDIENCE, ttlSeconds, issuedAt },
    );
    const idToken = await signer.sign(
      { email: user.email, username: user.userName, name: user.displayName, preferred_username: user.userName, groups: user.groups, ...(nonce ? { nonce } : {}) },
      { issuer: ctx.issuer, audience: clientId, ttlSeconds, issuedAt },
    );
    this.forgetExpired();
    const refreshToken = randomBytes(32).toString('base64url');
    this.refreshTokens.set(refreshToken, { email: user.email, clientId, scope, expiresAt: this.now() + REFRESH_TOKEN_TTL_MS, code });
    this.codes.get(code)?.refreshTokens.add(refreshToken);
    return { access_token: accessToken, id_token: idToken, refresh_token: refreshToken, token_type: 'Bearer', expires_in: ttlSeconds, scope };
  }

  private forgetExpired(): void {
    const now = this.now();
    for (const [code, issued] of this.codes) if (issued.expiresAt <= now) this.codes.delete(code);
    for (const [token, grant] of this.refreshTokens) if (grant.expiresAt <= now) this.refreshTokens.delete(token);
  }
}

/** The PKCE S256 challenge of a verifier: base64url(SHA-256(verifier)). */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

function required(form: URLSearchParams, name: string): string {
  const value = form.get(name);
  if (!value) throw new OAuthError('invalid_request', `${name} is missing.`);
  return value;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const body = await readBytes(req, MAX_FORM_BYTES);
  if (type !== 'application/x-www-form-urlencoded' || body === undefined) return undefined;
  return new URLSearchParams(body.toString('utf8'));
}

function sendTokenJson(res: ServerResponse, status: number, value: unknown): number {
  // RFC 6749 §5.1: token responses are never cached.
  return send(res, status, { 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache' }, JSON.stringify(value));
}

function errorPage(res: ServerResponse, status: number, message: string): number {
  return htmlPage(res, status, 'Sign-in request refused', `<p role="alert">${escapeHtml(message)}</p>`);
}

/** A page with no script at all; the form may post only here (and be redirected to the client's origin). */
function htmlPage(res: ServerResponse, status: number, title: string, body: string, redirectOrigin?: string): number {
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} — local issuer</title>
<style>
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 40rem; padding: 1rem; line-height: 1.5; color: #1a1a1a; }
ul.users { list-style: none; padding: 0; }
ul.users li { border: 1px solid #767676; border-radius: 0.5rem; padding: 0.5rem 1rem; margin: 0.75rem 0; }
button { font: inherit; padding: 0.5rem 1rem; min-height: 44px; background: #0b57d0; color: #fff; border: 0; border-radius: 0.25rem; cursor: pointer; }
button:focus-visible { outline: 3px solid #1a1a1a; outline-offset: 2px; }
</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>
`;
  const formAction = ["'self'", ...(redirectOrigin ? [redirectOrigin] : [])].join(' ');
  return send(
    res,
    status,
    {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    },
    html,
  );
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
