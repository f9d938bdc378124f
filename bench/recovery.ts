/**
 * How long access outlives its expiry when the normal revocation path breaks, on the whole
 * local cloud with the sweeper on its deployed rate (serverless.yml `sweepRate`) and defaults:
 *
 *  1. lost schedule: the grant's revocation schedule is deleted behind the system's back once
 *     the grant is ACTIVE, so only the sweeper can end it;
 *  2. dead revocation: the scheduled revoke runs, takes the grant to REVOKING, and its execution
 *     ends FAILED (its one DeleteAccountAssignment fails), leaving the access in place until the
 *     sweeper starts the revoke again.
 *
 * Recovery = the successful deletion of the assignment (the emulator's operation record) −
 * expiresAt. Target: p99 ≤ 90 s for each. Sizes: BENCH_RECOVERY (50 grants per case).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DeleteScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { executionNames, scheduleNames } from '../lib/adapters/workflows.ts';
import { startLocalCloud } from '../local/cloud.ts';
import type { FaultRule } from '../local/idc/knobs.ts';
import { fmt, machineLine, summarize, verdict, writeSection } from './report.ts';
import {
  ACCOUNTS,
  APPROVE_ACCOUNTS,
  combos,
  EdgeCounter,
  getGrant,
  operationIndex,
  requestGrant,
  sleep,
  succeededOp,
  take,
  writeBenchOrg,
  type Bench,
  type Combo,
  type GrantView,
} from './workflows.ts';

const PER_CASE = Number(process.env.BENCH_RECOVERY ?? 50);
const START_PER_SECOND = 5;
const TARGET_MS = 90_000;

type Case = 'lost schedule' | 'dead revocation';

async function until<T>(what: string, deadline: number, probe: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within the deadline`);
    await sleep(500);
  }
}

export async function runRecoveryBench(): Promise<void> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'jit-bench-recovery-'));
  const edge = new EdgeCounter();
  const cloud = await startLocalCloud({
    dataDir: false,
    port: 0,
    edgePort: 0,
    log: edge.log,
    orgFixture: writeBenchOrg(dir),
    policyFile: resolve(import.meta.dirname, 'policy.bench.yaml'),
    functionEnv: { POWERTOOLS_LOG_LEVEL: process.env.BENCH_FUNCTION_LOG_LEVEL ?? 'SILENT' },
  });
  const scheduler = new SchedulerClient({ endpoint: cloud.edgeUrl, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const group = cloud.functionEnv.SCHEDULE_GROUP ?? 'identity-center-jit-local';
  const tokens = new Map<string, string>();
  for (const u of cloud.idc.fixture.users) tokens.set(u.userName, await cloud.token(u.email));
  const b: Bench = {
    cloud,
    edge,
    tokens,
    grantMachineArn: cloud.stateMachineArns.GrantStateMachine!,
    revokeMachineArn: cloud.stateMachineArns.RevokeStateMachine!,
  };
  const autoAccounts = Array.from({ length: ACCOUNTS - APPROVE_ACCOUNTS }, (_, i) => i + APPROVE_ACCOUNTS);
  const items = take(combos(autoAccounts), PER_CASE * 2).map((c, i) => ({ combo: c, kind: (i % 2 === 0 ? 'lost schedule' : 'dead revocation') as Case }));
  const faults: FaultRule[] = [];
  const ended: { kind: Case; active: GrantView }[] = [];
  const failures: string[] = [];
  try {
    console.log(`[bench:recovery] ${PER_CASE} grants with a lost schedule and ${PER_CASE} whose revocation dies, 60–80 s each`);
    await Promise.all(
      items.map(async ({ combo, kind }, i) => {
        await sleep((i * 1000) / START_PER_SECOND);
        try {
          const requested = await requestGrant(b, combo, `PT${60 + Math.floor(Math.random() * 21)}S`);
          const active = await until(`grant ${requested.id} ACTIVE`, Date.now() + 120_000, async () => {
            const g = await getGrant(b, requested.id, combo.user);
            if (g.status === 'FAILED') throw new Error(`grant ${g.id} FAILED: ${g.failureReason}`);
            return g.status === 'ACTIVE' ? g : undefined;
          });
          if (kind === 'lost schedule') {
            // A grant shorter than the Scheduler's reach has its revoke started at activation, waiting
            // for expiresAt: that execution is its trigger, so it is the one lost.
            try {
              await scheduler.send(new DeleteScheduleCommand({ Name: scheduleNames.revocation(active.id), GroupName: group }));
            } catch (e) {
              if ((e as Error).name !== 'ResourceNotFoundException') throw e;
              const arn = `${b.revokeMachineArn.replace(':stateMachine:', ':execution:')}:${executionNames.revoke(active.id, active.expiresAt!)}`;
              cloud.stepFunctions.stopExecution(arn, 'Lost', 'the trigger of this revocation is lost');
            }
          } else {
            faults.push(deletionFailsOnce(active, combo));
            cloud.idc.setKnobs({ faults: [...faults] });
          }
          const done = await until(`grant ${active.id} EXPIRED`, Date.parse(active.expiresAt!) + 240_000, async () => {
            const g = await getGrant(b, active.id, combo.user);
            return g.status === 'EXPIRED' || g.status === 'REVOKED' || g.status === 'FAILED' ? g : undefined;
          });
          if (done.status !== 'EXPIRED') throw new Error(`grant ${done.id} ended ${done.status}`);
          ended.push({ kind, active });
        } catch (e) {
          failures.push(`${kind}: ${(e as Error).message}`);
        }
      }),
    );
  } finally {
    scheduler.destroy();
    await cloud.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const ops = operationIndex(cloud.idc.operations());
  const executions = cloud.stepFunctions.listExecutionRecords(b.revokeMachineArn);
  const recovery: Record<Case, number[]> = { 'lost schedule': [], 'dead revocation': [] };
  const sweepStart: Record<Case, number[]> = { 'lost schedule': [], 'dead revocation': [] };
  for (const { kind, active } of ended) {
    const expiresAt = Date.parse(active.expiresAt!);
    const del = succeededOp(ops, 'DELETE', active);
    if (!del) failures.push(`${kind}: grant ${active.id} EXPIRED without a successful deletion`);
    else recovery[kind].push(del.completesAt - expiresAt);
    const swept = executions.filter((e) => e.name.startsWith(`revoke-${active.id}-sweep-`)).map((e) => e.startDate);
    if (swept.length) sweepStart[kind].push(Math.min(...swept) - expiresAt);
  }
  const rows = (Object.keys(recovery) as Case[]).map((kind) => {
    const s = summarize(recovery[kind]);
    return { kind, s, swept: summarize(sweepStart[kind]), ok: s.n === PER_CASE && s.p99 <= TARGET_MS };
  });
  writeSection(
    'recovery',
    [
      `## Backstops: access removed after a lost schedule or a dead revocation`,
      '',
      machineLine(),
      '',
      `Whole local cloud, the sweeper on its deployed rate (serverless.yml \`sweepRate\`, every minute) and default graces. ${PER_CASE} grants per case, 60–80 s long, requested over HTTP at ${START_PER_SECOND}/s; "lost schedule": the revocation schedule deleted once ACTIVE; "dead revocation": the scheduled revoke reaches REVOKING and its execution ends FAILED (its one DeleteAccountAssignment fails). Recovery = assignment deleted (emulator operation record) − expiresAt. Whole run ${fmt((Date.now() - started) / 60_000, 1)} min.`,
      '',
      '| case | grants | recovery p50 | p99 | max | target | … of which: the sweeper\'s revoke started − expiresAt, p50 / p99 |',
      '|---|---|---|---|---|---|---|',
      ...rows.map(
        ({ kind, s, swept, ok }) =>
          `| ${kind} | ${s.n} / ${PER_CASE} | ${fmt(s.p50 / 1000, 1)} s | ${fmt(s.p99 / 1000, 1)} s | ${fmt(s.max / 1000, 1)} s | p99 ≤ 90 s: ${verdict(ok)} | ${fmt(swept.p50 / 1000, 1)} / ${fmt(swept.p99 / 1000, 1)} s (${swept.n}) |`,
      ),
      ...(failures.length ? ['', `Failures (${failures.length}):`, '', ...failures.slice(0, 10).map((f) => `- ${f}`)] : []),
    ].join('\n'),
  );
  console.log(`[bench:recovery] done: ${rows.map(({ kind, s }) => `${kind} p99 ${fmt(s.p99 / 1000, 1)} s`).join(', ')}; ${failures.length} failure(s)`);
}

/** The grant's first deletion ends FAILED; the next one (the sweeper's restart) succeeds. */
function deletionFailsOnce(grant: GrantView, combo: Combo): FaultRule {
  return {
    operations: ['DeleteAccountAssignment'],
    principalId: grant.principal.userId,
    accountId: combo.accountId,
    permissionSetArn: grant.target.permissionSetArn,
    times: 1,
    effect: { type: 'fail', reason: 'injected: the revocation dies' },
  };
}
