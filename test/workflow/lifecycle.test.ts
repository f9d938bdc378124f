import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkflowCloud, type WorkflowCloud } from './support/cloud.ts';

let cloud: WorkflowCloud;
beforeAll(async () => {
  cloud = await startWorkflowCloud();
}, 30_000);
afterAll(async () => {
  await cloud?.stop();
});

const hasAssignment = (userName: string, account: string, ps: string) =>
  cloud.idc.assignments().some((a) => a.principalId === cloud.idc.userId(userName) && a.accountId === account && a.permissionSetArn === cloud.idc.permissionSetArn(ps));

describe('grant lifecycle', () => {
  it('approve → ACTIVE with the assignment → expiry → EXPIRED with the assignment gone', async () => {
    const grant = await cloud.approvedGrant('carol', { account: '444444444444', permissionSet: 'PowerUserAccess' }, 'PT3S');
    await cloud.runtime.workflows.startGrant(grant);
    const active = await cloud.waitForStatus(grant.id, ['ACTIVE', 'FAILED']);
    expect(active.status).toBe('ACTIVE');
    expect(hasAssignment('carol', '444444444444', 'PowerUserAccess')).toBe(true);
    const ended = await cloud.waitForStatus(grant.id, ['EXPIRED', 'FAILED', 'REVOKED']);
    expect(ended.status).toBe('EXPIRED');
    expect(hasAssignment('carol', '444444444444', 'PowerUserAccess')).toBe(false);
    expect(ended.history.map((h) => h.to)).toEqual(['PENDING_APPROVAL', 'APPROVED', 'ACTIVATING', 'ACTIVE', 'REVOKING', 'EXPIRED']);
  }, 30_000);
});
