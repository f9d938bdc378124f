/**
 * The reconciler's pass on the local cloud: a cursor in the table carries it across runs until
 * it completes; per account it never lists a pair that cannot hold assignments; its pace stays
 * within its share of the quota (counted by the emulator, per second); the inventory keeps what
 * a pass saw and drops what a finished pass did not; SCIM-provisioned group targets are warned about.
 */
import { DeleteGroupMembershipCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coveredTargets, type ReconcileReport } from '../../lib/backstops/reconciler.ts';
import { accessService, inventoryStore } from '../../lib/composition/access.ts';
import { createReconciler } from '../../lib/composition/backstops.ts';
import type { ReconcileStrategy } from '../../lib/ports/index.ts';
import { memoryLog, startBackstopCloud, type BackstopCloud } from './support.ts';

let b: BackstopCloud;
beforeAll(async () => {
  b = await startBackstopCloud();
}, 60_000);
afterAll(async () => {
  await b?.stop();
});

const OKTA = 'https://example.okta.com';

function reconciler(strategy: ReconcileStrategy | 'auto', env: Parameters<BackstopCloud['env']>[0] = {}) {
  const log = memoryLog();
  const r = createReconciler(b.runtime, { env: b.env(env), log, strategy });
  return { log, run: (units = Number.POSITIVE_INFINITY) => r.run({ timeLeftMs: () => (units-- > 0 ? 1 : 0) }) };
}

/** Finishes whatever pass an earlier test left open, so the next run starts a pass. */
async function finishOpenPass(): Promise<void> {
  if (await inventoryStore(b.runtime).cursor()) await reconciler('auto').run();
}

const calls = () => b.cloud.idc.stats().calls;
const delta = (before: Record<string, number>, op: string) => (calls()[op] ?? 0) - (before[op] ?? 0);

