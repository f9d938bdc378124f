/**
 * `npm start`: the whole system on this machine, no AWS account needed.
 *   npm start                 keep the state in .local-data/ across restarts
 *   npm start -- --fresh      start empty (grants, schedules and Identity Center state reset)
 *   npm start -- --packaged   run the packaged zips and template (`npm run package`) with IAM enforced
 *   PORT=3001 EDGE_PORT=4567 npm start
 */
import { startLocalCloud } from './cloud.ts';

const args = process.argv.slice(2);
const unknown = args.filter((a) => !['--fresh', '--quiet', '--packaged'].includes(a));
if (unknown.length) {
  console.error(`unknown option(s): ${unknown.join(' ')}\nusage: npm start [-- --fresh] [--quiet] [--packaged]`);
  process.exit(2);
}

const started = Date.now();
const cloud = await startLocalCloud({
  fresh: args.includes('--fresh'),
  ...(args.includes('--quiet') ? { log: false } : {}),
  ...(args.includes('--packaged') ? { packaged: true } : {}),
});
const users = cloud.idc.fixture.users;
const sample = cloud.idc.fixture.accounts.find((a) => a.tags.env === 'dev') ?? cloud.idc.fixture.accounts[0];
const requester = users.find((u) => u.userName === 'carol') ?? users[0];

console.log(`
Identity Center JIT — local cloud ready in ${((Date.now() - started) / 1000).toFixed(1)} s

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

Ctrl-C stops everything.
`);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the local cloud…`);
  await cloud.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
