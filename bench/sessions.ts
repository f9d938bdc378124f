/**
 * Access end lateness: how long after expiresAt a role session issued during the grant is
 * refused. With session revocation on (sessionRevocation=scp) the revoke workflow cuts it
 * through a service control policy; with it off the session lasts its SessionDuration, so
 * that figure is computed, not waited for.
 *
 * Whole local cloud with the SCP propagation delay at its default (a few seconds, as in AWS).
 * Each grant is a distinct (user, account, permission set): a session is taken from the access
 * portal (client-sso GetRoleCredentials) while it is ACTIVE, then STS GetCallerIdentity is
 * polled every POLL_MS from expiresAt until it answers AccessDenied.
 * Lateness = first refusal − expiresAt. Size: BENCH_SESSIONS (60 grants).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GetRoleCredentialsCommand, SSOClient } from '@aws-sdk/client-sso';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { sessionDurationMs } from '../lib/domain/session-cut.ts';
import { startLocalCloud } from '../local/cloud.ts';
import { fmt, machineLine, summarize, writeSection } from './report.ts';
import { accountId, ACCOUNTS, APPROVE_ACCOUNTS, EdgeCounter, getGrant, requestGrant, sleep, userName, writeBenchOrg, type Bench, type Combo } from './workflows.ts';

const GRANTS = Number(process.env.BENCH_SESSIONS ?? 60);
const START_PER_SECOND = 2;
/** Once a second: 60 sessions polled faster load the one-process local cloud enough to slow the revocations measured. */
const POLL_MS = 1000;
const RUN_LABEL = process.env.BENCH_RUN_LABEL;

