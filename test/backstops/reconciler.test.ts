/**
 * The reconciler on the local cloud: Identity Center (emulator) vs the holders table
 * (real DynamoStore on dynalite), for the scope config/policy.local.yaml covers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_MISSING_ACTION, type ReconcileReport } from '../../lib/backstops/reconciler.ts';
import { createReconciler } from '../../lib/composition/backstops.ts';
import { assignmentKey, type Grant } from '../../lib/domain/grant.ts';
import type { Runtime } from '../../lib/composition/runtime.ts';
import { localPolicyWith, memoryLog, startBackstopCloud, type BackstopCloud } from './support.ts';

let b: BackstopCloud;
beforeAll(async () => {
  b = await startBackstopCloud();
}, 60_000);
afterAll(async () => {
  await b?.stop();
});

function reconcile(runtime: Runtime = b.runtime) {
  const log = memoryLog();
  const reconciler = createReconciler(runtime, { env: b.env(), log });
  return { log, run: () => reconciler.run() };
}

const itemsFor = (report: ReconcileReport, key: string) => report.items.filter((i) => i.key === key);

/** Ends a grant in the table only (as if its revoke workflow had been lost after REVOKING), leaving its holder behind. */
async function endBehindTheHoldersBack(grant: Grant): Promise<void> {
  await b.deleteRevocationSchedule(grant.id);
  const at = new Date().toISOString();
  const revoking = await b.runtime.store.transition({ current: grant, to: 'REVOKING', entry: { at, actor: { id: 'test', name: 'test' }, action: 'lost revoke' } });
  await b.runtime.store.transition({ current: revoking, to: 'EXPIRED', set: { endedAt: at }, entry: { at, actor: { id: 'test', name: 'test' }, action: 'lost revoke' } });
}

