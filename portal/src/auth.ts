/**
 * Sign-in with the deployment's OIDC issuer: Authorization Code with PKCE (S256)
 * for a public client. Tokens live in memory and in sessionStorage (one tab's
 * life, never localStorage); they are refreshed a minute before they lapse.
 */
import type { PortalConfig } from './types.ts';

const SESSION_KEY = 'icjit.session';
const PENDING_KEY = 'icjit.signin';
/** Refresh this long before the access token lapses (a quarter of its life when that is shorter). */
const REFRESH_MARGIN_MS = 60_000;

export interface Session {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  /** Epoch ms when the access token lapses. */
  expiresAt: number;
  /** Epoch ms from which the token is renewed before use. */
  refreshAt: number;
  email: string;
  name: string;
}

interface PendingSignIn {
  state: string;
  verifier: string;
  returnTo: string;
}

interface Discovery {
  authorization_endpoint: string;
  token_endpoint: string;
}

interface TokenResponse {
  access_token: string;
  id_token?: string;
  refresh_token?: string;
  expires_in?: number;
}

export class SignedOutError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'SignedOutError';
  }
}

function base64url(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

async function s256(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

/** The claims of a JWT the issuer just handed us over TLS (display only: the API verifies its own token). */
function claimsOf(jwt: string | undefined): Record<string, unknown> {
  const payload = jwt?.split('.')[1];
  if (!payload) return {};
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    return JSON.parse(decodeURIComponent(Array.from(json, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join(''))) as Record<string, unknown>;
  } catch {
    return {};
  }
}

type Listener = (session: Session | undefined, reason?: string) => void;

export class Auth {
  private session: Session | undefined;
  private discovery: Promise<Discovery> | undefined;
  private refreshing: Promise<Session> | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly listeners = new Set<Listener>();
  /** Why the last session ended without the user asking (a listener that subscribes late still learns it). */
  lapsedReason: string | undefined;

  constructor(private readonly config: PortalConfig) {
    const stored = sessionStorage.getItem(SESSION_KEY);
    if (stored) {
      try {
        this.session = JSON.parse(stored) as Session;
        this.scheduleRefresh();
      } catch {
        sessionStorage.removeItem(SESSION_KEY);
      }
    }
  }

  get current(): Session | undefined {
    return this.session;
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private endpoints(): Promise<Discovery> {
    this.discovery ??= fetch(`${this.config.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`).then(async (res) => {
      if (!res.ok) throw new Error(`the sign-in service (${this.config.issuer}) did not answer its discovery document: HTTP ${res.status}`);
      return (await res.json()) as Discovery;
    });
    this.discovery.catch(() => (this.discovery = undefined));
    return this.discovery;
  }

  /** Leaves for the issuer's sign-in page; the browser comes back to /callback. */
  async signIn(returnTo: string): Promise<void> {
    const { authorization_endpoint } = await this.endpoints();
    const pending: PendingSignIn = { state: randomString(16), verifier: randomString(32), returnTo };
    sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
    const url = new URL(authorization_endpoint);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: this.config.clientId,
      redirect_uri: `${location.origin}/callback`,
      scope: this.config.scopes,
      state: pending.state,
      code_challenge: await s256(pending.verifier),
      code_challenge_method: 'S256',
    }).toString();
    location.assign(url.toString());
  }

  /** Completes a sign-in on /callback; answers where the user was going. */
  async completeSignIn(params: URLSearchParams): Promise<string> {
    const raw = sessionStorage.getItem(PENDING_KEY);
    sessionStorage.removeItem(PENDING_KEY);
    const error = params.get('error');
    if (error) throw new Error(`sign-in refused: ${params.get('error_description') ?? error}`);
    const pending = raw ? (JSON.parse(raw) as PendingSignIn) : undefined;
    const code = params.get('code');
    if (!pending || !code) throw new Error('this sign-in link was not started here or was already used; sign in again');
    if (params.get('state') !== pending.state) throw new Error('the sign-in answer does not match the request (state differs); sign in again');
    const tokens = await this.tokenRequest({
      grant_type: 'authorization_code',
      code,
      code_verifier: pending.verifier,
      redirect_uri: `${location.origin}/callback`,
      client_id: this.config.clientId,
    });
    this.store(tokens);
    // Only a path of this app: never another origin (`//host`), never the callback again.
    const to = pending.returnTo;
    return to.startsWith('/') && !to.startsWith('//') && !to.startsWith('/callback') ? to : '/';
  }

  /** A valid access token, refreshed first when it is about to lapse. */
  async accessToken(): Promise<string> {
    const session = this.session;
    if (!session) throw new SignedOutError('you are not signed in');
    if (Date.now() < session.refreshAt) return session.accessToken;
    return (await this.refresh()).accessToken;
  }

  /** Gets new tokens with the refresh token; without one (or refused), the user is signed out. */
  refresh(): Promise<Session> {
    this.refreshing ??= (async () => {
      const refreshToken = this.session?.refreshToken;
      if (!refreshToken) throw this.signedOut('your sign-in has lapsed');
      try {
        return this.store(await this.tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: this.config.clientId }, refreshToken));
      } catch (err) {
        if (err instanceof TypeError) throw err;
        throw this.signedOut('your sign-in has lapsed and could not be renewed');
      }
    })().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** Forgets the tokens here (the issuer's own session is left alone). */
  signOut(): void {
    this.signedOut(undefined);
  }

  /** Called when the API refuses the token: the session is gone. */
  signedOut(reason: string | undefined): SignedOutError {
    clearTimeout(this.refreshTimer);
    this.session = undefined;
    this.lapsedReason = reason;
    sessionStorage.removeItem(SESSION_KEY);
    for (const l of this.listeners) l(undefined, reason);
    return new SignedOutError(reason ?? 'signed out');
  }

  private async tokenRequest(form: Record<string, string>, previousRefreshToken?: string): Promise<TokenResponse & { previousRefreshToken?: string }> {
    const { token_endpoint } = await this.endpoints();
    const res = await fetch(token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
    });
    const body = (await res.json().catch(() => ({}))) as TokenResponse & { error?: string; error_description?: string };
    if (!res.ok || !body.access_token) {
      throw new Error(`the sign-in service refused: ${body.error_description ?? body.error ?? `HTTP ${res.status}`}`);
    }
    return previousRefreshToken ? { ...body, previousRefreshToken } : body;
  }

  private store(tokens: TokenResponse & { previousRefreshToken?: string }): Session {
    const idClaims = claimsOf(tokens.id_token);
    const accessClaims = claimsOf(tokens.access_token);
    const email = String(idClaims.email ?? accessClaims.email ?? this.session?.email ?? '');
    const expiresIn = tokens.expires_in ?? Math.max(0, Number(accessClaims.exp ?? 0) - Date.now() / 1000);
    const lifetimeMs = expiresIn * 1000;
    const session: Session = {
      accessToken: tokens.access_token,
      expiresAt: Date.now() + lifetimeMs,
      refreshAt: Date.now() + lifetimeMs - Math.min(REFRESH_MARGIN_MS, lifetimeMs / 4),
      email,
      name: String(idClaims.name ?? this.session?.name ?? email),
    };
    const refreshToken = tokens.refresh_token ?? tokens.previousRefreshToken;
    if (refreshToken) session.refreshToken = refreshToken;
    if (tokens.id_token) session.idToken = tokens.id_token;
    this.session = session;
    this.lapsedReason = undefined;
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    this.scheduleRefresh();
    for (const l of this.listeners) l(session);
    return session;
  }

  /** Renews ahead of expiry so a page left open keeps working. */
  private scheduleRefresh(): void {
    clearTimeout(this.refreshTimer);
    if (!this.session) return;
    const due = Math.max(0, this.session.refreshAt - Date.now());
    this.refreshTimer = setTimeout(() => void this.refresh().catch(() => undefined), due);
  }
}
