/**
 * The reconciler at enterprise scale, on the local cloud (dynalite, the Identity Center emulator
 * with its real 20 TPS bucket):
 *
 *  1. Full organisation (2,000 accounts; 50 permission sets, 8 provisioned to each account;
 *     5,000 users; 500 groups; 20,000 assignments) with drift planted at random places (ACTIVE
 *     grants whose assignment is gone): one full pass each way, per account and per principal,
 *     counting Identity Center calls. These passes run with the emulator's throttle off and no
 *     pacing, so they take minutes, not hours: the full-pass time at the default pace is
 *     computed from the calls (calls ÷ 5 per second, a quarter of the 20 TPS quota).
 *  2. A tenth of it (200 accounts, 500 users, 50 groups, 2,000 assignments) with the real
 *     quota on and the reconciler at its whole share (RECONCILE_QUOTA_SHARE=1, 20 calls/s):
 *     measured wall time of a full pass, `auto` strategy.
 *
 * Target: a full pass within 30 minutes at ≤ 25 % of the quota; every planted drift found in one pass.
 * BENCH_RUN_LABEL=run-2 writes the section as `reconcile-run-2`, beside the first run's.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ulid } from 'ulid';
import { Pacer } from '../lib/backstops/pacer.ts';
import { Reconciler, type ReconcileReport } from '../lib/backstops/reconciler.ts';
import { inventoryStore } from '../lib/composition/access.ts';
import { createReconciler } from '../lib/composition/backstops.ts';
import { createRuntime, type Runtime } from '../lib/composition/runtime.ts';
import { workflowDeps } from '../lib/composition/workflow.ts';
import { IdentityCenterInventory } from '../lib/adapters/access-inventory.ts';
import { IDENTITY_CENTER_TPS, loadBackstopEnv } from '../lib/config.ts';
import type { Grant } from '../lib/domain/grant.ts';
import type { BackstopLog, ReconcileStrategy } from '../lib/ports/index.ts';
import { startLocalCloud, type LocalCloud } from '../local/cloud.ts';
import { fmt, machineLine, verdict, writeSection } from './report.ts';

const DEFAULT_SHARE = loadBackstopEnv({}).RECONCILE_QUOTA_SHARE;
const DEFAULT_TPS = IDENTITY_CENTER_TPS * DEFAULT_SHARE;
const TARGET_MINUTES = 30;
const PLANTED = 25;
/** BENCH_RECONCILE_COMPARE=0 skips the full-size pass the other way (the slow one, per account: ~18,000 calls). */
const COMPARE = process.env.BENCH_RECONCILE_COMPARE !== '0';

interface OrgSize {
  accounts: number;
  permissionSets: number;
  provisionedPerAccount: number;
  users: number;
  groups: number;
  assignments: number;
}

const FULL: OrgSize = { accounts: 2000, permissionSets: 50, provisionedPerAccount: 8, users: 5000, groups: 500, assignments: 20_000 };
const TENTH: OrgSize = { accounts: 200, permissionSets: 50, provisionedPerAccount: 8, users: 500, groups: 50, assignments: 2000 };

/** A small deterministic generator, so both runs plant the same organisation. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const accountId = (i: number) => String(200_000_000_000 + i);
const psName = (i: number) => `Set${String(i).padStart(2, '0')}`;
/** The permission sets provisioned to account `a`: 8 consecutive of the 50, shifted per account. */
const provisionedSets = (size: OrgSize, a: number) => Array.from({ length: size.provisionedPerAccount }, (_, k) => psName((a * 7 + k) % size.permissionSets));

