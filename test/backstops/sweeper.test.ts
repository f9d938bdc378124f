/**
 * The sweeper on the local cloud: lost schedules, failed revoke executions, concurrent
 * sweeps and scheduled fires, approval expiry, activations that never ran.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSweeper } from '../../lib/composition/backstops.ts';
import { sweepRevokeExecutionName, type SweepReport } from '../../lib/backstops/sweeper.ts';
import { addDuration } from '../../lib/domain/duration.ts';
import { assignmentKey, type Grant } from '../../lib/domain/grant.ts';
import { workflowDeps } from '../../lib/composition/workflow.ts';
import type { SlotLease } from '../../lib/ports/index.ts';
import { ENDED, memoryLog, startBackstopCloud, type BackstopCloud } from './support.ts';

let b: BackstopCloud;
beforeAll(async () => {
  b = await startBackstopCloud();
}, 60_000);
afterAll(async () => {
  await b?.stop();
});

const WINDOW_MS = 60_000;

function sweep(at: () => Date = () => new Date(), overrides: Parameters<BackstopCloud['env']>[0] = {}) {
  const log = memoryLog();
  const sweeper = createSweeper(b.runtimeAt(at), b.env(overrides), log);
  return { log, run: () => sweeper.run() };
}

const itemsOf = (report: SweepReport, grant: Grant) => report.items.filter((i) => i.grantId === grant.id);

/** Every slot leased to test occupants, once the earlier tests' workflows have given theirs back. */
async function holdEverySlot(): Promise<SlotLease[]> {
  await b.cloud.stepFunctions.idle();
  const held: SlotLease[] = [];
  for (let i = 0; i < 10; i++) {
    const lease = await workflowDeps(b.runtime).slots.tryAcquire(`test#occupant-${i}`, 3600_000);
    expect(lease, `slot ${i} is free`).toBeDefined();
    held.push(lease!);
  }
  return held;
}

