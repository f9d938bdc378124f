/**
 * Role sessions on the local cloud, as a person takes them from the AWS access portal:
 *
 *   npm run -s session -- <email> <account id> <permission set>
 *     prints `export AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… AWS_SESSION_TOKEN=…` from
 *     GetRoleCredentials on the local edge (a bearer token signed as `npm run token` signs it),
 *     so `eval "$(npm run -s session -- bob@example.com 444444444444 ReadOnlyAccess)"` sets them;
 *   npm run -s whoami
 *     runs STS GetCallerIdentity on the local edge with the credentials in the environment and
 *     prints who they act as, or the error (ExpiredToken, AccessDenied) with exit code 1.
 *
 * The edge is AWS_ENDPOINT_URL, else 127.0.0.1 on EDGE_PORT (default 4566).
 */
import { GetRoleCredentialsCommand, SSOClient } from '@aws-sdk/client-sso';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DEFAULT_EDGE_PORT } from './edge.ts';
import { LOCAL_REGION } from './protocol/aws.ts';
import { main as issueToken, UsageError } from './token.ts';

const USAGE = 'usage: npm run -s session -- <email> <account id> <permission set>\n       npm run -s whoami';

export function edgeUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.AWS_ENDPOINT_URL ?? `http://127.0.0.1:${env.EDGE_PORT ?? DEFAULT_EDGE_PORT}`;
}

/** The shell lines that set the session's credentials. */
export async function session(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const [email, accountId, permissionSet, ...extra] = argv;
  if (!email || !accountId || !permissionSet || extra.length) throw new UsageError(USAGE);
  if (!/^\d{12}$/.test(accountId)) throw new UsageError(`"${accountId}" is not a 12-digit account id\n${USAGE}`);
  const { token } = await issueToken([email], env);
  const portal = new SSOClient({ endpoint: edgeUrl(env), region: LOCAL_REGION });
  try {
    const { roleCredentials: c } = await portal.send(new GetRoleCredentialsCommand({ accessToken: token, accountId, roleName: permissionSet }));
    if (!c?.accessKeyId || !c.secretAccessKey || !c.sessionToken) throw new Error('GetRoleCredentials answered no credentials');
    return [
      `export AWS_ACCESS_KEY_ID=${c.accessKeyId} AWS_SECRET_ACCESS_KEY=${c.secretAccessKey} AWS_SESSION_TOKEN=${c.sessionToken}`,
      `# ${email} as ${permissionSet} in ${accountId}, valid until ${new Date(c.expiration ?? 0).toISOString()}`,
    ].join('\n');
  } finally {
    portal.destroy();
  }
}

/** Who the environment's credentials act as, as GetCallerIdentity answers. */
export async function whoami(env: NodeJS.ProcessEnv = process.env): Promise<{ Account?: string; Arn?: string; UserId?: string }> {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = env;
  if (!accessKeyId || !secretAccessKey) throw new UsageError(`no AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the environment: set them with npm run -s session first\n${USAGE}`);
  const sts = new STSClient({ endpoint: edgeUrl(env), region: LOCAL_REGION, maxAttempts: 1, credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } });
  try {
    const { Account, Arn, UserId } = await sts.send(new GetCallerIdentityCommand({}));
    return { Account, Arn, UserId };
  } finally {
    sts.destroy();
  }
}

if (process.argv[1]?.endsWith('local/session.ts')) {
  const args = process.argv.slice(2);
  const run = args[0] === 'whoami' && args.length === 1 ? whoami().then((identity) => JSON.stringify(identity, null, 2)) : session(args);
  run.then(
    (text) => process.stdout.write(`${text}\n`),
    (err: Error) => {
      process.stderr.write(`${err.name && err.name !== 'Error' && !(err instanceof UsageError) ? `${err.name}: ` : ''}${err.message}\n`);
      process.exitCode = err instanceof UsageError ? 2 : 1;
    },
  );
}
