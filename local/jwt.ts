/**
 * The local token issuer: an RS256 key pair persisted under the local data directory,
 * so `npm run token` and `npm start` sign and verify with the same key across restarts.
 * The gateway serves its JWKS and OpenID configuration under {@link LOCAL_ISSUER_PATH}
 * and verifies bearer tokens the way API Gateway's JWT authorizer does.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';

export const LOCAL_ISSUER_PATH = '/local-issuer';
/** Same as the `jwtAudience` default in serverless.yml. */
export const LOCAL_AUDIENCE = 'identity-center-jit';
export const DEFAULT_GATEWAY_PORT = 3000;
const KEY_FILE = 'local-issuer-key.json';
const ALGORITHM = 'RS256';
const ROOT = path.resolve(import.meta.dirname, '..');

/** Where the local cloud keeps its state: `LOCAL_DATA_DIR`, else `.local-data/` in the project (as local/cloud.ts resolves it). */
export function localDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.LOCAL_DATA_DIR ? path.resolve(env.LOCAL_DATA_DIR) : path.join(ROOT, '.local-data');
}

/** The file holding the local issuer's private key in a data directory. */
export function localIssuerKeyFile(dataDir: string): string {
  return path.join(dataDir, KEY_FILE);
}

/** No local issuer key in the data directory: nothing there has started the local cloud. */
export class MissingIssuerKeyError extends Error {
  constructor(readonly keyFile: string) {
    super(`no local issuer key at ${keyFile}`);
    this.name = 'MissingIssuerKeyError';
  }
}

/** The issuer URL a gateway on `port` uses: `http://127.0.0.1:<port>/local-issuer`. */
export function localIssuerUrl(port: number, host = '127.0.0.1'): string {
  return `http://${host}:${port}${LOCAL_ISSUER_PATH}`;
}

