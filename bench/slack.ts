/**
 * Slack ack time, warm, on the local cloud through the gateway — HTTP,
 * signature verification, the replay guard's conditional write, the caller's identity
 * (cached after warm-up), one service call — measured by the client from sending the signed
 * request to having read the answer. Every request is distinct (new timestamp, trigger id),
 * so the replay guard accepts each one. Target p99 ≤ 300 ms warm.
 *
 * Rows, each over BENCH_SLACK_CALLS (300) requests sent one at a time after 30 of warm-up:
 *  - `/jit request <account> AdministratorAccess PT1H …`: a new PENDING_APPROVAL grant (rule prod-admin, quorum 2);
 *  - Approve button, first of two approvals (dave): the approval write, the grant stays pending;
 *  - Approve button, second approval (alice): APPROVED and the grant workflow's StartExecution.
 * The workflows those approvals start, and the stream-fed notifier posting to the fake Slack,
 * run in the same process meanwhile, as background load.
 */
import { performance } from 'node:perf_hooks';
import { ACTION } from '../lib/slack/views.ts';
import { startLocalCloud, type LocalCloud } from '../local/cloud.ts';
import { buttonClick, interactionRequest, slashCommandRequest, type SignedSlackRequest } from '../local/slack/fake-slack.ts';
import { fmt, machineLine, summarize, verdict, writeSection } from './report.ts';

const CALLS = Number(process.env.BENCH_SLACK_CALLS ?? 300);
const WARM_UP = 30;
const TARGET_P99_MS = 300;
const ACCOUNTS = ['555555555555', '666666666666'];
/**
 * Requests are paced at this rate: each approval re-reads two users' group memberships from
 * Identity Center (eligibility at approval time), and the 20 TPS the whole system shares cannot
 * serve more than ~10 approvals a second. A back-to-back row shows what happens past that.
 */
const PACED_PER_SECOND = 5;

async function timedPost(cloud: LocalCloud, path: string, req: SignedSlackRequest): Promise<{ ms: number; status: number; text: string }> {
  const t = performance.now();
  const res = await fetch(`${cloud.gatewayUrl}${path}`, { method: 'POST', headers: req.headers, body: req.body });
  const text = await res.text();
  return { ms: performance.now() - t, status: res.status, text };
}