function writeOrg(dir: string, size: OrgSize, rnd: () => number): { fixture: string; policy: string } {
  const accounts = [{ id: '111111111111', name: 'management', parent: 'root', tags: { env: 'management' } }];
  for (let a = 0; a < size.accounts; a++) accounts.push({ id: accountId(a), name: `acct-${a}`, parent: 'root', tags: { env: 'scale' } });
  const users = Array.from({ length: size.users }, (_, i) => ({ userName: `u${i}`, email: `u${i}@example.com` }));
  const groups = Array.from({ length: size.groups }, (_, i) => ({ displayName: `g${i}`, members: [] as string[] }));
  groups[0]!.members = ['u0'];
  const assignments: { principal: { user: string } | { group: string }; account: string; permissionSet: string }[] = [];
  const taken = new Set<string>();
  // One assignment on every provisioned pair first (so each is provisioned), then random ones; a fifth go to groups.
  for (let i = 0; assignments.length < size.assignments; i++) {
    const a = i < size.accounts * size.provisionedPerAccount ? Math.floor(i / size.provisionedPerAccount) : Math.floor(rnd() * size.accounts);
    const sets = provisionedSets(size, a);
    const ps = i < size.accounts * size.provisionedPerAccount ? sets[i % size.provisionedPerAccount]! : sets[Math.floor(rnd() * sets.length)]!;
    const principal = rnd() < 0.2 ? { group: `g${Math.floor(rnd() * size.groups)}` } : { user: `u${Math.floor(rnd() * size.users)}` };
    const key = `${JSON.stringify(principal)}|${a}|${ps}`;
    if (taken.has(key)) continue;
    taken.add(key);
    assignments.push({ principal, account: accountId(a), permissionSet: ps });
  }
  const fixture = {
    instance: { arn: 'arn:aws:sso:::instance/ssoins-5ca1e0000000beef', identityStoreId: 'd-5ca1e00000', name: 'scale' },
    organization: { id: 'o-5ca1e0rg123', rootId: 'r-5ca1', managementAccountId: '111111111111' },
    accounts,
    permissionSets: Array.from({ length: size.permissionSets }, (_, i) => ({ name: psName(i), sessionDuration: 'PT1H' })),
    users,
    groups,
    assignments,
  };
  const fixtureFile = join(dir, `org.scale-${size.accounts}.json`);
  writeFileSync(fixtureFile, JSON.stringify(fixture));
  const policyFile = join(dir, `policy.scale-${size.accounts}.yaml`);
  writeFileSync(
    policyFile,
    `version: 1
admins: { groups: [g0] }
rules:
  - id: scale
    requesters: { groups: [g0] }
    targets:
      accounts: { tags: { env: scale } }
      permissionSets: [${Array.from({ length: size.permissionSets }, (_, i) => psName(i)).join(', ')}]
    approval: { autoApprove: true }
`,
  );
  return { fixture: fixtureFile, policy: policyFile };
}

/** The Identity Center calls a pass makes (the directory's lookups for the policy's scope are cached and few). */
const PASS_OPERATIONS = ['ListUsers', 'ListGroups', 'ListAccountAssignmentsForPrincipal', 'ListPermissionSetsProvisionedToAccount', 'ListAccountAssignments', 'DescribeGroup', 'ListGroupMemberships'];

const quiet: BackstopLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** ACTIVE grants (in the table) on pairs where the user has no assignment: drift a pass must find. */
async function plantDrift(runtime: Runtime, cloud: LocalCloud, size: OrgSize, rnd: () => number): Promise<Set<string>> {
  const ids = new Set<string>();
  const existing = new Set(cloud.idc.assignments().map((a) => `${a.principalId}|${a.accountId}|${a.permissionSetArn}`));
  while (ids.size < PLANTED) {
    const a = Math.floor(rnd() * size.accounts);
    const sets = provisionedSets(size, a);
    const permissionSet = sets[Math.floor(rnd() * sets.length)]!;
    const userName = `u${1 + Math.floor(rnd() * (size.users - 1))}`;
    const userId = cloud.idc.userId(userName);
    const permissionSetArn = cloud.idc.permissionSetArn(permissionSet);
    if (existing.has(`${userId}|${accountId(a)}|${permissionSetArn}`)) continue;
    const now = new Date().toISOString();
    const grant: Grant = {
      id: ulid(),
      principal: { userId, userName, email: `${userName}@example.com` },
      target: { type: 'account', accountId: accountId(a), accountName: `acct-${a}`, permissionSet, permissionSetArn },
      justification: 'planted drift',
      ruleId: 'scale',
      requestedAt: now,
      duration: 'PT8H',
      expiresAt: new Date(Date.now() + 8 * 3600_000).toISOString(),
      quorum: 0,
      approvals: [],
      status: 'ACTIVE',
      history: [{ at: now, actor: { id: 'bench', name: 'bench' }, action: 'planted', from: null, to: 'ACTIVE' }],
      version: 1,
    };
    await runtime.store.create(grant);
    ids.add(grant.id);
  }
  return ids;
}

