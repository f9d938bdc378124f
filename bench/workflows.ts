/**
 * Grant and revoke workflow figures, in one run on the whole local cloud (gateway with real JWTs, dynalite,
 * the statemachines/ files on local Step Functions, the local Scheduler with its default
 * 0–59 s firing delay, the Identity Center emulator with its real quotas: 20 TPS collective
 * throttle, 10 outstanding async operations, 300–1500 ms provisioning delay):
 *
 *  1. approval → ACTIVE minus the emulator's provisioning delay of that grant's create (target p95 ≤ 1.5 s);
 *  2. revocation lateness: assignment deleted (emulator operation record) − expiresAt, through the
 *     Scheduler path (schedule at expiresAt − 65 s, fired 0–59 s late, Wait to the exact second) (target p99 ≤ 3 s),
 *     on its own and while a storm of other grants is being activated;
 *  3. storms of several sizes under the quotas: failures (target 0), wall time against the quota bound
 *     (target ≤ 1.15×), and per grant: state transitions, Lambda invocations and DynamoDB requests on the
 *     slot items (which should not grow with the storm's size);
 *  4. a storm with faults: Identity Center errors and DynamoDB slot writes that time out (target 0 failures);
 *  5. state transitions and Lambda invocations per lifecycle, from the histories (target ≤ 30 and ≤ 3).
 *
 * The requests go through the HTTP API as a user's would. The org is generated (requesters × 20 accounts ×
 * 3 permission sets, with as many requesters as the run needs) so every grant is a distinct assignment that
 * Identity Center must really create. Sizes: BENCH_ACTIVATIONS (100), BENCH_EXPIRIES (150), BENCH_STORMS
 * (1000,5000), BENCH_FAULT_STORM (1000), BENCH_FAULT_RATE (0.05), BENCH_LATENESS_STORM (500). BENCH_RUN_LABEL
 * names the run in its section id, so several runs' sections stay side by side. BENCH_FUNCTION_LOG_LEVEL=ERROR
 * prints the functions' error logs (what a 5xx answer was).
 *
 * The functions run from the sources inside the local cloud's process; BENCH_PACKAGED=1 runs them as
 * deployed instead: the zips `sls package` builds, each in a container process of its own, under the
 * template's IAM roles (the local cloud's packaged mode).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { executionNames, REVOCATION_LEAD_MS, revocationFireAt } from '../lib/adapters/workflows.ts';
import { PROMPT_DELETE_MS } from '../lib/workflow/revocation.ts';
import { startLocalCloud, type LocalCloud } from '../local/cloud.ts';
import type { IdcStats, OperationView } from '../local/idc/index.ts';
import type { ExecutionRecord } from '../local/stepfunctions/service.ts';
import { errorLines, executionCost, profileTable, SLOT_PREFIX, slotHoldMs, slotsInUseByTenth, SlotRequestCounter, type LeaseTryMoment, type SlotRequestCounts } from './histories.ts';
import { fmt, machineLine, summarize, verdict, writeSection } from './report.ts';

const ACTIVATIONS = Number(process.env.BENCH_ACTIVATIONS ?? 100);
const ACTIVATION_CONCURRENCY = Number(process.env.BENCH_ACTIVATION_CONCURRENCY ?? 4);
const EXPIRIES = Number(process.env.BENCH_EXPIRIES ?? 150);
/** Expiry grants are requested at this rate, so their expiries (and deletions) spread like real traffic. */
const EXPIRY_START_PER_SECOND = 5;
const STORMS = (process.env.BENCH_STORMS ?? '1000,5000').split(',').map(Number);
const FAULT_STORM = Number(process.env.BENCH_FAULT_STORM ?? 1000);
const FAULT_RATE = Number(process.env.BENCH_FAULT_RATE ?? 0.05);
const LATENESS_STORM = Number(process.env.BENCH_LATENESS_STORM ?? 500);
const RUN_LABEL = process.env.BENCH_RUN_LABEL;
const STORM_HTTP_CONCURRENCY = 25;
/** Expiry grants last 70–90 s: the storm of the lateness-under-load phase starts when the first fall due. */
const FIRST_EXPIRY_S = 70;
const WALL_TARGET = 1.15;
const PACKAGED = process.env.BENCH_PACKAGED === '1';

/** Requesters of the recovery bench's org and the least any run gets. */
const USERS = 60;
export const ACCOUNTS = 20;
export const APPROVE_ACCOUNTS = 5;
const PERMISSION_SETS = ['ReadOnlyAccess', 'PowerUserAccess', 'AdministratorAccess'];
/** Organizations calls are outside Identity Center's collective throttle. */
const ORGANIZATIONS_OPERATIONS = new Set([
  'DescribeOrganization', 'ListRoots', 'ListAccounts', 'DescribeAccount', 'ListAccountsForParent',
  'ListOrganizationalUnitsForParent', 'DescribeOrganizationalUnit', 'ListParents', 'ListChildren', 'ListTagsForResource',
]);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const userName = (i: number) => `u${String(i + 1).padStart(2, '0')}`;
export const accountId = (i: number) => `70000000${String(i + 1).padStart(4, '0')}`;

/** The bench org: requesters u01..u<users>, one approver, 5 accounts needing approval and 15 auto-approved. */
export function writeBenchOrg(dir: string, users = USERS): string {
  const accounts: { id: string; name: string; email: string; parent: string; tags: Record<string, string> }[] = [
    { id: '111111111111', name: 'management', email: 'aws-management@example.com', parent: 'root', tags: { env: 'management' } },
  ];
  for (let i = 0; i < ACCOUNTS; i++) {
    accounts.push({ id: accountId(i), name: `bench-${i + 1}`, email: `bench-${i + 1}@example.com`, parent: 'root', tags: { env: 'bench', flow: i < APPROVE_ACCOUNTS ? 'approve' : 'auto' } });
  }
  const requesters = Array.from({ length: users }, (_, i) => ({ userName: userName(i), email: `${userName(i)}@example.com`, displayName: `Bench ${userName(i)}` }));
  const fixture = {
    instance: { arn: 'arn:aws:sso:::instance/ssoins-7223d1e2f3a4b5c6', identityStoreId: 'd-9067c0ffee', name: 'bench' },
    organization: { id: 'o-bench0rg123', rootId: 'r-b3n0', managementAccountId: '111111111111' },
    accounts,
    permissionSets: PERMISSION_SETS.map((name) => ({ name, sessionDuration: 'PT1H' })),
    users: [...requesters, { userName: 'approver', email: 'approver@example.com', displayName: 'Bench Approver' }],
    groups: [
      { displayName: 'BenchRequesters', members: requesters.map((u) => u.userName) },
      { displayName: 'BenchApprovers', members: ['approver'] },
    ],
  };
  const file = join(dir, 'org.bench.json'); // JSON is YAML: the fixture loader reads it as is
  writeFileSync(file, JSON.stringify(fixture, null, 2));
  return file;
}

export interface Combo {
  user: string;
  accountId: string;
  permissionSet: string;
}