/** The port `npm start` listens on: PORT, else 3000. */
export function gatewayPortFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const port = env.PORT ? Number(env.PORT) : DEFAULT_GATEWAY_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got "${env.PORT}"`);
  return port;
}

export interface UserClaims {
  email: string;
  /** Defaults to a stable id derived from the email, like an IdP's subject. */
  sub?: string;
  /** Defaults to the email (Cognito-style `username`). */
  username?: string;
  /** Space-separated OAuth scopes (`scope` claim). */
  scope?: string;
  [claim: string]: unknown;
}

export interface SignOptions {
  issuer: string;
  audience?: string | string[];
  /** Lifetime in seconds (default 3600). */
  ttlSeconds?: number;
  /** Issue time (default now); lets tests mint already-expired tokens. */
  issuedAt?: Date;
}

export class LocalIssuer {
  private readonly keySet: JWTVerifyGetKey;

  private constructor(
    private readonly privateKey: CryptoKey,
    private readonly publicJwk: JWK & { kid: string },
  ) {
    this.keySet = createLocalJWKSet(this.jwks());
  }

  /**
   * Loads the key pair from `<dataDir>/local-issuer-key.json`, creating it on first use.
   * Two processes creating it at once agree: the first write wins (exclusive create) and
   * the other reads it back.
   */
  static async open(dataDir: string = localDataDir()): Promise<LocalIssuer> {
    const file = localIssuerKeyFile(dataDir);
    let privateJwk: JWK;
    try {
      privateJwk = JSON.parse(await readFile(file, 'utf8')) as JWK;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read the local issuer key ${file}: ${(err as Error).message}`);
      const { privateKey } = await generateKeyPair(ALGORITHM, { extractable: true, modulusLength: 2048 });
      const jwk = await exportJWK(privateKey);
      jwk.kid = await calculateJwkThumbprint(jwk);
      jwk.alg = ALGORITHM;
      jwk.use = 'sig';
      await mkdir(dataDir, { recursive: true });
      try {
        await writeFile(file, JSON.stringify(jwk, null, 2), { flag: 'wx', mode: 0o600 });
        privateJwk = jwk;
      } catch (writeErr) {
        if ((writeErr as NodeJS.ErrnoException).code !== 'EEXIST') throw writeErr;
        privateJwk = JSON.parse(await readFile(file, 'utf8')) as JWK;
      }
    }
    return LocalIssuer.fromPrivateJwk(privateJwk);
  }

  /** The key pair a local cloud created in `dataDir`; never creates one (a new key would sign tokens no running gateway accepts). */
  static async load(dataDir: string = localDataDir()): Promise<LocalIssuer> {
    const file = localIssuerKeyFile(dataDir);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingIssuerKeyError(file);
      throw new Error(`cannot read the local issuer key ${file}: ${(err as Error).message}`);
    }
    return LocalIssuer.fromPrivateJwk(JSON.parse(text) as JWK);
  }

  /** A key pair that lives only in memory (tests that need a second, untrusted issuer). */
  static async ephemeral(): Promise<LocalIssuer> {
    const { privateKey } = await generateKeyPair(ALGORITHM, { extractable: true, modulusLength: 2048 });
    const jwk = await exportJWK(privateKey);
    jwk.kid = await calculateJwkThumbprint(jwk);
    return LocalIssuer.fromPrivateJwk(jwk);
  }

  private static async fromPrivateJwk(privateJwk: JWK): Promise<LocalIssuer> {
    if (!privateJwk.kid || !privateJwk.d) throw new Error('local issuer key file holds no private RSA key');
    const privateKey = (await importJWK(privateJwk, ALGORITHM)) as CryptoKey;
    const { kty, n, e, kid } = privateJwk;
    return new LocalIssuer(privateKey, { kty: kty!, n: n!, e: e!, kid, alg: ALGORITHM, use: 'sig' });
  }

  get keyId(): string {
    return this.publicJwk.kid;
  }

  /** The public key set served at `<issuer>/.well-known/jwks.json`. */
  jwks(): JSONWebKeySet {
    return { keys: [{ ...this.publicJwk }] };
  }

  /** OpenID discovery document, the part a JWT authorizer reads. */
  openIdConfiguration(issuer: string): Record<string, unknown> {
    return {
      issuer,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      id_token_signing_alg_values_supported: [ALGORITHM],
      response_types_supported: ['token'],
      subject_types_supported: ['public'],
    };
  }

  async sign(claims: UserClaims, options: SignOptions): Promise<string> {
    const { email, sub, username, ...rest } = claims;
    const issuedAt = Math.floor((options.issuedAt ?? new Date()).getTime() / 1000);
    return new SignJWT({ ...rest, email, username: username ?? email, token_use: 'id' })
      .setProtectedHeader({ alg: ALGORITHM, kid: this.keyId, typ: 'JWT' })
      .setIssuer(options.issuer)
      .setAudience(options.audience ?? LOCAL_AUDIENCE)
      .setSubject(sub ?? subjectFor(email))
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + (options.ttlSeconds ?? 3600))
      .sign(this.privateKey);
  }

  /** Verifies signature, issuer, audience, exp and nbf; throws a jose error otherwise. */
  async verify(token: string, options: { issuer: string; audience: string | string[] }): Promise<JWTPayload> {
    const { payload } = await jwtVerify(token, this.keySet, { ...options, algorithms: [ALGORITHM] });
    return payload;
  }

  /** The key lookup for `jwtVerify`, for callers holding their own options. */
  get keys(): JWTVerifyGetKey {
    return this.keySet;
  }
}

/** A stable, opaque subject per email (case-insensitive, as emails compare). */
export function subjectFor(email: string): string {
  const hex = createHash('sha256').update(email.trim().toLowerCase()).digest('hex');
  // UUID-shaped, like the `sub` most IdPs issue.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** `90`, `90s`, `30m`, `8h`, `2d` or ISO 8601 `PT1H30M` → seconds. */
export function parseTtl(text: string): number {
  const trimmed = text.trim();
  const simple = /^(\d+)\s*([smhd]?)$/i.exec(trimmed);
  if (simple) {
    const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[simple[2]!.toLowerCase() as '' | 's' | 'm' | 'h' | 'd'];
    const seconds = Number(simple[1]) * unit;
    if (seconds > 0) return seconds;
  }
  const iso = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/i.exec(trimmed);
  if (iso && trimmed.length > 1 && !trimmed.endsWith('T')) {
    const [, d, h, m, s] = iso;
    const seconds = Number(d ?? 0) * 86400 + Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s ?? 0);
    if (seconds > 0) return seconds;
  }
  throw new Error(`invalid TTL "${text}": use e.g. 90s, 30m, 8h, 2d or PT1H`);
}
