/**
 * Grant and revoke workflow figures, in one run on the whole local cloud (gateway with real JWTs, dynalite,
 * the statemachines/ files on local Step Functions, the local Scheduler with its default
 * 0–59 s firing delay, the Identity Center emulator with its real quotas: 20 TPS collective
 * throttle, 10 outstanding async operations, 300–1500 ms provisioning delay):
 *
 *  1. approval → ACTIVE minus the emulator's provisioning delay of that grant's create (target p95 ≤ 1.5 s);
 *  2. revocation lateness: assignment deleted (emulator operation record) − expiresAt, through the
 *     Scheduler path (schedule at expiresAt − 60 s, fired 0–59 s late, Wait to the exact second) (target p99 ≤ 3 s);
 *  3. 1,000 grants at once under the quotas: failures (target 0) and wall time against the quota bound (target ≤ 1.2×);
 *  4. state transitions and Lambda invocations per lifecycle, grant + revoke, from the histories (target ≤ 30 and ≤ 3).
 *
 * The requests go through the HTTP API as a user's would. The org is generated (60 requesters × 20 accounts ×
 * 3 permission sets) so every grant is a distinct assignment that Identity Center must really create.
 * Sizes: BENCH_ACTIVATIONS (100), BENCH_EXPIRIES (150), BENCH_STORM (1000). BENCH_FUNCTION_LOG_LEVEL=ERROR prints
 * the functions' error logs (what a 5xx answer was).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { executionNames } from '../lib/adapters/workflows.ts';
import { startLocalCloud, type LocalCloud } from '../local/cloud.ts';
import type { IdcStats, OperationView } from '../local/idc/index.ts';
import type { ExecutionRecord, HistoryEvent } from '../local/stepfunctions/service.ts';
import { fmt, machineLine, summarize, verdict, writeSection } from './report.ts';

const ACTIVATIONS = Number(process.env.BENCH_ACTIVATIONS ?? 100);
const ACTIVATION_CONCURRENCY = Number(process.env.BENCH_ACTIVATION_CONCURRENCY ?? 4);
const EXPIRIES = Number(process.env.BENCH_EXPIRIES ?? 150);
/** Expiry grants are requested at this rate, so their expiries (and deletions) spread like real traffic. */
const EXPIRY_START_PER_SECOND = 5;
const STORM = Number(process.env.BENCH_STORM ?? 1000);
const STORM_HTTP_CONCURRENCY = 25;

const USERS = 60;
export const ACCOUNTS = 20;
export const APPROVE_ACCOUNTS = 5;
const PERMISSION_SETS = ['ReadOnlyAccess', 'PowerUserAccess', 'AdministratorAccess'];
const THROTTLE_TPS = 20;
const MAX_OUTSTANDING = 10;
/** Organizations calls are outside Identity Center's collective throttle. */
const ORGANIZATIONS_OPERATIONS = new Set([
  'DescribeOrganization', 'ListRoots', 'ListAccounts', 'DescribeAccount', 'ListAccountsForParent',
  'ListOrganizationalUnitsForParent', 'DescribeOrganizationalUnit', 'ListParents', 'ListChildren', 'ListTagsForResource',
]);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const userName = (i: number) => `u${String(i + 1).padStart(2, '0')}`;
export const accountId = (i: number) => `70000000${String(i + 1).padStart(4, '0')}`;

