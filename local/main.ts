/**
 * `npm start`: the whole system on this machine, no AWS account needed.
 *   npm start                 keep the state in .local-data/ across restarts
 *   npm start -- --fresh      start empty (grants, schedules and Identity Center state reset)
 *   npm start -- --packaged   run the packaged zips and template (`npm run package`) with IAM enforced
 *   PORT=3001 EDGE_PORT=4567 npm start
 *   LOCAL_SIGN_IN_TTL=2m npm start   tokens from the web portal's sign-in last 2 minutes (default 1 h)
 *
 * npm runs this as `exec node --import tsx local/main.ts`: one process, which the SIGTERM or
 * SIGINT npm forwards to its script reaches. Run as `tsx local/main.ts`, the signal went to
 * `sh -c` (dash does not exec the command) and died with it, so tsx never relayed it to
 * the Node process it runs, and both kept running with the ports held.
 */
import { startLocalCloud, type LocalCloud } from './cloud.ts';

/** Past this, stopping gives up and exits anyway: Ctrl-C must end the process promptly. */
const STOP_DEADLINE_MS = 10_000;

const args = process.argv.slice(2);
const unknown = args.filter((a) => !['--fresh', '--quiet', '--packaged'].includes(a));
if (unknown.length) {
  console.error(`unknown option(s): ${unknown.join(' ')}\nusage: npm start [-- --fresh] [--quiet] [--packaged]`);
  process.exit(2);
}

// Handlers first: a signal during start-up stops the cloud as soon as it is up.
let cloud: LocalCloud | undefined;
let signalled: NodeJS.Signals | undefined;
let signalledAt = 0;
const stop = async (signal: NodeJS.Signals) => {
  if (signalled) {
    // Ctrl-C reaches this process twice at once (from the terminal and forwarded by npm): only a later one means "now".
    if (Date.now() - signalledAt < 2000) return;
    console.error(`${signal} again: exiting without waiting`);
    process.exit(1);
  }
  signalled = signal;
  signalledAt = Date.now();
  if (!cloud) return;
  console.log(`\n${signal}: stopping the local cloud…`);
  setTimeout(() => {
    console.error(`the local cloud did not stop within ${STOP_DEADLINE_MS / 1000} s; exiting anyway`);
    process.exit(1);
  }, STOP_DEADLINE_MS).unref();
  try {
    await cloud.stop();
  } catch (err) {
    console.error(`stopping the local cloud failed: ${(err as Error).message}`);
    process.exit(1);
  }
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));

const started = Date.now();
cloud = await startLocalCloud({
  fresh: args.includes('--fresh'),
  ...(args.includes('--quiet') ? { log: false } : {}),
  ...(args.includes('--packaged') ? { packaged: true } : {}),
  portal: true,
  // The demo cuts the sessions of ended grants (README "Sessions after expiry"); LOCAL_SESSION_REVOCATION=off turns it off.
  sessionRevocation: process.env.LOCAL_SESSION_REVOCATION === 'off' ? 'off' : 'scp',
});
if (signalled) {
  const signal = signalled;
  signalled = undefined;
  await stop(signal);
}
const users = cloud.idc.fixture.users;
const sample = cloud.idc.fixture.accounts.find((a) => a.tags.env === 'dev') ?? cloud.idc.fixture.accounts[0];
const requester = users.find((u) => u.userName === 'carol') ?? users[0];

console.log(`
Identity Center JIT — local cloud ready in ${((Date.now() - started) / 1000).toFixed(1)} s

  Web portal      ${cloud.portal ? `${cloud.gatewayUrl}/              (sign in as any seeded user)` : '(not served: this checkout has no portal/build.ts)'}
  HTTP API        ${cloud.gatewayUrl}            (routes from ${cloud.packaged ? 'the packaged template' : 'serverless.yml'}, JWT checked)
  OpenAPI         ${cloud.gatewayUrl}/openapi.json
  AWS endpoint    ${cloud.edgeUrl}           (AWS_ENDPOINT_URL for the aws CLI / SDK)
  State           ${process.env.LOCAL_DATA_DIR ?? '.local-data/'}  (npm start -- --fresh to reset)
  Runs            ${cloud.packaged ? 'the packaged zips and template (.serverless/), IAM enforced' : 'the sources (npm start -- --packaged: what would deploy, IAM enforced)'}
  Policy          ${cloud.functionEnv.POLICY_PATH}

Seeded users (Identity Store of the demo org):
${users.map((u) => `  ${u.email.padEnd(22)} ${u.displayName ?? ''}`).join('\n')}

Try it (in another shell):
  TOKEN=$(npm run -s token -- ${requester?.email})
  curl -s -X POST ${cloud.gatewayUrl}/grants -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
    -d '{"target":{"type":"account","accountId":"${sample?.id}","permissionSet":"ReadOnlyAccess"},"duration":"PT15M","justification":"look at logs"}'
  curl -s ${cloud.gatewayUrl}/grants -H "authorization: Bearer $TOKEN"
  curl -s "${cloud.gatewayUrl}/access?account=${sample?.id}" -H "authorization: Bearer $(npm run -s token -- alice@example.com)"   # who holds what: jit vs permanent
  npm run access:report                                                                        # the same, and the standing-access summary

Ctrl-C stops everything.
`);

// The reconciler runs hourly; one pass now gives the access inventory something to show from the start.
cloud.invoke('reconcileAccess', {}).then(
  () => console.log('[start] reconcile pass done: GET /access answers from the inventory'),
  (err: unknown) => console.error(`[start] reconcile pass failed: ${(err as Error).message}`),
);