describe('sweeper: ACTIVE grants past expiry (invariant 1)', () => {
  it('schedule deleted behind our back → the sweep revokes: assignment gone, grant EXPIRED', async () => {
    const active = await b.activate('carol', { account: '444444444444', permissionSet: 'PowerUserAccess' }, 'PT1H');
    expect(await b.revocationScheduleExists(active.id)).toBe(true);
    await b.deleteRevocationSchedule(active.id);
    const expired = await b.expireNow(active, 5 * 60_000);

    const { run, log } = sweep();
    const report = await run();
    expect(itemsOf(report, active).map((i) => i.action)).toEqual(['revoke-started']);
    expect(log.lines.find((l) => l.fields?.grantId === active.id)).toMatchObject({ level: 'WARN', fields: { metric: 'SweptExpiredGrant' } });

    const ended = await b.waitForStatus(active.id, ENDED);
    expect(ended.status).toBe('EXPIRED');
    expect(b.hasAssignment('carol', '444444444444', 'PowerUserAccess')).toBe(false);
    expect(ended.history.filter((h) => h.to === 'REVOKING')).toEqual([expect.objectContaining({ actor: expect.objectContaining({ id: 'system:sweeper' }) })]);
    expect(await b.runtime.store.getHolder(assignmentKey(expired.principal, expired.target))).toBeUndefined();
    expect(b.cloud.stepFunctions.listExecutionRecords().filter((e) => e.name.includes(active.id) && e.name.includes('-sweep-'))).toHaveLength(1);

    // A later sweep finds nothing left to do.
    const again = await sweep().run();
    expect(itemsOf(again, active)).toEqual([]);
  });

  it('leaves a grant alone while it is within the grace period after expiry', async () => {
    const active = await b.activate('dave', { account: '222222222222', permissionSet: 'ReadOnlyAccess' }, 'PT1H');
    await b.deleteRevocationSchedule(active.id);
    const justExpired = await b.expireNow(active, 10_000);
    const report = await sweep().run();
    expect(itemsOf(report, active)).toEqual([]);
    expect((await b.runtime.store.get(active.id))?.status).toBe('ACTIVE');
    // Clean up through the sweep a few minutes "later".
    await sweep(() => new Date(Date.now() + 5 * 60_000)).run();
    expect((await b.waitForStatus(justExpired.id, ENDED)).status).toBe('EXPIRED');
  });

  it('schedule lost AND earlier revoke executions FAILED → a later sweep still revokes', async () => {
    const active = await b.activate('bob', { account: '555555555555', permissionSet: 'ReadOnlyAccess' }, 'PT1H');
    await b.deleteRevocationSchedule(active.id);
    const expired = await b.expireNow(active, 10 * 60_000);
    const bob = b.cloud.idc.userId('bob');
    const t0 = Math.ceil(Date.now() / WINDOW_MS) * WINDOW_MS + 1000; // a window that starts after the REVOKING write
    b.cloud.idc.setKnobs({ faults: [{ operations: ['DeleteAccountAssignment'], principalId: bob, accountId: '555555555555', effect: { type: 'fail', reason: 'injected deletion failure' } }] });
    try {
      // The scheduled fire (late) runs and fails: grant REVOKING, holder DELETING, name taken for 90 days.
      await b.runtime.workflows.startRevoke(expired, 'expiry');
      await b.cloud.stepFunctions.idle();
      expect((await b.runtime.store.get(active.id))?.status).toBe('REVOKING');

      // A sweep in window w0 (REVOKING grace 0 for the test) tries and fails too.
      const first = await sweep(() => new Date(t0), { SWEEP_REVOKING_GRACE_SECONDS: 0 }).run();
      expect(itemsOf(first, active).map((i) => i.action)).toEqual(['revoke-restarted']);
      await b.cloud.stepFunctions.idle();
      const failedRuns = b.cloud.stepFunctions.listExecutionRecords().filter((e) => e.name.includes(active.id) && e.status === 'FAILED');
      expect(failedRuns.map((e) => e.name).sort()).toEqual([`revoke-${active.id}-${Math.floor(Date.parse(expired.expiresAt!) / 1000)}`, sweepRevokeExecutionName(active.id, new Date(t0), WINDOW_MS)].sort());
    } finally {
      b.cloud.idc.setKnobs({ faults: [] });
    }
    expect(b.hasAssignment('bob', '555555555555', 'ReadOnlyAccess')).toBe(true);

    // Same window: the name is taken by the failed attempt; nothing new starts.
    const same = await sweep(() => new Date(t0 + 1000), { SWEEP_REVOKING_GRACE_SECONDS: 0 }).run();
    expect(itemsOf(same, active).map((i) => i.action)).toEqual(['revoke-already-attempted']);

    // Next window: a fresh name, and the revoke finishes the job.
    const next = await sweep(() => new Date(t0 + WINDOW_MS), { SWEEP_REVOKING_GRACE_SECONDS: 0 }).run();
    expect(itemsOf(next, active).map((i) => i.action)).toEqual(['revoke-restarted']);
    const ended = await b.waitForStatus(active.id, ENDED);
    expect(ended.status).toBe('EXPIRED');
    expect(b.hasAssignment('bob', '555555555555', 'ReadOnlyAccess')).toBe(false);
    expect(await b.runtime.store.getHolder(assignmentKey(active.principal, active.target))).toBeUndefined();
    expect(ended.history.filter((h) => h.to === 'REVOKING')).toHaveLength(1);
  });

  it('two sweeps at once (even across a window boundary) and the scheduled fire → one effect', async () => {
    const active = await b.activate('alice', { account: '666666666666', permissionSet: 'PowerUserAccess' }, 'PT1H');
    await b.deleteRevocationSchedule(active.id);
    const expired = await b.expireNow(active, 5 * 60_000);
    const boundary = Math.ceil(Date.now() / WINDOW_MS) * WINDOW_MS;
    const reports = await Promise.all([
      sweep(() => new Date(boundary - 1)).run(),
      sweep(() => new Date(boundary - 1)).run(),
      sweep(() => new Date(boundary + 1)).run(),
      b.runtime.workflows.startRevoke(expired, 'expiry').then(() => undefined),
    ]);
    // A sweep that lists the scheduled run as running leaves the grant to it; one that does not starts its own.
    const attempts = reports.flatMap((r) => (r ? itemsOf(r, active) : []));
    expect(attempts.every((i) => i.action === 'revoke-started' || i.action === 'revoke-already-attempted')).toBe(true);

    const ended = await b.waitForStatus(active.id, ENDED);
    await b.cloud.stepFunctions.idle();
    expect(ended.status).toBe('EXPIRED');
    const final = (await b.runtime.store.get(active.id))!;
    expect(final.history.filter((h) => h.to === 'REVOKING')).toHaveLength(1);
    expect(final.history.filter((h) => h.to === 'EXPIRED')).toHaveLength(1);
    const ops = b.cloud.idc.operations().filter((o) => o.principalId === b.cloud.idc.userId('alice') && o.accountId === '666666666666');
    expect(ops.filter((o) => o.kind === 'DELETE')).toHaveLength(1);
    expect(b.hasAssignment('alice', '666666666666', 'PowerUserAccess')).toBe(false);
    const runs = b.cloud.stepFunctions.listExecutionRecords().filter((e) => e.name.includes(active.id) && e.name.startsWith('revoke-'));
    // Up to three names (two windows + the schedule's); every run succeeded, one of them did the work.
    expect(new Set(runs.map((r) => r.name)).size).toBe(runs.length);
    expect(runs.length).toBe(1 + new Set(attempts.filter((i) => i.action === 'revoke-started').map((i) => i.detail)).size);
    expect(runs.every((r) => r.status === 'SUCCEEDED')).toBe(true);
    expect(await b.runtime.store.getHolder(assignmentKey(active.principal, active.target))).toBeUndefined();
  });
});