interface PassFigures {
  strategy: ReconcileStrategy;
  calls: number;
  byOperation: Record<string, number>;
  wallMs: number;
  found: number;
  unmanaged: number;
  report: ReconcileReport;
}

async function fullPass(cloud: LocalCloud, runtime: Runtime, strategy: ReconcileStrategy | 'auto', pacer: Pacer | undefined, planted: Set<string>): Promise<PassFigures> {
  const before = cloud.idc.stats().calls;
  const started = Date.now();
  const reconciler = pacer
    ? new Reconciler(
        { workflow: workflowDeps(runtime), inventory: new IdentityCenterInventory(runtime.identityCenter), passes: inventoryStore(runtime), directory: runtime.directory, policy: runtime.policy.document, delegatedAdmin: false, pacer, log: quiet },
        { strategy },
      )
    : createReconciler(runtime, { env: { ...loadBackstopEnv({}), RECONCILE_QUOTA_SHARE: 1 }, log: quiet, strategy });
  const report = await reconciler.run();
  const wallMs = Date.now() - started;
  if (!report.complete) throw new Error('the pass did not complete in one run');
  const after = cloud.idc.stats().calls;
  const byOperation: Record<string, number> = {};
  for (const op of PASS_OPERATIONS) if ((after[op] ?? 0) - (before[op] ?? 0) > 0) byOperation[op] = (after[op] ?? 0) - (before[op] ?? 0);
  const found = report.items.filter((i) => i.kind === 'active-access-missing' && i.grantIds?.some((id) => planted.has(id))).length;
  return { strategy: report.pass.strategy, calls: report.pass.calls, byOperation, wallMs, found, unmanaged: report.counts.unmanaged, report };
}

async function withCloud<T>(size: OrgSize, throttle: boolean, body: (cloud: LocalCloud, runtime: Runtime) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'jit-bench-reconcile-'));
  const { fixture, policy } = writeOrg(dir, size, random(42));
  const cloud = await startLocalCloud({
    dataDir: false,
    port: 0,
    edgePort: 0,
    log: false,
    orgFixture: fixture,
    policyFile: policy,
    scheduledFunctions: false,
    idcKnobs: { provisioningDelayMs: { minMs: 0, maxMs: 0 }, ...(throttle ? {} : { throttleTps: 0 }) },
    functionEnv: { POWERTOOLS_LOG_LEVEL: 'SILENT' },
  });
  try {
    return await body(cloud, createRuntime(process.env));
  } finally {
    await cloud.stop();
  }
}

const minutes = (calls: number, tps: number) => calls / tps / 60;

