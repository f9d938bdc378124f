/**
 * Grant and revoke workflows end to end on the local cloud: the state machines from
 * serverless.yml (statemachines/*.asl.json), the task Lambdas, dynalite with the real
 * DynamoStore, and the Identity Center emulator with its asynchrony.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executionNames } from '../../lib/adapters/workflows.ts';
import { BEGIN_AT_ONCE } from '../../lib/ports/index.ts';
import { assignmentKey, type Grant } from '../../lib/domain/grant.ts';
import { workflowDeps } from '../../lib/composition/workflow.ts';
import { ConflictError } from '../../lib/errors.ts';
import { ActivationInProgress } from '../../lib/workflow/errors.ts';
import { beginRevocation } from '../../lib/workflow/revocation.ts';
import { SLOT_COUNT } from '../../lib/table/keys.ts';
import { executionCost, startWorkflowCloud, type WorkflowCloud } from './support/cloud.ts';

let cloud: WorkflowCloud;
beforeAll(async () => {
  cloud = await startWorkflowCloud();
}, 30_000);
afterAll(async () => {
  await cloud?.stop();
});

const hasAssignment = (userName: string, account: string, ps: string) =>
  cloud.idc.assignments().some((a) => a.principalId === cloud.idc.userId(userName) && a.accountId === account && a.permissionSetArn === cloud.idc.permissionSetArn(ps));
const isMember = (userName: string, group: string) =>
  cloud.idc.memberships().some((m) => m.userId === cloud.idc.userId(userName) && m.groupId === cloud.idc.groupId(group));
const ENDED = ['EXPIRED', 'REVOKED', 'FAILED'] as const;

async function activate(userName: string, target: Parameters<WorkflowCloud['approvedGrant']>[1], duration: string): Promise<Grant> {
  const grant = await cloud.approvedGrant(userName, target, duration);
  await cloud.runtime.workflows.startGrant(grant);
  const active = await cloud.waitForStatus(grant.id, ['ACTIVE', 'FAILED']);
  expect(active.status, active.failureReason).toBe('ACTIVE');
  return active;
}

describe('grant lifecycle', () => {
  it('approve → ACTIVE with the assignment → expiry → EXPIRED with the assignment gone, within the cost budget', async () => {
    const active = await activate('carol', { account: '444444444444', permissionSet: 'PowerUserAccess' }, 'PT3S');
    expect(hasAssignment('carol', '444444444444', 'PowerUserAccess')).toBe(true);
    expect(active.activatedAt).toBeDefined();
    // The duration counts from when the activation began, fixed before any access existed.
    const activationBegan = active.history.find((h) => h.to === 'ACTIVATING')!.at;
    expect(Date.parse(active.expiresAt!) - Date.parse(activationBegan)).toBe(3000);
    expect(Date.parse(active.activatedAt!)).toBeLessThan(Date.parse(active.expiresAt!));

    const ended = await cloud.waitForStatus(active.id, ENDED);
    expect(ended.status).toBe('EXPIRED');
    expect(hasAssignment('carol', '444444444444', 'PowerUserAccess')).toBe(false);
    expect(Date.parse(ended.endedAt!)).toBeGreaterThanOrEqual(Date.parse(active.expiresAt!));
    expect(ended.history.map((h) => h.to)).toEqual(['PENDING_APPROVAL', 'APPROVED', 'ACTIVATING', 'ACTIVE', 'REVOKING', 'EXPIRED']);
    // The terminal write made by the state machine reads back like one made by the store.
    const expiredPage = await cloud.runtime.store.listByStatus('EXPIRED', { limit: 100 });
    expect(expiredPage.items.map((g) => g.id)).toContain(active.id);
    expect(await cloud.runtime.store.getHolder(assignmentKey(active.principal, active.target))).toBeUndefined();

    await cloud.sfn.idle();
    const runs = cloud.executionsOf(active.id);
    expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const total = runs.map(executionCost).reduce((a, c) => ({ transitions: a.transitions + c.transitions, lambdaInvocations: a.lambdaInvocations + c.lambdaInvocations }));
    expect(total.lambdaInvocations).toBeLessThanOrEqual(3);
    expect(total.transitions).toBeLessThanOrEqual(30);
  }, 30_000);

  it('group target: membership created, then removed at expiry', async () => {
    const active = await activate('bob', { group: 'BreakGlass' }, 'PT2S');
    expect(isMember('bob', 'BreakGlass')).toBe(true);
    const holder = await cloud.runtime.store.getHolder(assignmentKey(active.principal, active.target));
    expect(holder?.managed).toBe(true);
    const ended = await cloud.waitForStatus(active.id, ENDED);
    expect(ended.status).toBe('EXPIRED');
    expect(isMember('bob', 'BreakGlass')).toBe(false);
  }, 30_000);
});

describe('overlapping grants on one assignment (invariant 2)', () => {
  it('A expires → access stays for B; B expires → access gone', async () => {
    const a = await activate('dave', { account: '555555555555', permissionSet: 'ReadOnlyAccess' }, 'PT2S');
    const b = await activate('dave', { account: '555555555555', permissionSet: 'ReadOnlyAccess' }, 'PT6S');
    expect(await cloud.waitForStatus(a.id, ENDED)).toMatchObject({ status: 'EXPIRED' });
    expect(hasAssignment('dave', '555555555555', 'ReadOnlyAccess')).toBe(true);
    expect((await cloud.runtime.store.get(b.id))?.status).toBe('ACTIVE');
    // The slot A's revocation tried while it left the holder went straight back: nothing to delete.
    expect(await cloud.slotOwners()).not.toContain(`revoke#${a.id}`);
    expect(await cloud.waitForStatus(b.id, ENDED)).toMatchObject({ status: 'EXPIRED' });
    expect(hasAssignment('dave', '555555555555', 'ReadOnlyAccess')).toBe(false);
  }, 30_000);

  it('a revocation that cannot leave the holder keeps no slot: its task fails (and is retried), the slot it tried goes back', async () => {
    const grant = await activate('bob', { account: '555555555555', permissionSet: 'PowerUserAccess' }, 'PT1H');
    const deps = workflowDeps(cloud.runtime);
    const store = new Proxy(deps.store, {
      get: (target, name, receiver) =>
        name === 'leaveHolder'
          ? async () => {
              throw Object.assign(new Error('Internal server error'), { name: 'InternalServerError' });
            }
          : Reflect.get(target, name, receiver),
    });
    await expect(beginRevocation({ ...deps, store }, { grantId: grant.id, mode: 'early' })).rejects.toThrow('Internal server error');
    expect(await cloud.slotOwners()).not.toContain(`revoke#${grant.id}`);
    // The retry (here a fresh execution) finds REVOKING and finishes the job.
    await cloud.runtime.workflows.startRevoke((await cloud.runtime.store.get(grant.id))!, 'early');
    expect(await cloud.waitForStatus(grant.id, ENDED)).toMatchObject({ status: 'REVOKED' });
    expect(hasAssignment('bob', '555555555555', 'PowerUserAccess')).toBe(false);
  }, 30_000);

  it('early revoke of A while B is active → access stays', async () => {
    const a = await activate('alice', { account: '333333333333', permissionSet: 'ReadOnlyAccess' }, 'PT1H');
    const b = await activate('alice', { account: '333333333333', permissionSet: 'ReadOnlyAccess' }, 'PT1H');
    // What GrantService.revoke does: REVOKING with the reason, then the early revoke workflow.
    const revoking = await cloud.runtime.store.transition({ current: a, to: 'REVOKING', set: { revokeReason: 'done early' }, entry: { at: new Date().toISOString(), actor: { id: 'alice', name: 'alice' }, action: 'revoke requested' } });
    await cloud.runtime.workflows.startRevoke(revoking, 'early');
    expect(await cloud.waitForStatus(a.id, ENDED)).toMatchObject({ status: 'REVOKED' });
    expect(hasAssignment('alice', '333333333333', 'ReadOnlyAccess')).toBe(true);
    const holder = await cloud.runtime.store.getHolder(assignmentKey(b.principal, b.target));
    expect(holder?.grantIds).toEqual([b.id]);
  }, 30_000);
});

describe('pre-existing access (invariant 3)', () => {
  it('an assignment that existed before the grant survives its expiry', async () => {
    expect(hasAssignment('bob', '444444444444', 'ReadOnlyAccess')).toBe(true);
    const active = await activate('bob', { account: '444444444444', permissionSet: 'ReadOnlyAccess' }, 'PT2S');
    expect(active.coveredByExistingAccess).toBe(true);
    expect(cloud.idc.operations().filter((o) => o.principalId === cloud.idc.userId('bob') && o.accountId === '444444444444')).toEqual([]);
    expect(await cloud.waitForStatus(active.id, ENDED)).toMatchObject({ status: 'EXPIRED' });
    expect(hasAssignment('bob', '444444444444', 'ReadOnlyAccess')).toBe(true);
    expect(await cloud.slotOwners()).not.toContain(`revoke#${active.id}`);
    expect(await cloud.runtime.store.getHolder(assignmentKey(active.principal, active.target))).toBeUndefined();
  }, 30_000);

  it('a membership that existed before the grant survives its expiry', async () => {
    expect(isMember('carol', 'Developers')).toBe(true);
    const active = await activate('carol', { group: 'Developers' }, 'PT2S');
    expect(active.coveredByExistingAccess).toBe(true);
    expect(await cloud.waitForStatus(active.id, ENDED)).toMatchObject({ status: 'EXPIRED' });
    expect(isMember('carol', 'Developers')).toBe(true);
  }, 30_000);
});

describe('repeats and failures', () => {
  it('double start and double revoke fire have no second effect', async () => {
    const grant = await cloud.approvedGrant('dave', { account: '666666666666', permissionSet: 'ReadOnlyAccess' }, 'PT1H');
    await Promise.all([cloud.runtime.workflows.startGrant(grant), cloud.runtime.workflows.startGrant(grant)]);
    const active = await cloud.waitForStatus(grant.id, ['ACTIVE', 'FAILED']);
    expect(active.status).toBe('ACTIVE');
    await cloud.runtime.workflows.startGrant(grant); // after it closed: ExecutionAlreadyExists, swallowed
    const expired = { ...active, expiresAt: new Date(Date.now() - 1000).toISOString() };
    const current = await cloud.runtime.store.transition({ current: active, to: 'ACTIVE', set: { expiresAt: expired.expiresAt }, entry: { at: new Date().toISOString(), actor: { id: 'test', name: 'test' }, action: 'clock moved' } });
    // The schedule fires twice (at-least-once delivery) and the sweeper starts its own run under another name.
    await Promise.all([
      cloud.runtime.workflows.startRevoke(current, 'expiry'),
      cloud.runtime.workflows.startRevoke(current, 'expiry'),
      Promise.resolve(cloud.sfn.startExecution(cloud.revokeMachineArn, `revoke-${grant.id}-sweep-1`, JSON.stringify({ grantId: grant.id, expiresAt: current.expiresAt, mode: 'sweep', beginAt: BEGIN_AT_ONCE }))),
    ]);
    const ended = await cloud.waitForStatus(grant.id, ENDED);
    await cloud.sfn.idle();
    expect(ended.status).toBe('EXPIRED');
    expect(ended.history.filter((h) => h.to === 'REVOKING')).toHaveLength(1);
    expect(ended.history.filter((h) => h.to === 'EXPIRED')).toHaveLength(1);
    expect(ended.history.filter((h) => h.to === 'ACTIVATING')).toHaveLength(1);
    const ops = cloud.idc.operations().filter((o) => o.principalId === cloud.idc.userId('dave') && o.accountId === '666666666666');
    expect(ops.filter((o) => o.kind === 'CREATE')).toHaveLength(1);
    expect(ops.filter((o) => o.kind === 'DELETE' && o.status === 'SUCCEEDED')).toHaveLength(1);
    expect(hasAssignment('dave', '666666666666', 'ReadOnlyAccess')).toBe(false);
    expect(cloud.executionsOf(grant.id).every((e) => e.status === 'SUCCEEDED')).toBe(true);
  }, 30_000);

  it('a FAILED creation → grant FAILED with a reason the requester can act on, no holder, slot free', async () => {
    cloud.idc.setKnobs({ faults: [{ operations: ['CreateAccountAssignment'], accountId: '222222222222', effect: { type: 'fail' } }] });
    try {
      const grant = await cloud.approvedGrant('carol', { account: '222222222222', permissionSet: 'ReadOnlyAccess' }, 'PT1H');
      await cloud.runtime.workflows.startGrant(grant);
      const failed = await cloud.waitForStatus(grant.id, ['FAILED', 'ACTIVE']);
      expect(failed.status).toBe('FAILED');
      expect(failed.failureReason).toMatch(/IAM role quota.*remove unused roles.*request again/);
      expect(failed.history.at(-1)?.detail).toContain('Request failed because the IAM role quota');
      expect(await cloud.runtime.store.getHolder(assignmentKey(grant.principal, grant.target))).toBeUndefined();
      expect(hasAssignment('carol', '222222222222', 'ReadOnlyAccess')).toBe(false);
      expect(await cloud.slotOwners()).toEqual([]);
    } finally {
      cloud.idc.setKnobs({ faults: [] });
    }
  }, 30_000);
});

describe('extension racing expiry', () => {
  const extend = (grant: Grant, expiresAt: string) =>
    cloud.runtime.store.transition({ current: grant, to: 'ACTIVE', set: { expiresAt }, entry: { at: new Date().toISOString(), actor: { id: 'u', name: 'u' }, action: 'extended' } });

  it('extension first: the stale revoke stops, the access stays until the new expiry', async () => {
    const active = await activate('bob', { account: '555555555555', permissionSet: 'PowerUserAccess' }, 'PT1H');
    const stale = { ...active, expiresAt: new Date(Date.now() - 1000).toISOString() };
    const extended = await extend(active, new Date(Date.now() + 3000).toISOString());
    await cloud.runtime.workflows.startRevoke(stale, 'expiry'); // the old schedule's fire
    await cloud.sfn.idle();
    expect((await cloud.runtime.store.get(active.id))?.status).toBe('ACTIVE');
    expect(hasAssignment('bob', '555555555555', 'PowerUserAccess')).toBe(true);
    await cloud.runtime.workflows.scheduleRevocation(extended); // what extend does: the new expiry's revoke
    expect(await cloud.waitForStatus(active.id, ENDED)).toMatchObject({ status: 'EXPIRED' });
    expect(hasAssignment('bob', '555555555555', 'PowerUserAccess')).toBe(false);
  }, 30_000);

  it('concurrent: either the extension wins and access stays, or it gets a conflict and the grant expires', async () => {
    const active = await activate('carol', { account: '555555555555', permissionSet: 'AdministratorAccess' }, 'PT1H');
    const due = await extend(active, new Date(Date.now() - 500).toISOString()); // now due
    const [extension] = await Promise.allSettled([extend(due, new Date(Date.now() + 60_000).toISOString()), cloud.runtime.workflows.startRevoke(due, 'expiry')]);
    await cloud.sfn.idle();
    const after = await cloud.runtime.store.get(active.id);
    if (extension.status === 'fulfilled') {
      expect(after?.status).toBe('ACTIVE');
      expect(hasAssignment('carol', '555555555555', 'AdministratorAccess')).toBe(true);
    } else {
      expect(extension.reason).toBeInstanceOf(ConflictError);
      expect(after?.status).toBe('EXPIRED');
      expect(hasAssignment('carol', '555555555555', 'AdministratorAccess')).toBe(false);
    }
  }, 30_000);
});

describe('a revocation begun ahead of its expiry', () => {
  const setExpiry = (grant: Grant, expiresAt: string) =>
    cloud.runtime.store.transition({ current: grant, to: grant.status, set: { expiresAt }, entry: { at: new Date().toISOString(), actor: { id: 'u', name: 'u' }, action: 'expiry set' } });

  it('writes nothing before the expiry: the grant stays ACTIVE with its access until then, REVOKING and the delete come after it', async () => {
    const active = await activate('alice', { account: '666666666666', permissionSet: 'AdministratorAccess' }, 'PT1H');
    const expiresAt = new Date(Date.now() + 3000).toISOString();
    const due = await setExpiry(active, expiresAt);
    // beginAt is expiresAt − 5 s, already past: the task begins at once and waits inside.
    await cloud.runtime.workflows.startRevoke(due, 'expiry');
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(expiresAt) - Date.now() - 600)));
    const revocation = cloud.executionsOf(active.id).find((r) => r.name.startsWith('revoke-'));
    expect(revocation?.history.some((e) => e.type === 'TaskStateEntered' && e.details?.value.name === 'BeginRevocation')).toBe(true);
    expect((await cloud.runtime.store.get(active.id))?.status).toBe('ACTIVE');
    expect(hasAssignment('alice', '666666666666', 'AdministratorAccess')).toBe(true);
    expect(Date.now(), 'the checks above ran before the expiry').toBeLessThan(Date.parse(expiresAt));

    const ended = await cloud.waitForStatus(active.id, ENDED);
    expect(ended.status).toBe('EXPIRED');
    const revoking = ended.history.find((h) => h.to === 'REVOKING')!;
    expect(Date.parse(revoking.at)).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    const deletion = cloud.idc.operations().find((o) => o.kind === 'DELETE' && o.principalId === active.principal.userId && o.accountId === '666666666666');
    expect(deletion).toBeDefined();
    expect(deletion!.createdAt).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    expect(hasAssignment('alice', '666666666666', 'AdministratorAccess')).toBe(false);
  }, 30_000);

  it('takes the slot for its delete in the half second before the expiry, trying again while every slot is busy: at the expiry BeginRevocation deletes at once, with no wait in the line', async () => {
    const active = await activate('dave', { account: '666666666666', permissionSet: 'AdministratorAccess' }, 'PT1H');
    const slots = workflowDeps(cloud.runtime).slots;
    const occupants = [];
    for (let i = 0; i < SLOT_COUNT; i++) occupants.push(await slots.tryAcquire(`test#occupant-${i}`, 3600_000));
    expect(occupants.every(Boolean), 'every slot taken by the test').toBe(true);
    try {
      const expiresAt = new Date(Date.now() + 4000).toISOString();
      const due = await setExpiry(active, expiresAt);
      await cloud.runtime.workflows.startRevoke(due, 'expiry');
      await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(expiresAt) - Date.now() - 900)));
      expect(await cloud.slotOwners(), 'every slot still busy').not.toContain(`revoke#${active.id}`);
      await slots.release(occupants[0]!);
      let owners: string[] = [];
      while (Date.now() < Date.parse(expiresAt) - 50 && !(owners = await cloud.slotOwners()).includes(`revoke#${active.id}`)) await new Promise((r) => setTimeout(r, 20));
      expect(owners, 'the freed slot is the revocation\'s before the expiry').toContain(`revoke#${active.id}`);
      expect(Date.now()).toBeLessThan(Date.parse(expiresAt));
      expect((await cloud.runtime.store.get(active.id))?.status).toBe('ACTIVE');
      expect(hasAssignment('dave', '666666666666', 'AdministratorAccess')).toBe(true);

      const ended = await cloud.waitForStatus(active.id, ENDED);
      expect(ended.status).toBe('EXPIRED');
      const revocation = cloud.executionsOf(active.id).find((r) => r.name.startsWith('revoke-'))!;
      const entered = revocation.history.filter((e) => e.type === 'TaskStateEntered').map((e) => e.details?.value.name);
      expect(entered).not.toContain('WaitForDeleteSlot');
      expect(entered).not.toContain('DeleteAssignment');
      const deletion = cloud.idc.operations().find((o) => o.kind === 'DELETE' && o.principalId === active.principal.userId && o.accountId === '666666666666' && o.permissionSetArn === cloud.idc.permissionSetArn('AdministratorAccess'));
      expect(deletion!.createdAt).toBeGreaterThanOrEqual(Date.parse(expiresAt));
      expect(hasAssignment('dave', '666666666666', 'AdministratorAccess')).toBe(false);
      expect(await cloud.slotOwners()).not.toContain(`revoke#${active.id}`);
    } finally {
      for (let i = 0; i < SLOT_COUNT; i++) await slots.releaseOwnedBy(`test#occupant-${i}`);
    }
  }, 30_000);

  it('an extension while it waits for the expiry wins: the access stays', async () => {
    const active = await activate('bob', { account: '666666666666', permissionSet: 'AdministratorAccess' }, 'PT1H');
    const expiresAt = new Date(Date.now() + 2500).toISOString();
    const due = await setExpiry(active, expiresAt);
    await cloud.runtime.workflows.startRevoke(due, 'expiry');
    await new Promise((r) => setTimeout(r, 1000));
    await setExpiry(due, new Date(Date.now() + 600_000).toISOString());
    expect(Date.now(), 'extended before the expiry').toBeLessThan(Date.parse(expiresAt));
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(expiresAt) - Date.now() + 1500)));
    await cloud.sfn.idle();
    expect((await cloud.runtime.store.get(active.id))?.status).toBe('ACTIVE');
    expect(hasAssignment('bob', '666666666666', 'AdministratorAccess')).toBe(true);
    expect(await cloud.slotOwners()).not.toContain(`revoke#${active.id}`);
  }, 30_000);

  it('every revocation begins with its one wait: an early revoke, whose beginAt is long past, goes on at once', async () => {
    const active = await activate('dave', { account: '666666666666', permissionSet: 'ReadOnlyAccess' }, 'PT1H');
    await cloud.runtime.workflows.startRevoke(active, 'early');
    const ended = await cloud.waitForStatus(active.id, ENDED);
    expect(ended.status).toBe('REVOKED');
    expect(hasAssignment('dave', '666666666666', 'ReadOnlyAccess')).toBe(false);
    const revocation = cloud.executionsOf(active.id).find((r) => r.name === executionNames.earlyRevoke(active.id))!;
    const input = JSON.parse(revocation.input) as { beginAt?: string };
    expect(input.beginAt).toBe(BEGIN_AT_ONCE);
    const entered = revocation.history.filter((e) => e.type.endsWith('StateEntered')).map((e) => e.details?.value.name);
    expect(entered.slice(0, 2)).toEqual(['WaitUntilBeginAt', 'BeginRevocation']);
    const waitedMs = revocation.history.find((e) => e.type === 'WaitStateExited')!.timestamp - revocation.history.find((e) => e.type === 'WaitStateEntered')!.timestamp;
    expect(waitedMs).toBeLessThan(1000);
  }, 30_000);

  it('finds the grant still activating: it decides at the expiry (waits for the activation), not before', async () => {
    const approved = await cloud.approvedGrant('carol', { account: '666666666666', permissionSet: 'ReadOnlyAccess' }, 'PT1H');
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    const activating = await cloud.runtime.store.transition({ current: approved, to: 'ACTIVATING', set: { expiresAt }, entry: { at: new Date().toISOString(), actor: { id: 'system:workflow', name: 'wf' }, action: 'activating' } });
    await expect(beginRevocation(workflowDeps(cloud.runtime), { grantId: activating.id, expiresAt, mode: 'expiry' })).rejects.toBeInstanceOf(ActivationInProgress);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    expect((await cloud.runtime.store.get(activating.id))?.status).toBe('ACTIVATING');
  }, 30_000);
});

describe('names', () => {
  it('the revoke execution is named after the grant and the expiry it enforces', () => {
    expect(executionNames.revoke('01ABC', '2026-01-01T00:00:00.000Z')).toBe('revoke-01ABC-1767225600');
  });
});