describe('sweeper: workflows that died', () => {
  it('a revocation killed while REVOKING is started again by the next sweep, 10 s on; a running one is left alone', async () => {
    const active = await b.activate('alice', { account: '222222222222', permissionSet: 'PowerUserAccess' }, 'PT1H');
    await b.deleteRevocationSchedule(active.id);
    const expired = await b.expireNow(active, 1_000);
    // Every slot held by someone else: the revoke reaches REVOKING and waits for a slot, access still in place.
    const slots = workflowDeps(b.runtime).slots;
    const held = await holdEverySlot();
    expect(new Set(held.map((l) => l?.slot)).size).toBe(10);
    try {
      await b.runtime.workflows.startRevoke(expired, 'expiry');
      await b.waitForStatus(active.id, ['REVOKING']);
      const run = b.cloud.stepFunctions.listExecutionRecords().find((e) => e.name.startsWith(`revoke-${active.id}-`) && e.status === 'RUNNING')!;
      expect(run).toBeDefined();

      // Alive, however long it waits: no second revoke.
      const whileAlive = await sweep(() => new Date(Date.now() + 10 * 60_000)).run();
      expect(itemsOf(whileAlive, active)).toEqual([]);

      b.cloud.stepFunctions.stopExecution(run.executionArn, 'Killed', 'the container died');
      await b.cloud.stepFunctions.waitForExecution(run.executionArn);
      expect(b.hasAssignment('alice', '222222222222', 'PowerUserAccess')).toBe(true);

      // Dead, but REVOKING for less than 10 s: not yet.
      const early = await sweep(() => new Date(Date.now() + 2_000)).run();
      expect(itemsOf(early, active)).toEqual([]);
    } finally {
      for (const lease of held) await slots.release(lease);
    }
    const next = await sweep(() => new Date(Date.now() + 11_000)).run();
    expect(itemsOf(next, active).map((i) => i.action)).toEqual(['revoke-restarted']);
    const ended = await b.waitForStatus(active.id, ENDED);
    expect(ended.status).toBe('EXPIRED');
    expect(b.hasAssignment('alice', '222222222222', 'PowerUserAccess')).toBe(false);
    expect(ended.history.filter((h) => h.to === 'REVOKING')).toHaveLength(1);
  });

  it('an ACTIVE grant past expiry whose revoke is running is left to that revoke', async () => {
    const active = await b.activate('bob', { account: '333333333333', permissionSet: 'ReadOnlyAccess' }, 'PT1H');
    await b.deleteRevocationSchedule(active.id);
    const expired = await b.expireNow(active, 60_000);
    const slots = workflowDeps(b.runtime).slots;
    const held = await holdEverySlot();
    try {
      await b.runtime.workflows.startRevoke(expired, 'expiry');
      const report = await sweep().run();
      expect(itemsOf(report, active)).toEqual([]);
    } finally {
      for (const lease of held) await slots.release(lease);
    }
    expect((await b.waitForStatus(active.id, ENDED)).status).toBe('EXPIRED');
    expect(b.cloud.stepFunctions.listExecutionRecords().filter((e) => e.name.includes(active.id) && e.name.includes('-sweep-'))).toHaveLength(0);
  });
});

