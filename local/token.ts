/**
 * `npm run token -- <email> [--ttl 1h] [--scope "a b"] [--issuer URL] [--audience AUD]`
 *
 * Prints a bearer token for the local gateway, signed by the key the local cloud keeps in
 * its data directory (`$LOCAL_DATA_DIR`, default `.local-data/`). Only the token goes to
 * stdout, so
 *   TOKEN=$(npm run -s token -- alice@example.com)
 * works; which key file and issuer were used goes to stderr. The issuer defaults to the one
 * `npm start` uses on PORT (default 3000).
 *
 * It never creates a key: a key the running local cloud does not hold signs tokens its
 * gateway refuses. With no key in the data directory, or when the gateway on that port
 * serves another key, it refuses and says which LOCAL_DATA_DIR / PORT to use.
 */
import { parseArgs } from 'node:util';
import { gatewayPortFromEnv, LOCAL_AUDIENCE, LocalIssuer, localDataDir, localIssuerKeyFile, localIssuerUrl, MissingIssuerKeyError, parseTtl } from './jwt.ts';

const USAGE = 'usage: npm run token -- <email> [--ttl 1h] [--scope "a b"] [--issuer URL] [--audience AUD]';

export class UsageError extends Error {}
/** The token would not be accepted by the local cloud this environment points at. */
export class TokenRefused extends Error {}

export interface TokenSettings {
  dataDir: string;
  keyFile: string;
  issuer: string;
  audience: string;
  /** Whether the issuer is the local gateway's own (so its key set can be asked for). */
  localGateway: boolean;
}

/** Where the key is read from and which issuer the token names, from LOCAL_DATA_DIR, PORT and the options. */
export function resolveTokenSettings(options: { issuer?: string; audience?: string }, env: NodeJS.ProcessEnv = process.env): TokenSettings {
  const dataDir = localDataDir(env);
  return {
    dataDir,
    keyFile: localIssuerKeyFile(dataDir),
    issuer: options.issuer ?? localIssuerUrl(gatewayPortFromEnv(env)),
    audience: options.audience ?? LOCAL_AUDIENCE,
    localGateway: options.issuer === undefined,
  };
}

/** The key ids the gateway serves for an issuer, or undefined when nothing answers there. */
export type KeySetProbe = (issuer: string) => Promise<string[] | undefined>;

export const probeGatewayKeys: KeySetProbe = async (issuer) => {
  try {
    const res = await fetch(`${issuer}/.well-known/jwks.json`, { signal: AbortSignal.timeout(1500) });
    if (!res.ok) return undefined;
    const body = (await res.json()) as { keys?: { kid?: string }[] };
    return (body.keys ?? []).map((k) => String(k.kid));
  } catch {
    return undefined;
  }
};

export interface IssuedToken {
  token: string;
  settings: TokenSettings;
  expiresAt: string;
  /** What the caller should know (printed to stderr), e.g. that no gateway answers at the issuer. */
  notes: string[];
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, probe: KeySetProbe = probeGatewayKeys): Promise<IssuedToken> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ttl: { type: 'string', default: '1h' },
      scope: { type: 'string' },
      issuer: { type: 'string' },
      audience: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) throw new UsageError(USAGE);
  const [email, ...extra] = positionals;
  if (!email || extra.length) throw new UsageError(USAGE);
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw new UsageError(`"${email}" is not an email address\n${USAGE}`);
  const ttlSeconds = parseTtl(values.ttl);
  const settings = resolveTokenSettings({ ...(values.issuer ? { issuer: values.issuer } : {}), ...(values.audience ? { audience: values.audience } : {}) }, env);

  let issuer: LocalIssuer;
  try {
    issuer = await LocalIssuer.load(settings.dataDir);
  } catch (err) {
    if (!(err instanceof MissingIssuerKeyError)) throw err;
    throw new TokenRefused(
      `no local cloud key at ${err.keyFile}: start the local cloud first (npm start), ` +
        `or set LOCAL_DATA_DIR to the data directory the running one uses (LOCAL_DATA_DIR=${env.LOCAL_DATA_DIR ?? '(unset)'})`,
    );
  }

  const notes: string[] = [];
  if (settings.localGateway) {
    const served = await probe(settings.issuer);
    if (served === undefined) {
      notes.push(`no local cloud answers at ${settings.issuer}: the token is for a gateway on that port (PORT=${env.PORT ?? '(unset, 3000)'}) using this key`);
    } else if (!served.includes(issuer.keyId)) {
      throw new TokenRefused(
        `the local cloud at ${settings.issuer} signs with another key than ${settings.keyFile}: ` +
          `run npm run token with the LOCAL_DATA_DIR that npm start uses (LOCAL_DATA_DIR=${env.LOCAL_DATA_DIR ?? '(unset)'})`,
      );
    }
  }

  const token = await issuer.sign({ email, ...(values.scope ? { scope: values.scope } : {}) }, { issuer: settings.issuer, audience: settings.audience, ttlSeconds });
  return { token, settings, expiresAt: new Date(Date.now() + ttlSeconds * 1000).toISOString(), notes };
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('local/token.ts')) {
  main(process.argv.slice(2)).then(
    ({ token, settings, expiresAt, notes }) => {
      process.stderr.write(`signed with ${settings.keyFile} for issuer ${settings.issuer} (audience ${settings.audience}), valid until ${expiresAt}\n`);
      for (const note of notes) process.stderr.write(`note: ${note}\n`);
      process.stdout.write(`${token}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`${(err as Error).message}\n`);
      process.exitCode = err instanceof UsageError ? 2 : 1;
    },
  );
}