describe('reconciler', () => {
  it('reports pre-existing access (bob ReadOnlyAccess on 444444444444) and keeps it', async () => {
    const key = assignmentKey({ userId: b.cloud.idc.userId('bob') }, b.target({ account: '444444444444', permissionSet: 'ReadOnlyAccess' }));
    const report = await reconcile().run();
    expect(report.complete).toBe(true);
    expect(report.removeUnmanaged).toBe(false);
    expect(report.counts.targetsListed).toBe(report.counts.targets);
    expect(itemsFor(report, key)).toEqual([expect.objectContaining({ kind: 'unmanaged', principalId: b.cloud.idc.userId('bob'), target: 'ReadOnlyAccess on payments-dev (444444444444)' })]);
    expect(b.hasAssignment('bob', '444444444444', 'ReadOnlyAccess')).toBe(true);
    // Memberships of covered groups that no grant created are reported the same way (BreakGlass starts empty).
    expect(report.counts['orphan-removed']).toBe(0);
    expect(report.counts['unmanaged-removed']).toBe(0);
  });

  it('an assignment the system created and no live grant holds → removed, holder gone', async () => {
    const active = await b.activate('carol', { account: '555555555555', permissionSet: 'PowerUserAccess' }, 'PT1H');
    const key = assignmentKey(active.principal, active.target);
    await endBehindTheHoldersBack(active);
    expect((await b.runtime.store.getHolder(key))?.grantIds).toEqual([active.id]);
    expect(b.hasAssignment('carol', '555555555555', 'PowerUserAccess')).toBe(true);

    const { run, log } = reconcile();
    const report = await run();
    expect(itemsFor(report, key)).toEqual([expect.objectContaining({ kind: 'orphan-removed', grantIds: [active.id] })]);
    expect(b.hasAssignment('carol', '555555555555', 'PowerUserAccess')).toBe(false);
    expect(await b.runtime.store.getHolder(key)).toBeUndefined();
    expect(log.lines.find((l) => l.fields?.key === key)).toMatchObject({ level: 'WARN', fields: { metric: 'OrphanedAccessRemoved' } });
    // Idempotent: nothing left to do.
    expect(itemsFor(await reconcile().run(), key)).toEqual([]);
  });

  it('an orphaned group membership the system created → removed', async () => {
    const active = await b.activate('dave', { group: 'BreakGlass' }, 'PT1H');
    const key = assignmentKey(active.principal, active.target);
    await endBehindTheHoldersBack(active);
    const report = await reconcile().run();
    expect(itemsFor(report, key).map((i) => i.kind)).toEqual(['orphan-removed']);
    expect(b.isMember('dave', 'BreakGlass')).toBe(false);
    expect(await b.runtime.store.getHolder(key)).toBeUndefined();
  });

  it('an ended grant left in a holder that a live grant also holds → forgotten, access kept for the live grant', async () => {
    const a = await b.activate('alice', { account: '222222222222', permissionSet: 'PowerUserAccess' }, 'PT1H');
    const live = await b.activate('alice', { account: '222222222222', permissionSet: 'PowerUserAccess' }, 'PT1H');
    const key = assignmentKey(a.principal, a.target);
    await endBehindTheHoldersBack(a);
    const report = await reconcile().run();
    expect(itemsFor(report, key).map((i) => i.kind)).toEqual(['stale-holder-entry']);
    expect((await b.runtime.store.getHolder(key))?.grantIds).toEqual([live.id]);
    expect(b.hasAssignment('alice', '222222222222', 'PowerUserAccess')).toBe(true);
  });

  it('an ACTIVE grant whose assignment was deleted behind our back → flagged in history (still ACTIVE), alerted once per loss', async () => {
    const active = await b.activate('bob', { account: '333333333333', permissionSet: 'PowerUserAccess' }, 'PT1H');
    const key = assignmentKey(active.principal, active.target);
    await b.deleteAssignmentBehindOurBack('bob', '333333333333', 'PowerUserAccess');

    const { run, log } = reconcile();
    const report = await run();
    expect(itemsFor(report, key)).toEqual([expect.objectContaining({ kind: 'active-access-missing', grantIds: [active.id] })]);
    const flagged = (await b.runtime.store.get(active.id))!;
    expect(flagged.status).toBe('ACTIVE');
    expect(flagged.history.at(-1)).toMatchObject({ from: 'ACTIVE', to: 'ACTIVE', action: ACCESS_MISSING_ACTION, actor: { id: 'system:reconciler' } });
    expect(log.lines.find((l) => l.fields?.grantId === active.id)).toMatchObject({ level: 'ERROR', fields: { metric: 'ActiveGrantAccessMissing', value: 1, firstSeen: true } });

    // The next run alerts again but does not write a second history entry.
    const second = await reconcile().run();
    expect(itemsFor(second, key).map((i) => i.kind)).toEqual(['active-access-missing']);
    expect((await b.runtime.store.get(active.id))!.history.filter((h) => h.action === ACCESS_MISSING_ACTION)).toHaveLength(1);
  });

  it('a DELETING holder no live grant is working on (interrupted removal) → finished', async () => {
    const active = await b.activate('carol', { account: '666666666666', permissionSet: 'AdministratorAccess' }, 'PT1H');
    const key = assignmentKey(active.principal, active.target);
    const holder = (await b.runtime.store.getHolder(key))!;
    // The revoke left the holder (DELETING), then died before deleting; the grant was ended by hand later.
    await b.runtime.store.leaveHolder(holder, active.id);
    await endBehindTheHoldersBack(active);
    expect((await b.runtime.store.getHolder(key))?.state).toBe('DELETING');
    const report = await reconcile().run();
    expect(itemsFor(report, key).map((i) => i.kind)).toEqual(['orphan-removed']);
    expect(b.hasAssignment('carol', '666666666666', 'AdministratorAccess')).toBe(false);
    expect(await b.runtime.store.getHolder(key)).toBeUndefined();
  });

  it('with reconcile.removeUnmanaged: true in the policy, covered access no grant created is removed; pre-existing access a live grant holds is kept', async () => {
    const runtime = b.runtimeWithPolicy(localPolicyWith('  removeUnmanaged: true'));
    expect(runtime.policy.document.reconcile.removeUnmanaged).toBe(true);
    // An admin gave dave ReadOnlyAccess on payments-dev by hand (covered by rule dev-readonly).
    await b.createAssignmentBehindOurBack('dave', '444444444444', 'ReadOnlyAccess');
    const daveKey = assignmentKey({ userId: b.cloud.idc.userId('dave') }, b.target({ account: '444444444444', permissionSet: 'ReadOnlyAccess' }));
    // bob's permanent ReadOnlyAccess there is held right now by his grant (an unmanaged holder).
    const bobGrant = await b.activate('bob', { account: '444444444444', permissionSet: 'ReadOnlyAccess' }, 'PT1H');
    expect(bobGrant.coveredByExistingAccess).toBe(true);
    const bobKey = assignmentKey(bobGrant.principal, bobGrant.target);

    const { run, log } = reconcile(runtime);
    const report = await run();
    expect(report.removeUnmanaged).toBe(true);
    expect(itemsFor(report, daveKey).map((i) => i.kind)).toEqual(['unmanaged-removed']);
    expect(b.hasAssignment('dave', '444444444444', 'ReadOnlyAccess')).toBe(false);
    expect(await b.runtime.store.getHolder(daveKey)).toBeUndefined();
    expect(log.lines.find((l) => l.fields?.key === daveKey)).toMatchObject({ level: 'WARN', fields: { metric: 'UnmanagedAccessRemoved' } });

    expect(itemsFor(report, bobKey)).toEqual([expect.objectContaining({ kind: 'unmanaged', grantIds: [bobGrant.id] })]);
    expect(b.hasAssignment('bob', '444444444444', 'ReadOnlyAccess')).toBe(true);
    expect((await b.runtime.store.get(bobGrant.id))?.status).toBe('ACTIVE');
  });
});