describe('reconcile pass', () => {
  it('carries on across runs from the cursor until the pass completes, listing each principal once', async () => {
    await finishOpenPass();
    const principals = b.cloud.idc.fixture.users.length + b.cloud.idc.fixture.groups.length;
    const before = calls();
    const { run } = reconciler('per-principal');
    const reports: ReconcileReport[] = [];
    do reports.push(await run(3));
    while (!reports.at(-1)!.complete && reports.length < 20);

    const last = reports.at(-1)!;
    expect(last.complete).toBe(true);
    expect(reports.length).toBe(Math.ceil(last.pass.unitsTotal / 3));
    expect(reports.length).toBeGreaterThan(2);
    expect(new Set(reports.map((r) => r.pass.passId)).size).toBe(1);
    expect(reports.map((r) => r.pass.unitsDone)).toEqual(reports.map((_, i) => Math.min(3 * (i + 1), last.pass.unitsTotal)));
    expect(reports.slice(0, -1).every((r) => !r.complete && !r.pass.finished)).toBe(true);
    // Every user and group listed once over the whole pass, not once per run.
    expect(delta(before, 'ListAccountAssignmentsForPrincipal')).toBe(principals);
    expect(last.pass.calls).toBe(reports.reduce((n, r) => n + r.pass.callsThisRun, 0));

    const store = inventoryStore(b.runtime);
    expect(await store.cursor()).toBeUndefined();
    expect(await store.lastPass()).toMatchObject({ passId: last.pass.passId, strategy: 'per-principal', runs: reports.length, unitsDone: last.pass.unitsTotal, calls: last.pass.calls });
    // bob's permanent ReadOnlyAccess on payments-dev is in the inventory, seen by this pass.
    const seen = await store.find({ accountId: '444444444444', principalId: b.cloud.idc.userId('bob') });
    expect(seen).toEqual([expect.objectContaining({ kind: 'assignment', permissionSetArn: b.cloud.idc.permissionSetArn('ReadOnlyAccess'), principalType: 'USER', passId: last.pass.passId })]);
  });

  it('GET /access reports a pass under way (units done of the total) next to the last finished one', async () => {
    await finishOpenPass();
    const last = await inventoryStore(b.runtime).lastPass();
    const first = await reconciler('per-principal').run(2);
    expect(first.complete).toBe(false);
    const alice = await b.runtime.service.callerFor({ email: 'alice@example.com' });
    const { freshness } = await accessService(b.runtime).access(alice, { account: '444444444444' });
    expect(freshness.currentPass).toEqual({ passId: first.pass.passId, strategy: 'per-principal', startedAt: expect.any(String), unitsDone: 2, unitsTotal: first.pass.unitsTotal, runs: 1 });
    expect(freshness.lastPass?.passId).toBe(last?.passId);
    await finishOpenPass();
  });

  it('per account, lists only the permission sets provisioned to each account (an unprovisioned pair is never listed)', async () => {
    await finishOpenPass();
    const scope = await coveredTargets(b.runtime.policy.document, b.runtime.directory, false);
    const accountsInScope = new Set(scope.flatMap((t) => (t.type === 'account' ? [t.accountId] : [])));
    const provisionedInScope = scope.filter((t) => t.type === 'account' && b.cloud.idc.assignments().some((a) => a.accountId === t.accountId && a.permissionSetArn === t.permissionSetArn));
    // PowerUserAccess was never assigned on payments-prod in this org: listing it would hit this fault.
    const unprovisioned = { accountId: '555555555555', permissionSetArn: b.cloud.idc.permissionSetArn('PowerUserAccess') };
    expect(scope.some((t) => t.type === 'account' && t.accountId === unprovisioned.accountId && t.permissionSetArn === unprovisioned.permissionSetArn)).toBe(true);
    expect(provisionedInScope.length).toBeLessThan(scope.filter((t) => t.type === 'account').length);
    b.cloud.idc.setKnobs({ faults: [{ operations: ['ListAccountAssignments'], ...unprovisioned, effect: { type: 'error', code: 'AccessDeniedException', message: 'listed a pair that cannot hold assignments' } }] });
    try {
      const before = calls();
      const injected = b.cloud.idc.stats().injected;
      const report = await reconciler('per-account').run();
      expect(report.complete).toBe(true);
      expect(report.pass.strategy).toBe('per-account');
      expect(report.counts.error).toBe(0);
      expect(b.cloud.idc.stats().injected).toBe(injected);
      expect(delta(before, 'ListPermissionSetsProvisionedToAccount')).toBe(accountsInScope.size);
      expect(delta(before, 'ListAccountAssignments')).toBe(provisionedInScope.length);
      expect(delta(before, 'ListAccountAssignmentsForPrincipal')).toBe(0);
    } finally {
      b.cloud.idc.setKnobs({ faults: [] });
    }
  });

  it('auto chooses the way that costs fewer calls, by counting, and says so', async () => {
    await finishOpenPass();
    const report = await reconciler('auto').run();
    const e = report.pass.estimate!;
    expect(e.principals).toBe(b.cloud.idc.fixture.users.length + b.cloud.idc.fixture.groups.length);
    expect(report.pass.strategy).toBe(e.perPrincipal! < e.perAccount ? 'per-principal' : 'per-account');
  });

  it('stays within its share of the 20 TPS quota, counted per second by Identity Center', async () => {
    await finishOpenPass();
    const started = Math.floor(Date.now() / 1000);
    const throttled = b.cloud.idc.stats().throttled;
    // A quarter of the quota: 5 calls a second.
    const report = await reconciler('per-account', { RECONCILE_QUOTA_SHARE: 0.25 }).run();
    expect(report.pass.callsThisRun).toBeGreaterThanOrEqual(10);
    // From the run's second whole second on: the first one also holds the earlier test's tail and the
    // few (cached) directory lookups that resolve the policy's scope, which are not paced.
    const windows = Object.entries(b.cloud.idc.stats().callsPerSecond).filter(([second]) => Number(second) > started);
    // 10 calls or more at 5 a second take 1.8 s or more: the seconds after the first hold several.
    const total = windows.reduce((n, [, count]) => n + count, 0);
    expect(total).toBeGreaterThanOrEqual(3);
    // Calls 200 ms apart fit 5 in a second, 6 when the first falls right at a second's start.
    expect(Math.max(...windows.map(([, count]) => count))).toBeLessThanOrEqual(6);
    expect(b.cloud.idc.stats().throttled).toBe(throttled);
  });

  it('keeps what a pass saw and removes, when a pass finishes, what it no longer saw', async () => {
    await finishOpenPass();
    const store = inventoryStore(b.runtime);
    const dave = { accountId: '444444444444', principalId: b.cloud.idc.userId('dave') };
    await b.createAssignmentBehindOurBack('dave', '444444444444', 'ReadOnlyAccess');
    const first = await reconciler('per-account').run();
    expect(await store.find(dave)).toEqual([expect.objectContaining({ passId: first.pass.passId })]);
    await b.deleteAssignmentBehindOurBack('dave', '444444444444', 'ReadOnlyAccess');
    const second = await reconciler('per-principal').run();
    expect(second.pass.removed).toBeGreaterThanOrEqual(1);
    expect(await store.find(dave)).toEqual([]);
    expect((await store.find({ accountId: '444444444444' })).length).toBeGreaterThan(0);
  });

  it('a unit that cannot be listed is an error item; the pass finishes but keeps the inventory it could not refresh', async () => {
    await finishOpenPass();
    const store = inventoryStore(b.runtime);
    const bob = b.cloud.idc.userId('bob');
    const before = await store.find({ principalId: bob, accountId: '444444444444' });
    expect(before).toHaveLength(1);
    b.cloud.idc.setKnobs({ faults: [{ operations: ['ListAccountAssignmentsForPrincipal'], principalId: bob, effect: { type: 'error', code: 'AccessDeniedException' } }] });
    try {
      const report = await reconciler('per-principal').run();
      expect(report.complete).toBe(true);
      expect(report.items.filter((i) => i.kind === 'error')).toEqual([expect.objectContaining({ key: `P#USER#${bob}`, target: `assignments of USER ${bob}`, detail: expect.stringMatching(/^could not list access: /) })]);
      expect(report.pass.removed).toBe(0);
      expect(await store.find({ principalId: bob, accountId: '444444444444' })).toEqual(before);
    } finally {
      b.cloud.idc.setKnobs({ faults: [] });
    }
  });

  it('warns about a SCIM-provisioned group target, marks its memberships, and names the IdP when a grant loses its membership', async () => {
    await finishOpenPass();
    const groupId = b.cloud.idc.groupId('OktaOnCall');
    const grant = await b.activate('bob', { group: 'OktaOnCall' }, 'PT1H');
    const membership = b.cloud.idc.memberships().find((m) => m.groupId === groupId && m.userId === grant.principal.userId)!;
    await new IdentitystoreClient({}).send(new DeleteGroupMembershipCommand({ IdentityStoreId: b.cloud.idc.fixture.instance.identityStoreId, MembershipId: membership.membershipId }));

    const { run, log } = reconciler('auto');
    const report = await run();
    expect(report.items.filter((i) => i.kind === 'scim-group')).toEqual([
      expect.objectContaining({ key: `group#${groupId}`, detail: expect.stringMatching(new RegExp(`OktaOnCall is provisioned by SCIM from ${OKTA}.*use a group created in Identity Center for JIT`)) }),
    ]);
    expect(log.lines.find((l) => l.fields?.groupId === groupId)).toMatchObject({ level: 'WARN', fields: { issuer: OKTA } });
    expect(report.items.find((i) => i.kind === 'active-access-missing' && i.grantIds?.includes(grant.id))?.detail).toMatch(new RegExp(`provisioned by SCIM from ${OKTA}, whose last push most likely removed the membership`));
    // carol's membership (from the IdP) is in the inventory, marked.
    const members = await inventoryStore(b.runtime).find({ groupId });
    expect(members).toEqual([expect.objectContaining({ kind: 'membership', userId: b.cloud.idc.userId('carol'), scimIssuer: OKTA })]);
    // BreakGlass, created in Identity Center, draws no warning.
    expect(report.items.some((i) => i.kind === 'scim-group' && i.key === `group#${b.cloud.idc.groupId('BreakGlass')}`)).toBe(false);
  });
});