describe('sweeper: killed activations', () => {
  it('an activation killed mid-way: its expiry and revocation were fixed before any access, the sweep resumes it 20 s on, and the access ends at that expiry', async () => {
    const slots = workflowDeps(b.runtime).slots;
    const held = await holdEverySlot();
    const now = new Date().toISOString();
    const grant = await b.putGrant('dave', { account: '555555555555', permissionSet: 'PowerUserAccess' }, { status: 'APPROVED', duration: 'PT1H' }, [
      { at: now, action: 'requested', from: null, to: 'PENDING_APPROVAL' },
      { at: now, action: 'auto-approved', from: 'PENDING_APPROVAL', to: 'APPROVED' },
    ]);
    let activating: Grant;
    try {
      await b.runtime.workflows.startGrant(grant);
      activating = await b.waitForStatus(grant.id, ['ACTIVATING']);
      // Fixed before any access: the expiry, and the revocation that enforces it.
      expect(activating.expiresAt).toBeDefined();
      expect(Date.parse(activating.expiresAt!) - Date.parse(activating.history.at(-1)!.at)).toBe(3600_000);
      for (let i = 0; i < 100 && !(await b.revocationScheduleExists(grant.id)); i++) await new Promise((r) => setTimeout(r, 20));
      expect(await b.revocationScheduleExists(grant.id)).toBe(true);
      expect(b.hasAssignment('dave', '555555555555', 'PowerUserAccess')).toBe(false);

      const run = b.cloud.stepFunctions.listExecutionRecords().find((e) => e.name === `grant-${grant.id}` && e.status === 'RUNNING')!;
      b.cloud.stepFunctions.stopExecution(run.executionArn, 'Killed', 'the container died');
      await b.cloud.stepFunctions.waitForExecution(run.executionArn);
    } finally {
      for (const lease of held) await slots.release(lease);
    }
    // Not yet: ACTIVATING with no workflow for less than 20 s.
    expect(itemsOf(await sweep(() => new Date(Date.now() + 5_000)).run(), grant)).toEqual([]);
    const report = await sweep(() => new Date(Date.now() + 21_000)).run();
    expect(itemsOf(report, grant).map((i) => i.action)).toEqual(['activation-restarted']);
    const active = await b.waitForStatus(grant.id, ['ACTIVE', 'FAILED']);
    expect(active.status).toBe('ACTIVE');
    expect(active.expiresAt).toBe(activating!.expiresAt);
    expect(b.hasAssignment('dave', '555555555555', 'PowerUserAccess')).toBe(true);
  });
});