async function until<T>(what: string, deadline: number, probe: () => Promise<T | undefined>, pollMs = 250): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within the deadline`);
    await sleep(pollMs);
  }
}

export async function runSessionsBench(): Promise<void> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'jit-bench-sessions-'));
  const cloud = await startLocalCloud({
    dataDir: false,
    port: 0,
    edgePort: 0,
    log: new EdgeCounter().log,
    orgFixture: writeBenchOrg(dir),
    policyFile: resolve(import.meta.dirname, 'policy.bench.yaml'),
    sessionRevocation: 'scp',
    functionEnv: { POWERTOOLS_LOG_LEVEL: process.env.BENCH_FUNCTION_LOG_LEVEL ?? 'SILENT' },
  });
  const tokens = new Map<string, string>();
  for (const u of cloud.idc.fixture.users) tokens.set(u.userName, await cloud.token(u.email));
  const b: Bench = { cloud, edge: new EdgeCounter(), tokens, grantMachineArn: cloud.stateMachineArns.GrantStateMachine!, revokeMachineArn: cloud.stateMachineArns.RevokeStateMachine! };
  const portal = new SSOClient({ endpoint: cloud.edgeUrl, region: 'us-east-1', maxAttempts: 1 });
  const autoAccounts = Array.from({ length: ACCOUNTS - APPROVE_ACCOUNTS }, (_, i) => i + APPROVE_ACCOUNTS);
  // A distinct user per grant, accounts varying fastest: a few cuts per account, as expiries spread over an organization.
  const items: Combo[] = Array.from({ length: GRANTS }, (_, i) => ({ user: userName(i), accountId: accountId(autoAccounts[i % autoAccounts.length]!), permissionSet: 'ReadOnlyAccess' }));
  const lateness: number[] = [];
  /** expiresAt → the 'sessions cut' history entry (the SCP written): the rest of the lateness is propagation and polling. */
  const cutWritten: number[] = [];
  const failures: string[] = [];
  const sessionDurations = new Set(cloud.idc.fixture.permissionSets.map((p) => p.sessionDuration));
  try {
    console.log(`[bench:sessions] ${GRANTS} grants of 20–30 s, a session taken during each, polled from expiresAt until refused`);
    await Promise.all(
      items.map(async (combo, i) => {
        await sleep((i * 1000) / START_PER_SECOND);
        try {
          const requested = await requestGrant(b, combo, `PT${20 + Math.floor(Math.random() * 11)}S`);
          const active = await until(
            `grant ${requested.id} ACTIVE`,
            Date.now() + 120_000,
            async () => {
              const g = await getGrant(b, requested.id, combo.user);
              if (g.status === 'FAILED') throw new Error(`grant ${g.id} FAILED: ${g.failureReason}`);
              return g.status === 'ACTIVE' ? g : undefined;
            },
            1000,
          );
          const creds = (await portal.send(new GetRoleCredentialsCommand({ accessToken: tokens.get(combo.user)!, accountId: combo.accountId, roleName: combo.permissionSet }))).roleCredentials!;
          const sts = new STSClient({
            endpoint: cloud.edgeUrl,
            region: 'us-east-1',
            maxAttempts: 1,
            credentials: { accessKeyId: creds.accessKeyId!, secretAccessKey: creds.secretAccessKey!, sessionToken: creds.sessionToken! },
          });
          try {
            await sts.send(new GetCallerIdentityCommand({}));
            const expiresAt = Date.parse(active.expiresAt!);
            await sleep(Math.max(0, expiresAt - Date.now()));
            const refusedAt = await until(
              `the session of grant ${active.id} refused`,
              expiresAt + 180_000,
              () =>
                sts.send(new GetCallerIdentityCommand({})).then(
                  () => undefined,
                  (err: Error) => {
                    if (err.name !== 'AccessDenied') throw err;
                    return Date.now();
                  },
                ),
              POLL_MS,
            );
            lateness.push(refusedAt - expiresAt);
            const cut = (await getGrant(b, active.id, combo.user)).history.find((h) => (h as { action?: string }).action === 'sessions cut');
            if (cut) cutWritten.push(Date.parse(cut.at) - expiresAt);
          } finally {
            sts.destroy();
          }
        } catch (e) {
          failures.push((e as Error).message);
        }
      }),
    );
  } finally {
    portal.destroy();
    await cloud.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const on = summarize(lateness);
  const cutAt = summarize(cutWritten);
  const offMs = Math.min(...[...sessionDurations].map((d) => sessionDurationMs(d)));
  writeSection(
    RUN_LABEL ? `sessions-${RUN_LABEL}` : 'sessions',
    [
      `## Access end lateness: an old session refused after expiry${RUN_LABEL ? ` (${RUN_LABEL})` : ''}`,
      '',
      machineLine(),
      '',
      `Whole local cloud, session revocation on (\`sessionRevocation: scp\`), SCP propagation delay at its default. ${GRANTS} grants of 20–30 s requested over HTTP at ${START_PER_SECOND}/s, each by a distinct user, spread over the accounts; a session taken from the access portal while ACTIVE; STS GetCallerIdentity polled every ${POLL_MS} ms from expiresAt. Lateness = first AccessDenied − expiresAt. With revocation off nothing refuses the session before it ends: the lateness is the permission set's SessionDuration (here ${[...sessionDurations].join(', ')}; 1 to 12 hours in AWS), computed. Whole run ${fmt((Date.now() - started) / 60_000, 1)} min.`,
      '',
      '| session revocation | sessions refused | lateness p50 | p99 | max | of which: SCP written − expiresAt, p50 / p99 |',
      '|---|---|---|---|---|---|',
      `| on (scp) | ${on.n} / ${GRANTS} | ${fmt(on.p50 / 1000, 1)} s | ${fmt(on.p99 / 1000, 1)} s | ${fmt(on.max / 1000, 1)} s | ${fmt(cutAt.p50 / 1000, 1)} / ${fmt(cutAt.p99 / 1000, 1)} s (${cutAt.n}) |`,
      `| off (SessionDuration, computed) | – | ${fmt(offMs / 1000, 0)} s | ${fmt(offMs / 1000, 0)} s | ${fmt(offMs / 1000, 0)} s | – |`,
      ...(failures.length ? ['', `Failures (${failures.length}):`, '', ...failures.slice(0, 10).map((f) => `- ${f}`)] : []),
    ].join('\n'),
  );
  console.log(`[bench:sessions] done: p50 ${fmt(on.p50 / 1000, 1)} s, p99 ${fmt(on.p99 / 1000, 1)} s over ${on.n}; ${failures.length} failure(s)`);
}