/** The bench org: requesters u01..u60, one approver, 5 accounts needing approval and 15 auto-approved. */
export function writeBenchOrg(dir: string): string {
  const accounts: { id: string; name: string; email: string; parent: string; tags: Record<string, string> }[] = [
    { id: '111111111111', name: 'management', email: 'aws-management@example.com', parent: 'root', tags: { env: 'management' } },
  ];
  for (let i = 0; i < ACCOUNTS; i++) {
    accounts.push({ id: accountId(i), name: `bench-${i + 1}`, email: `bench-${i + 1}@example.com`, parent: 'root', tags: { env: 'bench', flow: i < APPROVE_ACCOUNTS ? 'approve' : 'auto' } });
  }
  const users = Array.from({ length: USERS }, (_, i) => ({ userName: userName(i), email: `${userName(i)}@example.com`, displayName: `Bench ${userName(i)}` }));
  const fixture = {
    instance: { arn: 'arn:aws:sso:::instance/ssoins-7223d1e2f3a4b5c6', identityStoreId: 'd-9067c0ffee', name: 'bench' },
    organization: { id: 'o-bench0rg123', rootId: 'r-b3n0', managementAccountId: '111111111111' },
    accounts,
    permissionSets: PERMISSION_SETS.map((name) => ({ name, sessionDuration: 'PT1H' })),
    users: [...users, { userName: 'approver', email: 'approver@example.com', displayName: 'Bench Approver' }],
    groups: [
      { displayName: 'BenchRequesters', members: users.map((u) => u.userName) },
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
export function* combos(accountIndexes: number[]): Generator<Combo> {
  for (const permissionSet of PERMISSION_SETS) {
    for (const a of accountIndexes) for (let u = 0; u < USERS; u++) yield { user: userName(u), accountId: accountId(a), permissionSet };
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
  if (res.status !== 200) throw new Error(`GET /grants/${id} answered ${res.status}`);
  return res.body as GrantView;
}

const executionArn = (machineArn: string, name: string) => `${machineArn.replace(':stateMachine:', ':execution:')}:${name}`;

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

// ---- execution histories: cost and where the time goes --------------------------------

interface ExecutionCost {
  transitions: number;
  lambdaInvocations: number;
  failedTasks: number;
}

/**
 * Billed state transitions (every state entered, plus every Retry attempt: AWS bills retries
 * as transitions and the local history has no StateEntered for them) and Lambda invocations
 * (every attempt of a Lambda Task).
 */
function executionCost(history: HistoryEvent[]): ExecutionCost {
  let entered = 0;
  let lambda = 0;
  let failed = 0;
  let retries = 0;
  for (const [i, e] of history.entries()) {
    if (e.type.endsWith('StateEntered')) entered++;
    const resourceType = e.details?.value.resourceType;
    if ((e.type === 'TaskSucceeded' || e.type === 'TaskFailed') && resourceType === 'lambda') lambda++;
    if (e.type === 'TaskFailed') {
      failed++;
      // A retry runs the same state again with no new StateEntered: the next event is the same Task's outcome.
      const next = history[i + 1];
      if (next && (next.type === 'TaskSucceeded' || next.type === 'TaskFailed')) retries++;
    }
  }
  return { transitions: entered + retries, lambdaInvocations: lambda, failedTasks: failed };
}

/** Milliseconds spent in each state (entered → next state entered or execution end), summed per state name. */
function stateTimes(record: ExecutionRecord, into: Map<string, number[]>): void {
  const entered = record.history.filter((e) => e.type.endsWith('StateEntered'));
  const end = record.stopDate ?? record.history.at(-1)?.timestamp ?? Date.now();
  const perState = new Map<string, number>();
  for (const [i, e] of entered.entries()) {
    const name = String(e.details?.value.name);
    const until = entered[i + 1]?.timestamp ?? end;
    perState.set(name, (perState.get(name) ?? 0) + (until - e.timestamp));
  }
  for (const [name, ms] of perState) into.set(name, [...(into.get(name) ?? []), ms]);
}

/** Time a create slot is held: leased (AcquireCreateSlot, or PrepareActivation when a slot was free) → ReleaseCreateSlot done. */
/** When the execution's create slot was leased and given back (epoch ms). */
function slotInterval(record: ExecutionRecord): [number, number] | undefined {
  const exitOf = (name: string) => record.history.find((e) => e.type === 'TaskStateExited' && e.details?.value.name === name)?.timestamp;
  const leased = exitOf('AcquireCreateSlot') ?? exitOf('PrepareActivation');
  const released = exitOf('ReleaseCreateSlot') ?? exitOf('CompleteActivation');
  return leased !== undefined && released !== undefined ? [leased, released] : undefined;
}

function slotHoldMs(record: ExecutionRecord): number | undefined {
  const interval = slotInterval(record);
  return interval && interval[1] - interval[0];
}

/** Average slots in use in each tenth of [from, to). */
function slotsInUseByTenth(records: ExecutionRecord[], from: number, to: number): number[] {
  const tenth = (to - from) / 10;
  const held = Array.from({ length: 10 }, () => 0);
  for (const interval of records.map(slotInterval)) {
    if (!interval) continue;
    for (let i = 0; i < 10; i++) {
      const start = from + i * tenth;
      held[i]! += Math.max(0, Math.min(interval[1], start + tenth) - Math.max(interval[0], start));
    }
  }
  return held.map((ms) => ms / tenth);
}

function failedTaskErrors(records: ExecutionRecord[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of records) {
    for (const e of r.history) {
      if (e.type !== 'TaskFailed') continue;
      const key = `${String(e.details?.value.resource ?? '')}: ${String(e.details?.value.error)}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

function profileTable(records: ExecutionRecord[]): string[] {
  const times = new Map<string, number[]>();
  for (const r of records) stateTimes(r, times);
  const rows = [...times.entries()].map(([name, ms]) => ({ name, total: ms.reduce((a, b) => a + b, 0), runs: ms.length }));
  const all = rows.reduce((a, r) => a + r.total, 0);
  rows.sort((a, b) => b.total - a.total);
  return [
    '| state | executions | mean ms per execution | share |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${r.runs} | ${fmt(r.total / records.length, 0)} | ${fmt((100 * r.total) / all, 0)}% |`),
  ];
}

function errorLines(records: ExecutionRecord[]): string[] {
  const errors = [...failedTaskErrors(records).entries()].sort((a, b) => b[1] - a[1]);
  if (errors.length === 0) return ['No Task attempt failed (no Retry was needed).'];
  return ['Failed Task attempts (each retried or caught by the definition):', '', ...errors.map(([k, n]) => `- ${k}: ${n}`)];
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
  /** WaitUntilExpiresAt left − expiresAt: the timer's own lateness. */
  waitLagMs: number;
  /** BeginRevocation (re-read, REVOKING, holder, slot lease) duration. */
  beginMs: number;
}

/** Timestamp of the first history event of `type` for state `name`. */
function stateEvent(record: ExecutionRecord, type: string, name: string): number | undefined {
  return record.history.find((e) => e.type === type && e.details?.value.name === name)?.timestamp;
}

async function expiryPhase(b: Bench, items: Combo[]): Promise<{ samples: ExpirySample[]; failures: string[]; wallMs: number; lifecycles: string[] }> {
  const failures: string[] = [];
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
        if (!revoke) throw new Error(`grant ${active.id}: no revoke execution ended within 120 s of expiry`);
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
    const scheduledFor = Math.floor((expiresAt - 60_000) / 1000) * 1000;
    samples.push({
      grantId: grant.id,
      latenessMs: del.completesAt - expiresAt,
      issueMs: del.createdAt - expiresAt,
      deleteProvisioningMs: del.completesAt - del.createdAt,
      revokeStartBeforeExpiryMs: expiresAt - revoke.startDate,
      // A direct start happens at activation; a scheduled one at or after the at() time.
      viaSchedule: revoke.startDate >= scheduledFor && revoke.startDate - activatedAt > 5_000,
      waitLagMs: (stateEvent(revoke, 'WaitStateExited', 'WaitUntilExpiresAt') ?? Number.NaN) - expiresAt,
      beginMs: (stateEvent(revoke, 'TaskStateExited', 'BeginRevocation') ?? Number.NaN) - (stateEvent(revoke, 'TaskStateEntered', 'BeginRevocation') ?? Number.NaN),
    });
  }
  return { samples, failures, wallMs, lifecycles: ended.map((e) => e.grant.id) };
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

async function stormPhase(b: Bench, items: Combo[]): Promise<StormResult> {
  const failures: string[] = [];
  const opsBefore = new Set(b.cloud.idc.operations().map((o) => o.requestId));
  const statsBefore = b.cloud.idc.stats();
  const requests: RequestCounters = { serverErrors: 0, retriedOk: 0 };
  const edgeBefore = b.edge.snapshot();
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
  const deadline = t0 + 15 * 60_000;
  const records = await Promise.all(started.map((s) => closedExecution(b, executionArn(b.grantMachineArn, executionNames.grant(s.id)), deadline, 250)));
  const settledAt = Date.now();
  const statsAfter = b.cloud.idc.stats();
  const dynamodb = b.edge.since(edgeBefore, (settledAt - t0) / 1000, 'dynamodb ');
  const grants = await pool(started, 10, (s) => getGrant(b, s.id, s.user));
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
  };
}

// ---- the benchmark --------------------------------------------------------------------

export async function runWorkflowsBench(): Promise<void> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'jit-bench-'));
  const edge = new EdgeCounter();
  const cloud = await startLocalCloud({
    dataDir: false,
    port: 0,
    edgePort: 0,
    log: edge.log,
    orgFixture: writeBenchOrg(dir),
    policyFile: resolve(import.meta.dirname, 'policy.bench.yaml'),
    // BENCH_FUNCTION_LOG_LEVEL=ERROR shows what a 5xx was.
    functionEnv: { POWERTOOLS_LOG_LEVEL: process.env.BENCH_FUNCTION_LOG_LEVEL ?? 'SILENT' },
  });
  const knobs = cloud.idc.knobs();
  const tokens = new Map<string, string>();
  for (const u of cloud.idc.fixture.users) tokens.set(u.userName, await cloud.token(u.email));
  const b: Bench = {
    cloud,
    edge,
    tokens,
    grantMachineArn: cloud.stateMachineArns.GrantStateMachine!,
    revokeMachineArn: cloud.stateMachineArns.RevokeStateMachine!,
  };
  const approveAccounts = Array.from({ length: APPROVE_ACCOUNTS }, (_, i) => i);
  const autoAccounts = Array.from({ length: ACCOUNTS - APPROVE_ACCOUNTS }, (_, i) => i + APPROVE_ACCOUNTS);
  const autoCombos = combos(autoAccounts);

  let activation: Awaited<ReturnType<typeof activationPhase>>;
  let expiry: Awaited<ReturnType<typeof expiryPhase>>;
  let storm: StormResult;
  let lifecycleRecords: ExecutionRecord[][];
  try {
    // Warm-up: every handler loaded and every cache filled once, outside the figures.
    const warm = await activationPhase(b, [{ user: userName(USERS - 1), accountId: accountId(APPROVE_ACCOUNTS - 1), permissionSet: 'AdministratorAccess' }]);
    if (warm.failures.length) throw new Error(`warm-up grant failed: ${warm.failures.join('; ')}`);

    console.log(`[bench:workflows] 1/3 approval → ACTIVE over ${ACTIVATIONS} grants, ${ACTIVATION_CONCURRENCY} at a time`);
    activation = await activationPhase(b, take(combos(approveAccounts), ACTIVATIONS));
    console.log(`[bench:workflows] 2/3 revocation lateness over ${EXPIRIES} grants of 70–90 s`);
    expiry = await expiryPhase(b, take(autoCombos, EXPIRIES));
    const records = cloud.stepFunctions.listExecutionRecords();
    lifecycleRecords = expiry.lifecycles.map((id) => records.filter((r) => r.name.includes(id)));
    console.log(`[bench:workflows] 3/3 ${STORM} grants at once under the quotas`);
    storm = await stormPhase(b, take(autoCombos, STORM));
  } finally {
    await cloud.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  // 1. approval → ACTIVE
  const a = summarize(activation.samples.map((s) => s.overheadMs));
  const raw = summarize(activation.samples.map((s) => s.approvalToActiveMs));
  const prov = summarize(activation.samples.map((s) => s.provisioningMs));
  const activationOk = a.p95 <= 1500 && activation.failures.length === 0;

  // 2. revocation lateness
  const late = summarize(expiry.samples.map((s) => s.latenessMs));
  const issue = summarize(expiry.samples.map((s) => s.issueMs));
  const delProv = summarize(expiry.samples.map((s) => s.deleteProvisioningMs));
  const early = summarize(expiry.samples.map((s) => s.revokeStartBeforeExpiryMs));
  const waitLag = summarize(expiry.samples.map((s) => s.waitLagMs));
  const begin = summarize(expiry.samples.map((s) => s.beginMs));
  const viaSchedule = expiry.samples.filter((s) => s.viaSchedule).length;
  const expiryOk = late.p99 <= 3000 && expiry.failures.length === 0;

  // 3. storm against the quota bound
  const accepted = storm.idcCalls - storm.throttled;
  const tpsTermS = Math.max(0, accepted - (knobs.throttleBurst ?? knobs.throttleTps)) / knobs.throttleTps;
  const asyncTermS = storm.asyncOpMs / 1000 / knobs.maxOutstandingAsync;
  const boundS = Math.max(tpsTermS, asyncTermS);
  const ratio = storm.wallMs / 1000 / boundS;
  const stormOk = storm.failures.length === 0 && storm.requests.serverErrors === 0 && ratio <= 1.2;

  // 4. cost per lifecycle
  const costs = lifecycleRecords.map((rs) => {
    const c = rs.map((r) => executionCost(r.history));
    return { transitions: c.reduce((s, x) => s + x.transitions, 0), lambda: c.reduce((s, x) => s + x.lambdaInvocations, 0), failed: c.reduce((s, x) => s + x.failedTasks, 0), executions: rs.length };
  });
  const happy = costs.filter((c) => c.failed === 0 && c.executions === 2);
  const t = summarize(costs.map((c) => c.transitions));
  const l = summarize(costs.map((c) => c.lambda));
  const th = summarize(happy.map((c) => c.transitions));
  const lh = summarize(happy.map((c) => c.lambda));
  const costOk = happy.length > 0 && th.max <= 30 && lh.max <= 3;

  const slotLine = (records: ExecutionRecord[]) => {
    const holds = records.map(slotHoldMs).filter((x): x is number => x !== undefined);
    const h = summarize(holds);
    return `${fmt(h.p50, 0)} / ${fmt(h.p95, 0)} / ${fmt(holds.reduce((x, y) => x + y, 0) / Math.max(1, holds.length), 0)} ms`;
  };
  const opLines = Object.entries(storm.callsByOperation)
    .sort((x, y) => y[1] - x[1])
    .map(([op, n]) => `${op} ${n} (${fmt(n / Math.max(1, storm.requested), 2)}/grant)`);
  const grantRecords = activation.records;
  const stormGrantRecords = storm.records;
  const expiryRevokeRecords = lifecycleRecords.flatMap((rs) => rs.filter((r) => r.stateMachineArn === b.revokeMachineArn));
  const failureLines = (list: string[]) => (list.length ? ['', 'Failures:', '', ...list.slice(0, 10).map((f) => `- ${f}`), ...(list.length > 10 ? [`- … ${list.length - 10} more`] : [])] : []);

  const lines = [
    '## Grant and revoke workflows',
    '',
    machineLine(),
    '',
    `Whole local cloud in one process (gateway with real JWTs → handlers → dynalite; the statemachines/ files on local Step Functions; local Scheduler; Identity Center emulator with the real quotas: ${knobs.throttleTps} TPS collective throttle, ${knobs.maxOutstandingAsync} outstanding async operations, provisioning delay uniform ${knobs.provisioningDelayMs.minMs}–${knobs.provisioningDelayMs.maxMs} ms). Requests and approvals go through the HTTP API; Retry pauses are the definitions' own. Every grant is a distinct assignment (generated org: ${USERS} requesters × ${ACCOUNTS} accounts × ${PERMISSION_SETS.length} permission sets). Whole run ${fmt((Date.now() - started) / 60_000, 1)} min.`,
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
    ...failureLines(activation.failures),
    '',
    'Where the time of these grant executions goes (mean per execution):',
    '',
    ...profileTable(grantRecords),
    '',
    `### 2. Revocation lateness (assignment deleted − expiresAt)`,
    '',
    `${expiry.samples.length} grants of 70–90 s, requested ${EXPIRY_START_PER_SECOND}/s (${fmt(expiry.wallMs / 1000, 0)} s wall). The local Scheduler fires each at(expiresAt − 60 s) schedule 0–59 s late (its default, as AWS documents); the revoke workflow waits to the exact expiresAt. "Deleted" is the emulator's record of the DeleteAccountAssignment (completesAt). ${viaSchedule}/${expiry.samples.length} revocations were started by their schedule (the rest directly).`,
    '',
    '| figure | p50 ms | p99 ms | max ms | target |',
    '|---|---|---|---|---|',
    `| lateness: deleted − expiresAt | ${fmt(late.p50, 0)} | ${fmt(late.p99, 0)} | ${fmt(late.max, 0)} | p99 ≤ 3000 ms: ${verdict(expiryOk)} |`,
    `| of which: delete issued − expiresAt | ${fmt(issue.p50, 0)} | ${fmt(issue.p99, 0)} | ${fmt(issue.max, 0)} | |`,
    `| … in which: Wait state left − expiresAt (timer lateness) | ${fmt(waitLag.p50, 0)} | ${fmt(waitLag.p99, 0)} | ${fmt(waitLag.max, 0)} | |`,
    `| … in which: BeginRevocation task (re-read, REVOKING, holder, slot lease) | ${fmt(begin.p50, 0)} | ${fmt(begin.p99, 0)} | ${fmt(begin.max, 0)} | |`,
    `| of which: delete provisioning delay (emulator) | ${fmt(delProv.p50, 0)} | ${fmt(delProv.p99, 0)} | ${fmt(delProv.max, 0)} | |`,
    `| revoke execution started before expiresAt (Scheduler delay) | ${fmt(early.p50 / 1000, 1)} s | ${fmt(early.p99 / 1000, 1)} s | ${fmt(early.max / 1000, 1)} s | |`,
    ...failureLines(expiry.failures),
    '',
    'Where the time of these revoke executions goes (mean per execution; WaitUntilExpiresAt is the wait the Scheduler leaves):',
    '',
    ...profileTable(expiryRevokeRecords),
    '',
    `### 3. ${storm.requested} grants at once under the ${knobs.throttleTps} TPS / ${knobs.maxOutstandingAsync}-async quotas`,
    '',
    `All requested over HTTP (${STORM_HTTP_CONCURRENCY} in flight), auto-approved, default provisioning delay. Wall time = first request → last activatedAt. Quota bound = max(Σ provisioning delay of the ${storm.creates} creates / ${knobs.maxOutstandingAsync} outstanding, (Identity Center calls actually accepted − the ${knobs.throttleBurst ?? knobs.throttleTps}-call burst) / ${knobs.throttleTps} TPS), with calls counted by the emulator (sso-admin + identitystore, requests' directory lookups included, throttled calls excluded): the time no system could beat under these quotas with this many calls.`,
    '',
    '| figure | value | target |',
    '|---|---|---|',
    `| grants ACTIVE / requested | ${storm.active} / ${storm.requested} | failures 0: ${verdict(storm.failures.length === 0)} |`,
    `| POST /grants answered 5xx (client retried with the same Idempotency-Key) | ${storm.requests.serverErrors} (${storm.requests.retriedOk} requests needed a retry) | 0: ${verdict(storm.requests.serverErrors === 0)} |`,
    `| wall time | ${fmt(storm.wallMs / 1000, 1)} s | |`,
    `| async term: ${fmt(storm.asyncOpMs / 1000, 0)} s of operations / ${knobs.maxOutstandingAsync} | ${fmt(asyncTermS, 1)} s | |`,
    `| TPS term: ${accepted} accepted calls / ${knobs.throttleTps} TPS | ${fmt(tpsTermS, 1)} s | |`,
    `| quota bound (${tpsTermS >= asyncTermS ? 'TPS term dominates' : 'async term dominates'}) | ${fmt(boundS, 1)} s | |`,
    `| wall time / quota bound | ${fmt(ratio, 2)}× | ≤ 1.2×: ${verdict(ratio <= 1.2)} |`,
    ...(storm.requests.answers?.size ? ['', `The 5xx answers: ${[...storm.requests.answers].map(([what, n]) => `${n} × ${what}`).join('; ')}.`] : []),
    '',
    `Identity Center calls: ${storm.idcCalls} (${storm.throttled} answered ThrottlingException by the 20 TPS bucket, ${storm.quotaRejected} refused by the 10-outstanding quota): ${opLines.join(', ')}.`,
    ...failureLines(storm.failures),
    '',
    'Where the time of these grant executions goes (mean per execution):',
    '',
    ...profileTable(stormGrantRecords),
    '',
    ...errorLines(stormGrantRecords),
    '',
    `Create slot held (slot leased → ReleaseCreateSlot done), p50 / p95 / mean: figure 1 ${slotLine(activation.records)}; this storm ${slotLine(stormGrantRecords)} — against a mean provisioning delay of ${fmt(storm.asyncOpMs / Math.max(1, storm.creates), 0)} ms. With ${knobs.maxOutstandingAsync} slots the storm can activate at most ${knobs.maxOutstandingAsync} / mean hold grants per second. Slots in use over the storm's wall time, on average: ${fmt(stormGrantRecords.map(slotHoldMs).reduce<number>((sum, ms) => sum + (ms ?? 0), 0) / Math.max(1, storm.wallMs), 1)} of ${knobs.maxOutstandingAsync}; by tenth of the wall time: ${slotsInUseByTenth(stormGrantRecords, storm.startedAt, storm.startedAt + storm.wallMs).map((n) => fmt(n, 1)).join(', ')}. The last POST /grants was answered ${fmt(storm.requestsMs / 1000, 1)} s after the first was sent.`,
    '',
    `DynamoDB requests at the edge during the storm: ${storm.dynamodb.join(', ')}.`,
    '',
    `### 4. Cost per lifecycle (grant + revoke executions of the ${costs.length} grants of figure 2)`,
    '',
    'From the execution histories: state transitions = states entered + Retry attempts (AWS bills both); Lambda invocations = every attempt of a Lambda Task. Happy path = no Task attempt failed and one execution of each workflow.',
    '',
    '| figure | happy path (n, max) | all lifecycles (p50 / max) | target |',
    '|---|---|---|---|',
    `| state transitions | ${happy.length}, ${fmt(th.max, 0)} | ${fmt(t.p50, 0)} / ${fmt(t.max, 0)} | ≤ 30: ${verdict(happy.length > 0 && th.max <= 30)} |`,
    `| Lambda invocations | ${happy.length}, ${fmt(lh.max, 0)} | ${fmt(l.p50, 0)} / ${fmt(l.max, 0)} | ≤ 3: ${verdict(happy.length > 0 && lh.max <= 3)} |`,
    '',
    `Targets: approval → ACTIVE ${verdict(activationOk)}, revocation lateness ${verdict(expiryOk)}, storm ${verdict(stormOk)}, cost ${verdict(costOk)}.`,
  ];
  writeSection('workflows', lines.join('\n'));
  console.log(lines.join('\n'));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runWorkflowsBench();
  process.exit(0);
}