/** Distinct (user, account, permission set) triples; users vary fastest so load spreads across users. */
export function* combos(accountIndexes: number[], users = USERS): Generator<Combo> {
  for (const permissionSet of PERMISSION_SETS) {
    for (const a of accountIndexes) for (let u = 0; u < users; u++) yield { user: userName(u), accountId: accountId(a), permissionSet };
  }
}

export function take<T>(gen: Generator<T>, n: number): T[] {
  const out: T[] = [];
  for (let i = 0; i < n; i++) {
    const next = gen.next();
    if (next.done) throw new Error(`the bench org has only ${i} distinct assignments for this phase, ${n} needed`);
    out.push(next.value);
  }
  return out;
}

async function pool<T, R>(items: T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i] as T, i);
      }
    }),
  );
  return results;
}

export interface GrantView {
  id: string;
  status: string;
  principal: { userId: string };
  target: { accountId: string; permissionSetArn: string };
  activatedAt?: string;
  expiresAt?: string;
  endedAt?: string;
  failureReason?: string;
  history: { at: string; to: string }[];
}

export interface Bench {
  cloud: LocalCloud;
  edge: EdgeCounter;
  tokens: Map<string, string>;
  grantMachineArn: string;
  revokeMachineArn: string;
}

export async function call(b: Bench, method: string, path: string, as: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${b.cloud.gatewayUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${b.tokens.get(as)}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** 5xx answers seen by requestGrant's client-side retries, per phase. */
export interface RequestCounters {
  serverErrors: number;
  retriedOk: number;
  /** What the 5xx answers said (status + problem detail), counted. */
  answers?: Map<string, number>;
}

/**
 * POST /grants as a careful client does: an Idempotency-Key, and a retry with backoff on a 5xx
 * (the problem document says the request is safe to retry). Every 5xx is counted.
 */
export async function requestGrant(b: Bench, c: Combo, duration: string, counters?: RequestCounters): Promise<GrantView> {
  const key = randomUUID();
  for (let attempt = 0; ; attempt++) {
    const res = await call(
      b,
      'POST',
      '/grants',
      c.user,
      { target: { type: 'account', accountId: c.accountId, permissionSet: c.permissionSet }, duration, justification: 'benchmark' },
      { 'idempotency-key': key },
    );
    if (res.status === 201 || res.status === 200) {
      if (attempt > 0 && counters) counters.retriedOk++;
      return res.body as GrantView;
    }
    if (res.status < 500 || attempt >= 5) throw new Error(`POST /grants answered ${res.status}: ${JSON.stringify(res.body)}`);
    if (counters) {
      counters.serverErrors++;
      const problem = res.body as { detail?: string; title?: string } | undefined;
      const what = `${res.status} ${problem?.detail ?? problem?.title ?? ''}`.trim();
      counters.answers ??= new Map();
      counters.answers.set(what, (counters.answers.get(what) ?? 0) + 1);
    }
    await sleep(Math.random() * 1000 * 2 ** attempt);
  }
}

export async function getGrant(b: Bench, id: string, as: string): Promise<GrantView> {
  const res = await call(b, 'GET', `/grants/${id}`, as);
  if (res.status !== 200) throw new Error(`GET /grants/${id} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body as GrantView;
}

/** The grant once its storm is over, for the tally: a busy answer (5xx) is asked again, not counted against the grant. */
async function settledGrant(b: Bench, id: string, as: string): Promise<GrantView> {
  for (let attempt = 0; ; attempt++) {
    const res = await call(b, 'GET', `/grants/${id}`, as);
    if (res.status === 200) return res.body as GrantView;
    if (res.status < 500 || attempt >= 5) throw new Error(`GET /grants/${id} answered ${res.status}: ${JSON.stringify(res.body)}`);
    await sleep(1000 * 2 ** attempt);
  }
}

const executionArn = (machineArn: string, name: string) => `${machineArn.replace(':stateMachine:', ':execution:')}:${name}`;

/** A grant's status and each of its executions with the state it is in (or how it ended): what a failure line shows. */
async function whereItStands(b: Bench, grantId: string, user: string): Promise<string> {
  const status = await getGrant(b, grantId, user).then(
    (g) => g.status,
    (e: unknown) => `unread: ${(e as Error).message}`,
  );
  const executions = b.cloud.stepFunctions
    .listExecutionRecords()
    .filter((r) => r.name.includes(grantId))
    .map((r) => {
      const entered = r.history.filter((h) => h.type.endsWith('StateEntered')).at(-1)?.details?.value.name;
      return `${r.name} ${r.status}${r.status === 'RUNNING' ? ` in ${String(entered)}` : r.error ? ` ${r.error}` : ''}`;
    });
  return `grant ${status}; executions: ${executions.join(', ') || 'none'}`;
}

/** The closed execution, once it exists and has ended; undefined past the deadline. */
async function closedExecution(b: Bench, arn: string, deadline: number, pollMs = 100): Promise<ExecutionRecord | undefined> {
  for (;;) {
    let waiting: Promise<ExecutionRecord> | undefined;
    try {
      waiting = b.cloud.stepFunctions.waitForExecution(arn);
      await waiting;
    } catch {
      waiting = undefined; // not started yet
    }
    if (waiting) {
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      return Promise.race([waiting, sleep(left).then(() => undefined)]);
    }
    if (Date.now() > deadline) return undefined;
    await sleep(pollMs);
  }
}

export function operationIndex(ops: OperationView[]): Map<string, OperationView[]> {
  const index = new Map<string, OperationView[]>();
  for (const op of ops) {
    const key = `${op.kind}|${op.principalId}|${op.accountId}|${op.permissionSetArn}`;
    index.set(key, [...(index.get(key) ?? []), op]);
  }
  return index;
}

const opKey = (kind: 'CREATE' | 'DELETE', g: GrantView) => `${kind}|${g.principal.userId}|${g.target.accountId}|${g.target.permissionSetArn}`;

/** The latest SUCCEEDED operation of this kind on the grant's assignment. */
export function succeededOp(index: Map<string, OperationView[]>, kind: 'CREATE' | 'DELETE', g: GrantView): OperationView | undefined {
  return (index.get(opKey(kind, g)) ?? []).filter((o) => o.status === 'SUCCEEDED').at(-1);
}

// ---- AWS requests at the edge, from the local cloud's log lines ---------------------------

/** Requests and summed latency per `service operation`, parsed from the edge's `[aws] <service> <op> <status> <ms>ms` lines. */
export class EdgeCounter {
  readonly counts = new Map<string, { n: number; ms: number }>();
  readonly log = (line: string) => {
    // A schedule whose delivery failed or was lost is a revocation that starts late: say why.
    if (line.startsWith('[scheduler]') && /fail|LOST|dead-letter/i.test(line)) console.error(line);
    const m = /^\[aws\] (\S+) (\S+) \d+.* (\d+)ms$/.exec(line);
    if (!m) return;
    const key = `${m[1]} ${m[2]}`;
    const c = this.counts.get(key) ?? { n: 0, ms: 0 };
    c.n++;
    c.ms += Number(m[3]);
    this.counts.set(key, c);
  };
  snapshot(): Map<string, { n: number; ms: number }> {
    return new Map([...this.counts].map(([k, v]) => [k, { ...v }]));
  }
  /** The busiest operations since `before`, as "op n (rate/s, mean ms)". */
  since(before: Map<string, { n: number; ms: number }>, seconds: number, prefix: string, top = 6): string[] {
    return [...this.counts]
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => ({ k, n: v.n - (before.get(k)?.n ?? 0), ms: v.ms - (before.get(k)?.ms ?? 0) }))
      .filter((x) => x.n > 0)
      .sort((a, b) => b.n - a.n)
      .slice(0, top)
      .map((x) => `${x.k.slice(prefix.length)} ${x.n} (${fmt(x.n / seconds, 0)}/s, mean ${fmt(x.ms / x.n, 0)} ms)`);
  }
}

// ---- phases ---------------------------------------------------------------------------

interface ActivationSample {
  approvalToActiveMs: number;
  provisioningMs: number;
  overheadMs: number;
}

async function activationPhase(b: Bench, items: Combo[]): Promise<{ samples: ActivationSample[]; failures: string[]; records: ExecutionRecord[] }> {
  const failures: string[] = [];
  const done: { grant: GrantView; record: ExecutionRecord }[] = [];
  await pool(items, ACTIVATION_CONCURRENCY, async (c) => {
    try {
      const pending = await requestGrant(b, c, 'PT1H');
      if (pending.status !== 'PENDING_APPROVAL') throw new Error(`expected PENDING_APPROVAL, got ${pending.status}`);
      const approved = await call(b, 'POST', `/grants/${pending.id}/approve`, 'approver', {});
      if (approved.status !== 200) throw new Error(`approve answered ${approved.status}: ${JSON.stringify(approved.body)}`);
      const record = await closedExecution(b, executionArn(b.grantMachineArn, executionNames.grant(pending.id)), Date.now() + 120_000, 20);
      if (!record) throw new Error(`grant ${pending.id}: execution did not end within 120 s`);
      const grant = await getGrant(b, pending.id, c.user);
      if (grant.status !== 'ACTIVE') throw new Error(`grant ${grant.id} ended ${grant.status}: ${grant.failureReason ?? ''}`);
      done.push({ grant, record });
    } catch (e) {
      failures.push((e as Error).message);
    }
  });
  const ops = operationIndex(b.cloud.idc.operations());
  const samples: ActivationSample[] = [];
  for (const { grant } of done) {
    const approvedAt = grant.history.find((h) => h.to === 'APPROVED')?.at;
    const create = succeededOp(ops, 'CREATE', grant);
    if (!approvedAt || !grant.activatedAt || !create) {
      failures.push(`grant ${grant.id}: no approval entry, activatedAt or create operation`);
      continue;
    }
    const approvalToActiveMs = Date.parse(grant.activatedAt) - Date.parse(approvedAt);
    const provisioningMs = create.completesAt - create.createdAt;
    samples.push({ approvalToActiveMs, provisioningMs, overheadMs: approvalToActiveMs - provisioningMs });
  }
  return { samples, failures, records: done.map((d) => d.record) };
}

interface ExpirySample {
  grantId: string;
  latenessMs: number;
  issueMs: number;
  deleteProvisioningMs: number;
  revokeStartBeforeExpiryMs: number;
  viaSchedule: boolean;
  /** The wait before BeginRevocation left − the instant it waits for (beginAt, or expiresAt without it) or the execution's start, whichever is later: the timer's own lateness. */
  waitLagMs: number;
  /** BeginRevocation entered − beginAt: the part of its lead it lost (a late start or a late timer). */
  beginLostLeadMs: number;
  /** BeginRevocation left − expiresAt: its work after the expiry (REVOKING, holder, slot or place in line; with a slot, starting the delete). */
  beginAfterMs: number;
  /** The delete went out from BeginRevocation itself (no DeleteAssignment state entered). */
  deletedByTask: boolean;
  /** Every slot was busy: WaitForDeleteSlot entered → left (woken with a slot). */
  slotWaitMs: number;
  /** Woken with a slot → the accepted delete's creation (the DeleteAssignment state, its throttled attempts retried). */
  afterWakeMs: number;
}

/** Timestamp of the first history event of `type` for state `name`. */
function stateEvent(record: ExecutionRecord, type: string, name: string): number | undefined {
  return record.history.find((e) => e.type === type && e.details?.value.name === name)?.timestamp;
}

async function expiryPhase(b: Bench, items: Combo[]): Promise<{ samples: ExpirySample[]; failures: string[]; wallMs: number; lifecycles: string[]; deleteAttempts: number }> {
  const failures: string[] = [];
  const deleteCalls = () => b.cloud.idc.stats().calls.DeleteAccountAssignment ?? 0;
  const deleteCallsBefore = deleteCalls();
  const ended: { grant: GrantView; active: GrantView; revoke: ExecutionRecord }[] = [];
  const t0 = Date.now();
  await Promise.all(
    items.map(async (c, i) => {
      await sleep((i * 1000) / EXPIRY_START_PER_SECOND);
      try {
        const seconds = 70 + Math.floor(Math.random() * 21);
        const requested = await requestGrant(b, c, `PT${seconds}S`);
        if (requested.status !== 'APPROVED') throw new Error(`expected APPROVED (auto), got ${requested.status}`);
        const started = await closedExecution(b, executionArn(b.grantMachineArn, executionNames.grant(requested.id)), Date.now() + 180_000);
        if (!started) throw new Error(`grant ${requested.id}: grant execution did not end within 180 s`);
        const active = await getGrant(b, requested.id, c.user);
        if (active.status !== 'ACTIVE' || !active.expiresAt) throw new Error(`grant ${active.id} is ${active.status}: ${active.failureReason ?? ''}`);
        const revokeArn = executionArn(b.revokeMachineArn, executionNames.revoke(active.id, active.expiresAt));
        const revoke = await closedExecution(b, revokeArn, Date.parse(active.expiresAt) + 120_000, 500);
        if (!revoke) throw new Error(`grant ${active.id}: no revoke execution ended within 120 s of expiry (${await whereItStands(b, active.id, c.user)})`);
        const grant = await getGrant(b, active.id, c.user);
        if (grant.status !== 'EXPIRED') throw new Error(`grant ${grant.id} ended ${grant.status}`);
        ended.push({ grant, active, revoke });
      } catch (e) {
        failures.push((e as Error).message);
      }
    }),
  );
  const wallMs = Date.now() - t0;
  const ops = operationIndex(b.cloud.idc.operations());
  const samples: ExpirySample[] = [];
  for (const { grant, active, revoke } of ended) {
    const del = succeededOp(ops, 'DELETE', grant);
    if (!del) {
      failures.push(`grant ${grant.id}: EXPIRED but no successful DeleteAccountAssignment in the emulator`);
      continue;
    }
    const expiresAt = Date.parse(active.expiresAt!);
    const activatedAt = Date.parse(active.activatedAt!);
    const scheduledFor = Math.floor(revocationFireAt(expiresAt) / 1000) * 1000;
    samples.push({
      grantId: grant.id,
      latenessMs: del.completesAt - expiresAt,
      issueMs: del.createdAt - expiresAt,
      deleteProvisioningMs: del.completesAt - del.createdAt,
      revokeStartBeforeExpiryMs: expiresAt - revoke.startDate,
      // A direct start happens at activation; a scheduled one at or after the at() time.
      viaSchedule: revoke.startDate >= scheduledFor && revoke.startDate - activatedAt > 1_000,
      waitLagMs: (stateEvent(revoke, 'WaitStateExited', 'WaitUntilBeginAt') ?? Number.NaN) - Math.max(expiresAt - REVOCATION_LEAD_MS, revoke.startDate),
      beginLostLeadMs: (stateEvent(revoke, 'TaskStateEntered', 'BeginRevocation') ?? Number.NaN) - (expiresAt - REVOCATION_LEAD_MS),
      beginAfterMs: (stateEvent(revoke, 'TaskStateExited', 'BeginRevocation') ?? Number.NaN) - expiresAt,
      deletedByTask: stateEvent(revoke, 'TaskStateEntered', 'DeleteAssignment') === undefined,
      slotWaitMs: (stateEvent(revoke, 'TaskStateExited', 'WaitForDeleteSlot') ?? Number.NaN) - (stateEvent(revoke, 'TaskStateEntered', 'WaitForDeleteSlot') ?? Number.NaN),
      afterWakeMs: del.createdAt - (stateEvent(revoke, 'TaskStateExited', 'WaitForDeleteSlot') ?? Number.NaN),
    });
  }
  return { samples, failures, wallMs, lifecycles: ended.map((e) => e.grant.id), deleteAttempts: deleteCalls() - deleteCallsBefore };
}

interface StormResult {
  requested: number;
  active: number;
  failures: string[];
  wallMs: number;
  callsByOperation: Record<string, number>;
  idcCalls: number;
  throttled: number;
  quotaRejected: number;
  asyncOpMs: number;
  creates: number;
  records: ExecutionRecord[];
  requests: RequestCounters;
  dynamodb: string[];
  /** DynamoDB requests on the slot items from the first request to the last execution's end. */
  slotRequests: SlotRequestCounts;
  /** Slot writes made for each grant's activation, by whether the grant waited in the line. */
  slotWritesByGrant: { waited: number[]; atOnce: number[] };
  /** The lease tries made for the storm's grants, by when they came (see SlotRequestCounter.leaseTriesByMoment). */
  leaseTries: Record<LeaseTryMoment, number>;
  startedAt: number;
  /** When the last POST /grants was answered, from startedAt. */
  requestsMs: number;
}

function statsDelta(after: IdcStats, before: IdcStats): { calls: Record<string, number>; throttled: number; quotaRejected: number } {
  const calls: Record<string, number> = {};
  for (const [op, n] of Object.entries(after.calls)) {
    if (ORGANIZATIONS_OPERATIONS.has(op)) continue;
    const d = n - (before.calls[op] ?? 0);
    if (d > 0) calls[op] = d;
  }
  return { calls, throttled: after.throttled - before.throttled, quotaRejected: after.quotaRejected - before.quotaRejected };
}

/** The workflows bench's cloud also counts the DynamoDB requests on the slot items. */
interface StormBench extends Bench {
  slotRequests: SlotRequestCounter;
}

async function stormPhase(b: StormBench, items: Combo[]): Promise<StormResult> {
  const failures: string[] = [];
  const opsBefore = new Set(b.cloud.idc.operations().map((o) => o.requestId));
  const statsBefore = b.cloud.idc.stats();
  const requests: RequestCounters = { serverErrors: 0, retriedOk: 0 };
  const edgeBefore = b.edge.snapshot();
  const slotRequestsBefore = b.slotRequests.snapshot();
  const t0 = Date.now();
  const ids = await pool(items, STORM_HTTP_CONCURRENCY, async (c) => {
    try {
      return { id: (await requestGrant(b, c, 'PT1H', requests)).id, user: c.user };
    } catch (e) {
      failures.push((e as Error).message);
      return undefined;
    }
  });
  const requestsMs = Date.now() - t0;
  const started = ids.filter((x): x is { id: string; user: string } => !!x);
  // Far above the quota bound (about 0.2 s per grant).
  const deadline = t0 + 15 * 60_000 + items.length * 500;
  const records = await Promise.all(started.map((s) => closedExecution(b, executionArn(b.grantMachineArn, executionNames.grant(s.id)), deadline, 250)));
  const settledAt = Date.now();
  const statsAfter = b.cloud.idc.stats();
  const dynamodb = b.edge.since(edgeBefore, (settledAt - t0) / 1000, 'dynamodb ');
  const slotRequests = b.slotRequests.since(slotRequestsBefore);
  const grants = await pool(started, 10, (s) => settledGrant(b, s.id, s.user));
  let active = 0;
  let lastActive = t0;
  for (const g of grants) {
    if (g.status === 'ACTIVE' && g.activatedAt) {
      active++;
      lastActive = Math.max(lastActive, Date.parse(g.activatedAt));
    } else failures.push(`grant ${g.id} is ${g.status}${g.failureReason ? `: ${g.failureReason}` : ''}`);
  }
  const creates = b.cloud.idc.operations().filter((o) => !opsBefore.has(o.requestId) && o.kind === 'CREATE');
  const delta = statsDelta(statsAfter, statsBefore);
  const slotWritesByGrant = { waited: [] as number[], atOnce: [] as number[] };
  const grantIds: string[] = [];
  for (const r of records) {
    if (!r) continue;
    const grantId = r.name.replace(/^grant-/, '');
    grantIds.push(grantId);
    (stateEvent(r, 'TaskStateEntered', 'WaitForSlot') !== undefined ? slotWritesByGrant.waited : slotWritesByGrant.atOnce).push(b.slotRequests.writesFor(grantId));
  }
  const leaseTries = b.slotRequests.leaseTriesByMoment(grantIds);
  return {
    requested: items.length,
    active,
    failures,
    wallMs: (active === started.length ? lastActive : settledAt) - t0,
    startedAt: t0,
    requestsMs,
    callsByOperation: delta.calls,
    idcCalls: Object.values(delta.calls).reduce((a, n) => a + n, 0),
    throttled: delta.throttled,
    quotaRejected: delta.quotaRejected,
    asyncOpMs: creates.reduce((a, o) => a + (o.completesAt - o.createdAt), 0),
    creates: creates.length,
    records: records.filter((r): r is ExecutionRecord => !!r),
    requests,
    dynamodb,
    slotRequests,
    slotWritesByGrant,
    leaseTries,
  };
}

// ---- the benchmark --------------------------------------------------------------------

/** Requesters the org needs so that every grant of the run is a distinct assignment. */
function requestersNeeded(): number {
  const autoGrants = 2 * EXPIRIES + STORMS.reduce((a, n) => a + n, 0) + FAULT_STORM + LATENESS_STORM;
  const autoPerUser = (ACCOUNTS - APPROVE_ACCOUNTS) * PERMISSION_SETS.length;
  const approvePerUser = APPROVE_ACCOUNTS * PERMISSION_SETS.length;
  return Math.max(USERS, Math.ceil(autoGrants / autoPerUser), Math.ceil((ACTIVATIONS + 1) / approvePerUser));
}

type Knobs = ReturnType<LocalCloud['idc']['knobs']>;

/** A storm's figures: quota bound and, per grant, its grant execution's cost and the slot items' requests. */
function stormFigures(storm: StormResult, knobs: Knobs) {
  const accepted = storm.idcCalls - storm.throttled;
  const tpsTermS = Math.max(0, accepted - (knobs.throttleBurst ?? knobs.throttleTps)) / knobs.throttleTps;
  const asyncTermS = storm.asyncOpMs / 1000 / knobs.maxOutstandingAsync;
  const boundS = Math.max(tpsTermS, asyncTermS);
  const ratio = storm.wallMs / 1000 / boundS;
  const costs = storm.records.map((r) => executionCost(r.history));
  const holds = storm.records.map(slotHoldMs).filter((x): x is number => x !== undefined);
  const perGrant = (n: number) => n / Math.max(1, storm.requested);
  return {
    accepted,
    tpsTermS,
    asyncTermS,
    boundS,
    ratio,
    ok: storm.failures.length === 0 && storm.requests.serverErrors === 0 && ratio <= WALL_TARGET,
    transitions: summarize(costs.map((c) => c.transitions)),
    lambda: summarize(costs.map((c) => c.lambdaInvocations)),
    slotWrites: perGrant(storm.slotRequests.writes),
    slotWritesByKind: Object.fromEntries(Object.entries(storm.slotRequests.writesByKind).map(([kind, n]) => [kind, perGrant(n)])),
    slotWritesWaited: summarize(storm.slotWritesByGrant.waited),
    slotWritesAtOnce: summarize(storm.slotWritesByGrant.atOnce),
    slotQueries: perGrant(storm.slotRequests.queries),
    slotReads: perGrant(storm.slotRequests.reads),
    hold: { ...summarize(holds), mean: holds.reduce((x, y) => x + y, 0) / Math.max(1, holds.length) },
    slotsInUse: holds.reduce((x, y) => x + y, 0) / Math.max(1, storm.wallMs),
    byTenth: slotsInUseByTenth(storm.records, storm.startedAt, storm.startedAt + storm.wallMs),
  };
}

const p50p99max = (s: { p50: number; p99: number; max: number }, digits = 0) => `${fmt(s.p50, digits)} / ${fmt(s.p99, digits)} / ${fmt(s.max, digits)}`;

export async function runWorkflowsBench(): Promise<void> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'jit-bench-'));
  const edge = new EdgeCounter();
  const slotRequests = new SlotRequestCounter();
  const users = requestersNeeded();
  const cloud = await startLocalCloud({
    dataDir: false,
    port: 0,
    edgePort: 0,
    packaged: PACKAGED,
    log: edge.log,
    observe: slotRequests.observe,
    orgFixture: writeBenchOrg(dir, users),
    policyFile: resolve(import.meta.dirname, 'policy.bench.yaml'),
    // BENCH_FUNCTION_LOG_LEVEL=ERROR shows what a 5xx was.
    functionEnv: { POWERTOOLS_LOG_LEVEL: process.env.BENCH_FUNCTION_LOG_LEVEL ?? 'SILENT' },
  });
  const knobs = cloud.idc.knobs();
  const tokens = new Map<string, string>();
  for (const u of cloud.idc.fixture.users) tokens.set(u.userName, await cloud.token(u.email));
  const b: StormBench = {
    cloud,
    edge,
    slotRequests,
    tokens,
    grantMachineArn: cloud.stateMachineArns.GrantStateMachine!,
    revokeMachineArn: cloud.stateMachineArns.RevokeStateMachine!,
  };
  const approveAccounts = Array.from({ length: APPROVE_ACCOUNTS }, (_, i) => i);
  const autoAccounts = Array.from({ length: ACCOUNTS - APPROVE_ACCOUNTS }, (_, i) => i + APPROVE_ACCOUNTS);
  const autoCombos = combos(autoAccounts, users);
  const lifecyclesOf = (ids: string[]) => {
    const records = cloud.stepFunctions.listExecutionRecords();
    return ids.map((id) => records.filter((r) => r.name.includes(id)));
  };

  let activation: Awaited<ReturnType<typeof activationPhase>>;
  let expiry: Awaited<ReturnType<typeof expiryPhase>>;
  let loadedExpiry: Awaited<ReturnType<typeof expiryPhase>>;
  let lifecycleRecords: ExecutionRecord[][];
  let loadedLifecycleRecords: ExecutionRecord[][];
  const storms: StormResult[] = [];
  let faultStorm: StormResult;
  let lateStorm: StormResult;
  let faultsInjected: { idc: number; dynamodb: number };
  try {
    // Warm-up: every handler loaded and every cache filled once, outside the figures.
    const warm = await activationPhase(b, [{ user: userName(users - 1), accountId: accountId(APPROVE_ACCOUNTS - 1), permissionSet: 'AdministratorAccess' }]);
    if (warm.failures.length) throw new Error(`warm-up grant failed: ${warm.failures.join('; ')}`);

    console.log(`[bench:workflows] 1/5 approval → ACTIVE over ${ACTIVATIONS} grants, ${ACTIVATION_CONCURRENCY} at a time`);
    activation = await activationPhase(b, take(combos(approveAccounts, users), ACTIVATIONS));
    console.log(`[bench:workflows] 2/5 revocation lateness over ${EXPIRIES} grants of 70–90 s`);
    expiry = await expiryPhase(b, take(autoCombos, EXPIRIES));
    lifecycleRecords = lifecyclesOf(expiry.lifecycles);
    for (const [i, size] of STORMS.entries()) {
      console.log(`[bench:workflows] 3/5 storm ${i + 1}/${STORMS.length}: ${size} grants at once under the quotas`);
      storms.push(await stormPhase(b, take(autoCombos, size)));
    }
    console.log(`[bench:workflows] 4/5 storm of ${FAULT_STORM} grants with ${FAULT_RATE * 100} % faults`);
    const injectedBefore = { idc: cloud.idc.stats().injected, dynamodb: cloud.dynamoFaults.injected };
    cloud.idc.setKnobs({ faults: [{ rate: FAULT_RATE, effect: { type: 'error', code: 'InternalServerException' } }] });
    cloud.dynamoFaults.set({ rate: FAULT_RATE, pkPrefix: SLOT_PREFIX });
    try {
      faultStorm = await stormPhase(b, take(autoCombos, FAULT_STORM));
    } finally {
      cloud.idc.setKnobs({ faults: [] });
      cloud.dynamoFaults.set(undefined);
    }
    faultsInjected = { idc: cloud.idc.stats().injected - injectedBefore.idc, dynamodb: cloud.dynamoFaults.injected - injectedBefore.dynamodb };
    console.log(`[bench:workflows] 5/5 revocation lateness over ${EXPIRIES} grants while ${LATENESS_STORM} other grants are activated`);
    const loadedItems = take(autoCombos, EXPIRIES);
    const lateStormItems = take(autoCombos, LATENESS_STORM);
    [loadedExpiry, lateStorm] = await Promise.all([expiryPhase(b, loadedItems), sleep(FIRST_EXPIRY_S * 1000).then(() => stormPhase(b, lateStormItems))]);
    loadedLifecycleRecords = lifecyclesOf(loadedExpiry.lifecycles);
  } finally {
    await cloud.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  // 1. approval → ACTIVE
  const a = summarize(activation.samples.map((s) => s.overheadMs));
  const raw = summarize(activation.samples.map((s) => s.approvalToActiveMs));
  const prov = summarize(activation.samples.map((s) => s.provisioningMs));
  const activationOk = a.p95 <= 1500 && activation.failures.length === 0;

  // 2. revocation lateness, alone and under a storm
  const lateness = (phase: typeof expiry) => ({
    late: summarize(phase.samples.map((s) => s.latenessMs)),
    issue: summarize(phase.samples.map((s) => s.issueMs)),
    delProv: summarize(phase.samples.map((s) => s.deleteProvisioningMs)),
    early: summarize(phase.samples.map((s) => s.revokeStartBeforeExpiryMs / 1000)),
    waitLag: summarize(phase.samples.map((s) => s.waitLagMs)),
    beginLostLead: summarize(phase.samples.map((s) => s.beginLostLeadMs)),
    beginAfter: summarize(phase.samples.map((s) => s.beginAfterMs)),
    issueByTask: summarize(phase.samples.filter((s) => s.deletedByTask).map((s) => s.issueMs)),
    issueAfterWait: summarize(phase.samples.filter((s) => !s.deletedByTask).map((s) => s.issueMs)),
    slotWait: summarize(phase.samples.filter((s) => Number.isFinite(s.slotWaitMs)).map((s) => s.slotWaitMs)),
    afterWake: summarize(phase.samples.filter((s) => Number.isFinite(s.afterWakeMs)).map((s) => s.afterWakeMs)),
    viaSchedule: phase.samples.filter((s) => s.viaSchedule).length,
    ok: phase.failures.length === 0 && phase.samples.length > 0 && summarize(phase.samples.map((s) => s.latenessMs)).p99 <= 3000,
  });
  const alone = lateness(expiry);
  const loaded = lateness(loadedExpiry);
  const lateStormOk = lateStorm.failures.length === 0 && lateStorm.requests.serverErrors === 0;

  // 3. storms
  const columns = [...storms.map((s) => ({ title: `${s.requested} grants`, storm: s, faults: false })), { title: `${faultStorm.requested} grants, faults`, storm: faultStorm, faults: true }];
  const figures = columns.map((c) => stormFigures(c.storm, knobs));
  const stormsOk = figures.slice(0, storms.length).every((f) => f.ok);
  const faultStormOk = faultStorm.failures.length === 0;
  const row = (label: string, cell: (f: ReturnType<typeof stormFigures>, s: StormResult, faults: boolean) => string, target = '') =>
    `| ${label} | ${figures.map((f, i) => cell(f, columns[i]!.storm, columns[i]!.faults)).join(' | ')} | ${target} |`;
  const largest = storms.reduce((x, y) => (y.requested > x.requested ? y : x), storms[0]!);

  // 4. cost per lifecycle
  const lifecycleCosts = (lifecycles: ExecutionRecord[][]) =>
    lifecycles.map((rs) => {
      const c = rs.map((r) => executionCost(r.history));
      const path = rs.map((r) => r.history.filter((e) => e.type.endsWith('StateEntered')).map((e) => String(e.details?.value.name)).join(' → ')).join('; then ');
      return { transitions: c.reduce((s, x) => s + x.transitions, 0), lambda: c.reduce((s, x) => s + x.lambdaInvocations, 0), failed: c.reduce((s, x) => s + x.failedTasks, 0), executions: rs.length, path };
    });
  const costs = lifecycleCosts(lifecycleRecords);
  const loadedCosts = lifecycleCosts(loadedLifecycleRecords);
  const happy = costs.filter((c) => c.failed === 0 && c.executions === 2);
  const th = summarize(happy.map((c) => c.transitions));
  const longestHappy = happy.reduce<(typeof happy)[number] | undefined>((x, y) => (!x || y.transitions > x.transitions ? y : x), undefined);
  const lh = summarize(happy.map((c) => c.lambda));
  const stormCosts = storms.flatMap((s) => s.records.map((r) => executionCost(r.history)));
  const ts = summarize(stormCosts.map((c) => c.transitions));
  const ls = summarize(stormCosts.map((c) => c.lambdaInvocations));
  const transitionsOk = happy.length > 0 && th.max <= 30 && ts.p99 <= 30;
  const lambdaOk = happy.length > 0 && lh.max <= 3 && ls.p99 <= 3;
  const costCells = (cs: { transitions: number; lambda: number }[], key: 'transitions' | 'lambda') => p50p99max(summarize(cs.map((c) => c[key])));

  const failureLines = (title: string, list: string[]) =>
    list.length ? ['', `${title}:`, '', ...list.slice(0, 10).map((f) => `- ${f}`), ...(list.length > 10 ? [`- … ${list.length - 10} more`] : [])] : [];
  const deletedByTask = (phase: { samples: ExpirySample[] }) => `${phase.samples.filter((x) => x.deletedByTask).length}/${phase.samples.length}`;
  const latenessRows = (label: string, pick: (l: typeof alone) => { p50: number; p99: number; max: number }, unit = 'ms', target = '') =>
    `| ${label} | ${p50p99max(pick(alone), unit === 's' ? 1 : 0)} | ${p50p99max(pick(loaded), unit === 's' ? 1 : 0)} | ${target} |`;
  const expiryRevokeRecords = (lifecycles: ExecutionRecord[][]) => lifecycles.flatMap((rs) => rs.filter((r) => r.stateMachineArn === b.revokeMachineArn));
  const opLines = (storm: StormResult) =>
    Object.entries(storm.callsByOperation)
      .sort((x, y) => y[1] - x[1])
      .map(([op, n]) => `${op} ${n} (${fmt(n / Math.max(1, storm.requested), 2)}/grant)`);
  const runName = RUN_LABEL ? ` (${RUN_LABEL})` : '';

  const lines = [
    `## Grant and revoke workflows${runName}`,
    '',
    machineLine(),
    '',
    `${PACKAGED ? 'The functions as deployed: the zips `sls package` builds, each in a container process of its own, under the template\'s IAM roles, enforced; the rest of the local cloud in one process and DynamoDB (dynalite) in a second' : 'The local cloud in one process and DynamoDB (dynalite) in a second, the functions run from the sources in the first'} (gateway with real JWTs → handlers → dynalite; the statemachines/ files on local Step Functions; local Scheduler; Identity Center emulator with the real quotas: ${knobs.throttleTps} TPS collective throttle, ${knobs.maxOutstandingAsync} outstanding async operations, provisioning delay uniform ${knobs.provisioningDelayMs.minMs}–${knobs.provisioningDelayMs.maxMs} ms). Requests and approvals go through the HTTP API; Retry pauses are the definitions' own. Every grant is a distinct assignment (generated org: ${users} requesters × ${ACCOUNTS} accounts × ${PERMISSION_SETS.length} permission sets). Whole run ${fmt((Date.now() - started) / 60_000, 1)} min.`,
    '',
    `Sizes of this run: ${ACTIVATIONS} approvals; ${EXPIRIES} expiries on their own and ${EXPIRIES} more during a storm of ${LATENESS_STORM}; storms of ${STORMS.join(', ')} grants; a storm of ${FAULT_STORM} with ${fmt(FAULT_RATE * 100, 0)} % faults. A target counts as met only when two runs both meet it; this section is one run.`,
    '',
    `### 1. Approval → ACTIVE, minus Identity Center's provisioning delay`,
    '',
    `${activation.samples.length} grants, ${ACTIVATION_CONCURRENCY} at a time: request (pending), approve over HTTP, wait for ACTIVE. Approval = the APPROVED history entry; ACTIVE = activatedAt; the provisioning delay is the emulator's record of that grant's CreateAccountAssignment (completesAt − createdAt).`,
    '',
    '| figure | p50 ms | p95 ms | max ms | target |',
    '|---|---|---|---|---|',
    `| approval → ACTIVE − provisioning delay | ${fmt(a.p50, 0)} | ${fmt(a.p95, 0)} | ${fmt(a.max, 0)} | p95 ≤ 1500 ms: ${verdict(activationOk)} |`,
    `| approval → ACTIVE (raw) | ${fmt(raw.p50, 0)} | ${fmt(raw.p95, 0)} | ${fmt(raw.max, 0)} | |`,
    `| provisioning delay (emulator) | ${fmt(prov.p50, 0)} | ${fmt(prov.p95, 0)} | ${fmt(prov.max, 0)} | |`,
    ...failureLines('Failures', activation.failures),
    '',
    'Where the time of these grant executions goes (mean per execution):',
    '',
    ...profileTable(activation.records),
    '',
    `### 2. Revocation lateness (assignment deleted − expiresAt), alone and during a storm`,
    '',
    `Twice ${EXPIRIES} grants of 70–90 s, requested ${EXPIRY_START_PER_SECOND}/s: once on their own (${fmt(expiry.wallMs / 1000, 0)} s wall), once while a storm of ${LATENESS_STORM} other grants, requested from ${FIRST_EXPIRY_S} s on (when the first expiries fall due), is being activated (${fmt(loadedExpiry.wallMs / 1000, 0)} s wall; the storm: ${lateStorm.active} / ${lateStorm.requested} ACTIVE, ${lateStorm.requests.serverErrors} POST answered 5xx, ${fmt(lateStorm.wallMs / 1000, 1)} s wall: ${verdict(lateStormOk)}). The local Scheduler fires each at(beginAt − 60 s) schedule 0–59 s late (its default, as AWS documents); the revoke workflow waits until beginAt (expiresAt − ${REVOCATION_LEAD_MS / 1000} s), its task reads the grant and waits inside for the exact expiresAt. "Deleted" is the emulator's record of the DeleteAccountAssignment (completesAt). Started by their schedule (the rest directly): ${alone.viaSchedule}/${expiry.samples.length} alone, ${loaded.viaSchedule}/${loadedExpiry.samples.length} during the storm.`,
    '',
    '| figure (p50 / p99 / max) | alone | during the storm | target |',
    '|---|---|---|---|',
    latenessRows('lateness: deleted − expiresAt, ms', (l) => l.late, 'ms', `p99 ≤ 3000 ms: alone ${verdict(alone.ok)}, during the storm ${verdict(loaded.ok)}`),
    latenessRows('of which: delete issued − expiresAt, ms', (l) => l.issue),
    latenessRows('… deletes started by BeginRevocation (it took a slot), ms', (l) => l.issueByTask),
    latenessRows('… deletes started by the DeleteAssignment state (it waited for a slot, or BeginRevocation gave up), ms', (l) => l.issueAfterWait),
    latenessRows('… … in which: WaitForDeleteSlot entered → woken with a slot, ms', (l) => l.slotWait),
    latenessRows('… … in which: woken → delete accepted (throttled attempts retried), ms', (l) => l.afterWake),
    latenessRows(`BeginRevocation left − expiresAt (its work after the expiry: REVOKING, holder, slot or place in line; holding a slot, it starts the delete itself), ms`, (l) => l.beginAfter),
    latenessRows(`BeginRevocation entered − beginAt (of its ${REVOCATION_LEAD_MS} ms lead, what a late start or a late timer took; it reads the grant, then waits inside for the expiry), ms`, (l) => l.beginLostLead),
    latenessRows('… in which: its Wait state left − the later of beginAt and the execution\'s start (timer lateness), ms', (l) => l.waitLag),
    latenessRows('of which: delete provisioning delay (emulator), ms', (l) => l.delProv),
    latenessRows('revoke execution started before expiresAt (Scheduler delay), s', (l) => l.early, 's'),
    '',
    `Deletes started by BeginRevocation itself (it held a slot; its transient errors tried again at 50–400 ms pauses for up to ${PROMPT_DELETE_MS / 1000} s), the rest by the DeleteAssignment state: ${deletedByTask(expiry)} alone, ${deletedByTask(loadedExpiry)} during the storm. DeleteAccountAssignment calls per deletion, throttled ones included (emulator): ${fmt(expiry.deleteAttempts / Math.max(1, expiry.samples.length), 2)} alone, ${fmt(loadedExpiry.deleteAttempts / Math.max(1, loadedExpiry.samples.length), 2)} during the storm.`,
    ...failureLines('Failures, alone', expiry.failures),
    ...failureLines('Failures, during the storm', loadedExpiry.failures),
    ...failureLines('Failures of the storm', lateStorm.failures),
    '',
    'Where the time of the revoke executions during the storm goes (mean per execution; WaitUntilBeginAt is the wait the Scheduler leaves; BeginRevocation includes its wait inside for the exact expiry):',
    '',
    ...profileTable(expiryRevokeRecords(loadedLifecycleRecords)),
    '',
    'Task attempts of these grants\' executions (grant and revoke), during the storm:',
    '',
    ...errorLines(loadedLifecycleRecords.flat()),
    '',
    `### 3. Storms under the ${knobs.throttleTps} TPS / ${knobs.maxOutstandingAsync}-async quotas`,
    '',
    `Each storm is a fresh set of distinct grants, all requested over HTTP (${STORM_HTTP_CONCURRENCY} in flight), auto-approved, default provisioning delay. Wall time = first request → last activatedAt. Quota bound = max(Σ provisioning delay of the creates / ${knobs.maxOutstandingAsync} outstanding, (Identity Center calls actually accepted − the ${knobs.throttleBurst ?? knobs.throttleTps}-call burst) / ${knobs.throttleTps} TPS), with calls counted by the emulator (sso-admin + identitystore, requests' directory lookups included, throttled calls excluded): the time no system could beat under these quotas with this many calls. Per grant: the state transitions (states entered + Retry attempts) and Lambda invocations of its grant execution; slot requests = DynamoDB requests through the edge naming an item whose pk starts with ${SLOT_PREFIX} (the slots and the line of waiters), from every caller (functions and the workflows' own DynamoDB tasks), each attempt counted, over the storm's window, divided by the grants requested; a write is also charged to the grant whose activation it serves (the owner it names: its lease, release, place in the line and wake-up token, and for a hand-over the waiter that receives the slot), split by whether that grant waited in the line. Slot held = the exit of the task that led to CreateAssignment (the PrepareActivation that took the slot, or the WaitForSlot woken with its plan on a slot handed over) → CompleteActivation entered. The last column repeats the first size with ${fmt(FAULT_RATE * 100, 0)} % of Identity Center calls answering InternalServerException and ${fmt(FAULT_RATE * 100, 0)} % of DynamoDB writes on ${SLOT_PREFIX} items dropped without an answer (the caller's SDK sees a connection reset, as on a timeout); its wall time is not held to the bound.`,
    '',
    `| figure | ${columns.map((c) => c.title).join(' | ')} | target |`,
    `|---|${columns.map(() => '---|').join('')}---|`,
    row('grants ACTIVE / requested', (_f, s) => `${s.active} / ${s.requested} (${verdict(s.failures.length === 0)})`, '0 FAILED'),
    row('POST /grants answered 5xx (client retried with the same Idempotency-Key)', (_f, s, faults) => `${s.requests.serverErrors}${faults ? '' : ` (${verdict(s.requests.serverErrors === 0)})`}`, '0 (without faults)'),
    row('faults injected: Identity Center errors / dropped DynamoDB writes', (_f, _s, faults) => (faults ? `${faultsInjected.idc} / ${faultsInjected.dynamodb}` : '—')),
    row('wall time', (f, s) => `${fmt(s.wallMs / 1000, 1)} s`),
    row('async term: Σ provisioning delay / outstanding', (f) => `${fmt(f.asyncTermS, 1)} s`),
    row('TPS term: accepted calls / TPS', (f) => `${fmt(f.tpsTermS, 1)} s (${f.accepted} calls)`),
    row('quota bound', (f) => `${fmt(f.boundS, 1)} s (${f.tpsTermS >= f.asyncTermS ? 'TPS' : 'async'} term)`),
    row('wall time / quota bound', (f, _s, faults) => `${fmt(f.ratio, 2)}×${faults ? '' : ` (${verdict(f.ratio <= WALL_TARGET)})`}`, `≤ ${WALL_TARGET}× (without faults)`),
    row('state transitions per grant, p50 / p99 / max', (f) => p50p99max(f.transitions)),
    row('Lambda invocations per grant, p50 / p99 / max', (f) => p50p99max(f.lambda)),
    row('slot writes per grant (Put/Update/Delete)', (f) => fmt(f.slotWrites, 2), 'constant across sizes'),
    ...[...new Set(figures.flatMap((f) => Object.keys(f.slotWritesByKind)))].sort().map((kind) => row(`… of which ${kind}`, (f) => fmt(f.slotWritesByKind[kind] ?? 0, 2))),
    row('… lease tries for a grant, by when: on arrival / in the line / after a slot was given to it', (_f, s) =>
      (['on arrival', 'in the line', 'after a hand-over'] as const).map((m) => fmt(s.leaseTries[m] / Math.max(1, s.requested), 2)).join(' / '),
    ),
    row('… made for one grant that waited in the line: grants, p50 / p99 / max', (f) => `${f.slotWritesWaited.n}: ${p50p99max(f.slotWritesWaited)}`, 'constant across sizes'),
    row('… made for one grant admitted at once: grants, p50 / p99 / max', (f) => `${f.slotWritesAtOnce.n}: ${p50p99max(f.slotWritesAtOnce)}`, 'constant across sizes'),
    row('slot queries per grant (the line)', (f) => fmt(f.slotQueries, 2), 'constant across sizes'),
    row('slot reads per grant (Get/BatchGet)', (f) => fmt(f.slotReads, 2), 'constant across sizes'),
    row('slot held, p50 / p95 / mean ms', (f) => `${fmt(f.hold.p50, 0)} / ${fmt(f.hold.p95, 0)} / ${fmt(f.hold.mean, 0)}`),
    row('mean provisioning delay of a create', (_f, s) => `${fmt(s.asyncOpMs / Math.max(1, s.creates), 0)} ms`),
    row(`slots in use on average (of ${knobs.maxOutstandingAsync})`, (f) => fmt(f.slotsInUse, 1)),
    row('slots in use by tenth of the wall time', (f) => f.byTenth.map((n) => fmt(n, 1)).join(', ')),
    row('Identity Center calls (throttled / refused by the outstanding quota)', (_f, s) => `${s.idcCalls} (${s.throttled} / ${s.quotaRejected})`),
    row('last POST /grants answered after', (_f, s) => `${fmt(s.requestsMs / 1000, 1)} s`),
    ...columns.flatMap((c) => (c.storm.requests.answers?.size ? ['', `The 5xx answers (${c.title}): ${[...c.storm.requests.answers].map(([what, n]) => `${n} × ${what}`).join('; ')}.`] : [])),
    ...columns.flatMap((c) => failureLines(`Failures (${c.title})`, c.storm.failures)),
    '',
    ...columns.flatMap((c) => [`Identity Center calls (${c.title}): ${opLines(c.storm).join(', ')}.`, '']),
    ...columns.flatMap((c) => [`DynamoDB requests at the edge (${c.title}): ${c.storm.dynamodb.join(', ')}.`, '']),
    `Where the time of the grant executions of the ${largest.requested}-grant storm goes (mean per execution):`,
    '',
    ...profileTable(largest.records),
    '',
    ...columns.flatMap((c) => [`Task attempts of the grant executions (${c.title}):`, '', ...errorLines(c.storm.records), '']),
    `### 4. Cost per lifecycle`,
    '',
    `From the execution histories: state transitions = states entered + Retry attempts (AWS bills both); Lambda invocations = every attempt of a Lambda Task. A lifecycle of figure 2 = its grant and revoke executions; happy path = no Task attempt failed and one execution of each workflow (grants expiring on their own). The storm grants (figure 3, without faults) stay ACTIVE past the run: for them only the grant execution is counted, once it has ended.`,
    '',
    '| figure | happy path, alone (n, max) | expiries alone (p50 / p99 / max) | expiries during the storm (p50 / p99 / max) | storm grants, grant execution (p50 / p99 / max) | target |',
    '|---|---|---|---|---|---|',
    `| state transitions | ${happy.length}, ${fmt(th.max, 0)} | ${costCells(costs, 'transitions')} | ${costCells(loadedCosts, 'transitions')} | ${p50p99max(ts)} | ≤ 30 (happy max, storm p99): ${verdict(transitionsOk)} |`,
    `| Lambda invocations | ${happy.length}, ${fmt(lh.max, 0)} | ${costCells(costs, 'lambda')} | ${costCells(loadedCosts, 'lambda')} | ${p50p99max(ls)} | ≤ 3 (happy max, storm p99): ${verdict(lambdaOk)} |`,
    '',
    ...(longestHappy ? [`The longest happy lifecycle (${longestHappy.transitions} transitions), grant execution; then revoke execution: ${longestHappy.path}.`] : []),
    '',
    `Targets of this run: approval → ACTIVE ${verdict(activationOk)}, revocation lateness alone ${verdict(alone.ok)} and during the storm ${verdict(loaded.ok && lateStormOk)}, storms ${verdict(stormsOk)}, storm with faults ${verdict(faultStormOk)}, transitions ${verdict(transitionsOk)}, Lambda invocations ${verdict(lambdaOk)}.`,
  ];
  writeSection(RUN_LABEL ? `workflows-${RUN_LABEL}` : 'workflows', lines.join('\n'));
  console.log(lines.join('\n'));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runWorkflowsBench();
  process.exit(0);
}
