/**
 * Throttling storm: 200 grants approved at once against Identity Center's real quotas
 * (20 TPS collective throttle, 10 outstanding async operations). Every grant must end
 * ACTIVE, none FAILED; the slot leases keep the system within the 10-operation quota.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { assignmentKey, type Grant } from '../../lib/domain/grant.ts';
import { startWorkflowCloud, type TargetSpec, type WorkflowCloud } from './support/cloud.ts';

let cloud: WorkflowCloud;
beforeAll(async () => {
  // The emulator's defaults are the real service: 20 TPS, 10 outstanding, 300–1500 ms provisioning.
  cloud = await startWorkflowCloud({ knobs: { provisioningDelayMs: { minMs: 300, maxMs: 1500 } } });
}, 30_000);
afterAll(async () => {
  await cloud?.stop();
});

it('200 simultaneous grants: all ACTIVE, none FAILED, never more than 10 outstanding operations', async () => {
  const users = ['alice', 'bob', 'carol', 'dave'];
  const accounts = ['222222222222', '333333333333', '444444444444', '555555555555', '666666666666'];
  const permissionSets = ['AdministratorAccess', 'PowerUserAccess', 'ReadOnlyAccess'];
  const targets: Array<[string, TargetSpec]> = [];
  for (const user of users) {
    for (const account of accounts) for (const permissionSet of permissionSets) targets.push([user, { account, permissionSet }]);
    targets.push([user, { group: 'BreakGlass' }]);
  }
  // 64 distinct assignments/memberships; the rest overlap (several grants per holder).
  const grants: Grant[] = [];
  for (let i = 0; i < 200; i++) {
    const [user, target] = targets[i % targets.length]!;
    grants.push(await cloud.approvedGrant(user, target, 'PT1H'));
  }
  await Promise.all(grants.map((g) => cloud.runtime.workflows.startGrant(g)));
  const settled = await Promise.all(grants.map((g) => cloud.waitForStatus(g.id, ['ACTIVE', 'FAILED'], 180_000)));
  await cloud.sfn.idle();

  expect(settled.filter((g) => g.status !== 'ACTIVE').map((g) => `${g.failureReason} (${g.history.at(-1)?.detail})`)).toEqual([]);
  expect(cloud.idc.stats().quotaRejected).toBe(0);
  expect(await cloud.slotOwners()).toEqual([]);
  // One holder per distinct access, holding every grant on it.
  const keys = new Set(settled.map((g) => assignmentKey(g.principal, g.target)));
  for (const key of keys) {
    const holder = await cloud.runtime.store.getHolder(key);
    expect(holder?.grantIds.length).toBe(settled.filter((g) => assignmentKey(g.principal, g.target) === key).length);
  }
  for (const g of settled) {
    const t = g.target;
    const present =
      t.type === 'account'
        ? cloud.idc.assignments().some((a) => a.principalId === g.principal.userId && a.accountId === t.accountId && a.permissionSetArn === t.permissionSetArn)
        : cloud.idc.memberships().some((m) => m.userId === g.principal.userId && m.groupId === t.groupId);
    expect(present).toBe(true);
  }
}, 200_000);