export async function runSlackBench(): Promise<void> {
  const cloud = await startLocalCloud({ dataDir: false, port: 0, edgePort: 0, log: false, functionEnv: { POWERTOOLS_LOG_LEVEL: 'SILENT' } });
  const slack = cloud.slack;
  if (!slack) throw new Error('the local cloud has no fake Slack (SLACK_* parameters missing from serverless.yml?)');
  const bob = slack.userIdOf('bob@example.com');
  const dave = slack.userIdOf('dave@example.com');
  const alice = slack.userIdOf('alice@example.com');
  const responseUrl = slack.api.newResponseUrl();

  const slash = async (i: number) => {
    const text = `request ${ACCOUNTS[Math.abs(i) % ACCOUNTS.length]} AdministratorAccess PT1H slack ack benchmark ${i}`;
    const r = await timedPost(cloud, '/slack/commands', slashCommandRequest(slack.signingSecret, { userId: bob, text }));
    const id = /`([0-9A-HJKMNP-TV-Z]{26})`/.exec(r.text)?.[1];
    if (r.status !== 200 || !id || !r.text.includes('Waiting for 2 approvals')) throw new Error(`/jit request answered ${r.status}: ${r.text.slice(0, 300)}`);
    return { ms: r.ms, id };
  };
  const approve = async (userId: string, grantId: string) => {
    const r = await timedPost(cloud, '/slack/interactions', interactionRequest(slack.signingSecret, buttonClick({ userId, actionId: ACTION.approve, value: grantId, responseUrl })));
    if (r.status !== 200) throw new Error(`Approve answered ${r.status}: ${r.text.slice(0, 300)}`);
    return r.ms;
  };

  const rows: { name: string; samples: number[]; idc: string }[] = [];
  /** Runs `fn` over items one at a time, starting one every 1/perSecond s (0: back to back). */
  const paced = async <T>(items: T[], perSecond: number, fn: (item: T, i: number) => Promise<void>) => {
    const t0 = performance.now();
    for (const [i, item] of items.entries()) {
      const due = t0 + (perSecond > 0 ? (i * 1000) / perSecond : 0);
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await fn(item, i);
    }
  };
  /** Identity Center calls made while `run` ran, by operation (the approvals re-read memberships). */
  const idcDuring = async <T>(run: () => Promise<T>): Promise<[T, string]> => {
    const before = cloud.idc.stats();
    const out = await run();
    const after = cloud.idc.stats();
    const ops = Object.entries(after.calls)
      .map(([op, n]) => [op, n - (before.calls[op] ?? 0)] as const)
      .filter(([, n]) => n > 0)
      .map(([op, n]) => `${op} ${fmt(n / CALLS, 2)}`);
    return [out, `${ops.join(', ') || 'none'}; ${after.throttled - before.throttled} throttled`];
  };
  let stress: (typeof rows)[number] | undefined;
  let refusals = 0;
  const wrongStatus: string[] = [];
  try {
    // Warm-up: handlers loaded, secrets, Slack user → Identity Store user, policy, clients.
    const warmIds: string[] = [];
    for (let i = 0; i < WARM_UP; i++) warmIds.push((await slash(-1 - i)).id);
    for (const id of warmIds) await approve(dave, id);
    for (const id of warmIds) await approve(alice, id);

    const ids: string[] = [];
    const slashMs: number[] = [];
    const [, slashIdc] = await idcDuring(() =>
      paced(Array.from({ length: CALLS }, (_, i) => i), PACED_PER_SECOND, async (i) => {
        const r = await slash(i);
        ids.push(r.id);
        slashMs.push(r.ms);
      }),
    );
    const firstMs: number[] = [];
    const [, firstIdc] = await idcDuring(() => paced(ids, PACED_PER_SECOND, async (id) => void firstMs.push(await approve(dave, id))));
    const secondMs: number[] = [];
    const [, secondIdc] = await idcDuring(() => paced(ids, PACED_PER_SECOND, async (id) => void secondMs.push(await approve(alice, id))));

    // Past the quota: first approvals back to back on a second batch of pending grants.
    const more: string[] = [];
    for (let i = 0; i < CALLS; i++) more.push((await slash(CALLS + i)).id);
    await new Promise((r) => setTimeout(r, 2000)); // let the throttle bucket refill
    const burstMs: number[] = [];
    const [, burstIdc] = await idcDuring(() => paced(more, 0, async (id) => void burstMs.push(await approve(dave, id))));
    rows.push(
      { name: `/slack/commands — \`/jit request …\` (new pending grant), ${PACED_PER_SECOND}/s`, samples: slashMs, idc: slashIdc },
      { name: `/slack/interactions — Approve, 1st of 2 (approval write), ${PACED_PER_SECOND}/s`, samples: firstMs, idc: firstIdc },
      { name: `/slack/interactions — Approve, 2nd of 2 (APPROVED + StartExecution), ${PACED_PER_SECOND}/s`, samples: secondMs, idc: secondIdc },
    );
    stress = { name: '/slack/interactions — Approve, 1st of 2, back to back', samples: burstMs, idc: burstIdc };

    // The acks are only worth timing if the work was done: every grant approved twice, none refused.
    refusals = slack.api.responseUrlPosts().length;
    const token = await cloud.token('bob@example.com');
    for (const id of ids) {
      const res = await fetch(`${cloud.gatewayUrl}/grants/${id}`, { headers: { authorization: `Bearer ${token}` } });
      const g = (await res.json()) as { status: string; approvals: unknown[] };
      if (g.status === 'PENDING_APPROVAL' || g.approvals.length !== 2) wrongStatus.push(`${id}: ${g.status}, ${g.approvals.length} approvals`);
    }
  } finally {
    await cloud.stop();
  }

  const lines = [
    '## Slack ack time',
    '',
    machineLine(),
    '',
    `Warm ack time on the local cloud through the gateway (HTTP → signature check → replay guard write in dynalite → caller identity → one service call → answer), measured by the client, ${CALLS} distinct signed requests per row sent one at a time, ${PACED_PER_SECOND} a second (each approval re-reads two users' group memberships from Identity Center, whose 20 TPS the whole system shares), after ${WARM_UP} of warm-up. The workflows started by the approvals and the stream-fed Slack notifier run in the same process meanwhile.`,
    '',
    `| endpoint and action | p50 ms | p99 ms | max ms | target p99 ≤ ${TARGET_P99_MS} ms |`,
    '|---|---|---|---|---|',
    ...rows.map((r) => {
      const s = summarize(r.samples);
      return `| ${r.name} | ${fmt(s.p50)} | ${fmt(s.p99)} | ${fmt(s.max)} | ${verdict(s.p99 <= TARGET_P99_MS)} |`;
    }),
    ...(stress
      ? [(() => {
          const st = summarize(stress.samples);
          const rate = stress.samples.length / (stress.samples.reduce((a, b) => a + b, 0) / 1000);
          return `| ${stress.name} (${fmt(rate, 0)}/s, beyond the quota; not the target) | ${fmt(st.p50)} | ${fmt(st.p99)} | ${fmt(st.max)} | (${verdict(st.p99 <= TARGET_P99_MS)}) |`;
        })()]
      : []),
    '',
    'Identity Center calls per request during each row (the workflows started by the 2nd approvals included), as the emulator counted them:',
    '',
    ...[...rows, ...(stress ? [stress] : [])].map((r) => `- ${r.name}: ${r.idc}`),
    '',
    `Checked after the run: ${CALLS - wrongStatus.length}/${CALLS} grants approved twice; ${refusals} ephemeral refusals posted to response_url.`,
    ...(wrongStatus.length ? ['', ...wrongStatus.slice(0, 5).map((w) => `- not approved: ${w}`)] : []),
  ];
  writeSection('slack', lines.join('\n'));
  console.log(lines.join('\n'));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runSlackBench();
  process.exit(0);
}