describe('sweeper: requests and activations', () => {
  it('PENDING_APPROVAL past pendingExpiresAt → APPROVAL_EXPIRED with its history entry; not yet due → untouched', async () => {
    const past = new Date(Date.now() - 60_000).toISOString();
    const due = await b.putGrant('bob', { account: '444444444444', permissionSet: 'ReadOnlyAccess' }, { status: 'PENDING_APPROVAL', pendingExpiresAt: past });
    const notDue = await b.putGrant('bob', { account: '444444444444', permissionSet: 'ReadOnlyAccess' }, { status: 'PENDING_APPROVAL', pendingExpiresAt: addDuration(new Date().toISOString(), 'PT1H') });
    const report = await sweep().run();
    expect(itemsOf(report, due).map((i) => i.action)).toEqual(['approval-expired']);
    expect(itemsOf(report, notDue)).toEqual([]);
    const expired = (await b.runtime.store.get(due.id))!;
    expect(expired.status).toBe('APPROVAL_EXPIRED');
    expect(expired.history.at(-1)).toMatchObject({ from: 'PENDING_APPROVAL', to: 'APPROVAL_EXPIRED', actor: { id: 'system:approval-expiry' } });
    expect((await b.runtime.store.get(notDue.id))?.status).toBe('PENDING_APPROVAL');
  });

  it('APPROVED whose grant workflow never started → started → ACTIVE', async () => {
    const approvedAt = new Date(Date.now() - 10 * 60_000).toISOString();
    const grant = await b.putGrant('carol', { group: 'BreakGlass' }, { status: 'APPROVED', duration: 'PT1H' }, [
      { at: approvedAt, action: 'requested', from: null, to: 'PENDING_APPROVAL' },
      { at: approvedAt, action: 'approved', from: 'PENDING_APPROVAL', to: 'APPROVED' },
    ]);
    const report = await sweep().run();
    expect(itemsOf(report, grant).map((i) => i.action)).toEqual(['activation-started']);
    expect((await b.waitForStatus(grant.id, ['ACTIVE', 'FAILED'])).status).toBe('ACTIVE');
    expect(b.isMember('carol', 'BreakGlass')).toBe(true);
  });

  it('APPROVED whose grant execution already closed → retried under a windowed name → ACTIVE', async () => {
    const id = ulid();
    // A closed `grant-<id>` execution (it ran before the grant existed, so it stopped at once).
    const first = await (await b.runtime.clients.sfn()).send(new StartExecutionCommand({ stateMachineArn: b.cloud.stateMachineArns.GrantStateMachine, name: `grant-${id}`, input: JSON.stringify({ grantId: id }) }));
    await b.cloud.stepFunctions.waitForExecution(first.executionArn!);
    const approvedAt = new Date(Date.now() - 10 * 60_000).toISOString();
    const grant = await b.putGrant('dave', { account: '444444444444', permissionSet: 'ReadOnlyAccess' }, { id, status: 'APPROVED' }, [
      { at: approvedAt, action: 'requested', from: null, to: 'PENDING_APPROVAL' },
      { at: approvedAt, action: 'approved', from: 'PENDING_APPROVAL', to: 'APPROVED' },
    ]);
    const report = await sweep().run();
    expect(itemsOf(report, grant)).toEqual([expect.objectContaining({ action: 'activation-started', detail: expect.stringContaining(`grant-${id}-retry-`) })]);
    expect((await b.waitForStatus(grant.id, ['ACTIVE', 'FAILED'])).status).toBe('ACTIVE');
    expect(b.hasAssignment('dave', '444444444444', 'ReadOnlyAccess')).toBe(true);
  });

  it('ACTIVATING long after its workflow died → the workflow runs again and the grant ends up ACTIVE', async () => {
    const startedAt = new Date(Date.now() - 40 * 60_000).toISOString();
    const grant = await b.putGrant('carol', { account: '444444444444', permissionSet: 'ReadOnlyAccess' }, { status: 'ACTIVATING' }, [
      { at: startedAt, action: 'requested', from: null, to: 'PENDING_APPROVAL' },
      { at: startedAt, action: 'auto-approved', from: 'PENDING_APPROVAL', to: 'APPROVED' },
      { at: startedAt, action: 'activation started', from: 'APPROVED', to: 'ACTIVATING' },
    ]);
    const report = await sweep().run();
    expect(itemsOf(report, grant).map((i) => i.action)).toEqual(['activation-restarted']);
    expect((await b.waitForStatus(grant.id, ['ACTIVE', 'FAILED'])).status).toBe('ACTIVE');
    expect(b.hasAssignment('carol', '444444444444', 'ReadOnlyAccess')).toBe(true);
    // Within the same window a second sweep starts nothing new.
    expect(itemsOf(await sweep().run(), grant)).toEqual([]);
  });

  it('SCHEDULED past startsAt → started; APPROVED long past the give-up → FAILED with a reason', async () => {
    const startsAt = new Date(Date.now() - 7 * 60_000).toISOString();
    const scheduled = await b.putGrant('dave', { account: '333333333333', permissionSet: 'ReadOnlyAccess' }, { status: 'SCHEDULED', startsAt });
    const longAgo = new Date(Date.now() - 3 * 3600_000).toISOString();
    const abandoned = await b.putGrant('dave', { account: '333333333333', permissionSet: 'PowerUserAccess' }, { status: 'APPROVED' }, [
      { at: longAgo, action: 'requested', from: null, to: 'PENDING_APPROVAL' },
      { at: longAgo, action: 'approved', from: 'PENDING_APPROVAL', to: 'APPROVED' },
    ]);
    const report = await sweep().run();
    expect(itemsOf(report, scheduled).map((i) => i.action)).toEqual(['activation-started']);
    expect(itemsOf(report, abandoned).map((i) => i.action)).toEqual(['activation-failed']);
    expect((await b.waitForStatus(scheduled.id, ['ACTIVE', 'FAILED'])).status).toBe('ACTIVE');
    const failed = (await b.runtime.store.get(abandoned.id))!;
    expect(failed.status).toBe('FAILED');
    expect(failed.failureReason).toMatch(/could not be set up.*request again/);
    expect(failed.history.at(-1)).toMatchObject({ from: 'APPROVED', to: 'FAILED', actor: { id: 'system:sweeper' } });
    expect(b.hasAssignment('dave', '333333333333', 'PowerUserAccess')).toBe(false);
  });

  it('stops at its action budget and reports an incomplete run; the next run carries on', async () => {
    const past = new Date(Date.now() - 60_000).toISOString();
    const grants = await Promise.all([0, 1, 2].map(() => b.putGrant('carol', { group: 'Developers' }, { status: 'PENDING_APPROVAL', pendingExpiresAt: past })));
    const first = await sweep(undefined, { SWEEP_MAX_ACTIONS: 2, SWEEP_PAGE_SIZE: 1 }).run();
    expect(first.complete).toBe(false);
    expect(first.counts['approval-expired']).toBe(2);
    const second = await sweep().run();
    expect(second.complete).toBe(true);
    for (const g of grants) expect((await b.runtime.store.get(g.id))?.status).toBe('APPROVAL_EXPIRED');
  });
});