export async function runReconcileBench(): Promise<void> {
  const started = Date.now();
  console.log('[reconcile] full organisation: one pass each way (auto first), calls counted');
  const full = await withCloud(FULL, false, async (cloud, runtime) => {
    const planted = await plantDrift(runtime, cloud, FULL, random(7));
    const unpaced = () => new Pacer(1_000_000);
    // auto first (its choice is the figure that counts), then the other way, forced, for comparison.
    const auto = await fullPass(cloud, runtime, 'auto', unpaced(), planted);
    console.log(`[reconcile] auto (${auto.strategy}): ${auto.calls} calls, ${auto.found}/${planted.size} drift found`);
    const other = COMPARE ? await fullPass(cloud, runtime, auto.strategy === 'per-principal' ? 'per-account' : 'per-principal', unpaced(), planted) : undefined;
    if (other) console.log(`[reconcile] ${other.strategy}: ${other.calls} calls, ${other.found}/${planted.size} drift found`);
    const [perAccount, perPrincipal] = auto.strategy === 'per-account' ? [auto, other] : [other, auto];
    return { perAccount, perPrincipal, auto, planted: planted.size, userAssignments: cloud.idc.assignments().filter((a) => a.principalType === 'USER').length };
  });
  console.log('[reconcile] a tenth of it, real quota, whole share');
  const tenth = await withCloud(TENTH, true, async (cloud, runtime) => {
    const planted = await plantDrift(runtime, cloud, TENTH, random(11));
    const throttledBefore = cloud.idc.stats().throttled;
    const pass = await fullPass(cloud, runtime, 'auto', undefined, planted);
    return { pass, planted: planted.size, throttled: cloud.idc.stats().throttled - throttledBefore };
  });

  const chosen = full.auto;
  const chosenMinutes = minutes(chosen.calls, DEFAULT_TPS);
  const row = (f: PassFigures | undefined, strategy: ReconcileStrategy) =>
    !f ? `| ${strategy} | not run (BENCH_RECONCILE_COMPARE=0) | | | |` :
    `| ${f.strategy} | ${f.calls.toLocaleString('en')} | ${Object.entries(f.byOperation).map(([op, n]) => `${op} ${n.toLocaleString('en')}`).join(', ')} | ${fmt(minutes(f.calls, DEFAULT_TPS))} min | ${f.found}/${full.planted} |`;
  const md = `## reconcile

${machineLine()}; bench/reconcile.ts. Organisation: ${FULL.accounts.toLocaleString('en')} accounts, ${FULL.permissionSets} permission sets (${FULL.provisionedPerAccount} provisioned to each account: ${(FULL.accounts * FULL.provisionedPerAccount).toLocaleString('en')} pairs), ${FULL.users.toLocaleString('en')} users, ${FULL.groups} groups, ${FULL.assignments.toLocaleString('en')} assignments; the policy covers every account × permission set (${(FULL.accounts * FULL.permissionSets).toLocaleString('en')} pairs). ${full.planted} ACTIVE grants planted at random places with their assignment missing.

Full pass, Identity Center calls counted (emulator throttle off, no pacing); time at the default pace computed as calls ÷ ${DEFAULT_TPS} per second (RECONCILE_QUOTA_SHARE ${DEFAULT_SHARE} of ${IDENTITY_CENTER_TPS} TPS):

| strategy | calls per full pass | by operation | full pass at ${DEFAULT_TPS} calls/s | planted drift found in the pass |
|---|---|---|---|---|
${row(full.perAccount, 'per-account')}
${row(full.perPrincipal, 'per-principal')}

\`auto\` chose **${full.auto.strategy}** (estimate: per account ≤ ${full.auto.report.pass.estimate?.perAccount.toLocaleString('en')} calls, per principal ${full.auto.report.pass.estimate?.perPrincipal?.toLocaleString('en')}). Its pass: ${full.auto.calls.toLocaleString('en')} calls, ${full.auto.found}/${full.planted} planted drift found; every user assignment in scope reported (${full.auto.unmanaged.toLocaleString('en')} unmanaged of ${full.userAssignments.toLocaleString('en')}).
Target: full pass ≤ ${TARGET_MINUTES} min at ≤ 25 % of the quota: ${fmt(chosenMinutes)} min at ${DEFAULT_TPS} calls/s (${fmt((DEFAULT_SHARE) * 100, 0)} %) — ${verdict(chosenMinutes <= TARGET_MINUTES && DEFAULT_SHARE <= 0.25 && full.auto.found === full.planted)}.${full.perAccount && full.auto.strategy !== 'per-account' ? ` Per account (pruned to provisioned pairs) would take ${fmt(minutes(full.perAccount.calls, DEFAULT_TPS))} min.` : ''}

Scaled-down run, measured: ${TENTH.accounts} accounts, ${TENTH.users} users, ${TENTH.groups} groups, ${TENTH.assignments.toLocaleString('en')} assignments, real 20 TPS quota on, reconciler at its whole share (20 calls/s), \`auto\` (${tenth.pass.strategy}): ${tenth.pass.calls.toLocaleString('en')} calls in ${fmt(tenth.pass.wallMs / 1000)} s wall (${fmt(tenth.pass.calls / (tenth.pass.wallMs / 1000))} calls/s; calls ÷ 20 = ${fmt(tenth.pass.calls / 20)} s), throttled ${tenth.throttled}, planted drift found ${tenth.pass.found}/${tenth.planted}.

Bench wall time ${fmt((Date.now() - started) / 60_000)} min.
`;
  // BENCH_RUN_LABEL=run-2 keeps a second run's section beside the first.
  const label = process.env.BENCH_RUN_LABEL;
  writeSection(label ? `reconcile-${label}` : 'reconcile', label ? md.replace('## reconcile', `## reconcile (${label})`) : md);
  console.log(md);
}

if (import.meta.url === `file://${process.argv[1]}`) await runReconcileBench();
