/**
 * `npm run token -- <email> [--ttl 1h] [--scope "a b"] [--issuer URL] [--audience AUD]`
 *
 * Prints a bearer token for the local gateway, signed by the local issuer's persisted key
 * (`$LOCAL_DATA_DIR`, default `.local-data/`). Only the token goes to stdout, so
 *   TOKEN=$(npm run -s token -- alice@example.com)
 * works. The issuer defaults to the one `npm start` uses on PORT (default 3000).
 */
import { parseArgs } from 'node:util';
import { gatewayPortFromEnv, LOCAL_AUDIENCE, LocalIssuer, localDataDir, localIssuerUrl, parseTtl } from './jwt.ts';

const USAGE = 'usage: npm run token -- <email> [--ttl 1h] [--scope "a b"] [--issuer URL] [--audience AUD]';

export async function main(argv: string[]): Promise<string> {
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
  const issuer = await LocalIssuer.open(localDataDir());
  return issuer.sign(
    { email, ...(values.scope ? { scope: values.scope } : {}) },
    {
      issuer: values.issuer ?? localIssuerUrl(gatewayPortFromEnv()),
      audience: values.audience ?? LOCAL_AUDIENCE,
      ttlSeconds,
    },
  );
}

class UsageError extends Error {}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('local/token.ts')) {
  main(process.argv.slice(2)).then(
    (token) => process.stdout.write(`${token}\n`),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).message}\n`);
      process.exitCode = err instanceof UsageError ? 2 : 1;
    },
  );
}
