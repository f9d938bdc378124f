/**
 * End to end over HTTP on the local cloud (`npm start`'s composition): the
 * gateway checks real JWTs, the handlers write to dynalite, the real
 * statemachines/ files run on local Step Functions against the Identity Center
 * emulator, and the local Scheduler fires the revocation.
 * request → approve → ACTIVE (assignment exists) → expiry → EXPIRED (assignment gone).
 * Run from the sources and, as deployed, from the packaged artifacts with IAM enforced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud.ts';
import { httpClient, startFastLocalCloud } from '../support/local-cloud.ts';

export function lifecycleOverHttp(mode: { packaged: boolean }): void {
  let cloud: LocalCloud;
  const api = httpClient(() => cloud);

  beforeAll(async () => {
    cloud = await startFastLocalCloud({ packaged: mode.packaged, idcKnobs: { provisioningDelayMs: { minMs: 50, maxMs: 200 } } });
  }, 120_000);
  afterAll(async () => cloud?.stop());

  async function waitForStatus(id: string, as: string, wanted: string[], timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await api('GET', `/grants/${id}`, as);
      if (wanted.includes(res.body.status)) return res.body;
      if (Date.now() > deadline) throw new Error(`grant ${id} stayed ${res.body.status}; wanted ${wanted.join('|')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const hasAssignment = (userName: string, accountId: string, permissionSet: string) =>
    cloud.idc
      .assignments()
      .some((a) => a.accountId === accountId && a.permissionSetArn === cloud.idc.permissionSetArn(permissionSet) && a.principalId === cloud.idc.userId(userName));
  const isMember = (userName: string, group: string) =>
    cloud.idc.memberships().some((m) => m.groupId === cloud.idc.groupId(group) && m.userId === cloud.idc.userId(userName));

  describe(`request → approve → ACTIVE → expiry → EXPIRED over HTTP (${mode.packaged ? 'packaged, IAM enforced' : 'sources'})`, () => {
    it('refuses requests without a valid token before any handler runs', async () => {
      const res = await fetch(`${cloud.gatewayUrl}/grants`);
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      const forged = await fetch(`${cloud.gatewayUrl}/grants`, { headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.e30.' } });
      expect(forged.status).toBe(401);
    });

    it('runs the whole lifecycle of an approved account grant', async () => {
      const created = await api('POST', '/grants', 'bob@example.com', {
        target: { type: 'account', accountId: '555555555555', permissionSet: 'PowerUserAccess' },
        duration: 'PT4S',
        justification: 'deploy the fix',
      });
      expect(created.status).toBe(201);
      expect(created.body.status).toBe('PENDING_APPROVAL');
      const id = created.body.id as string;

      const refused = await api('POST', `/grants/${id}/approve`, 'carol@example.com', {});
      expect(refused.status).toBe(403);
      const approved = await api('POST', `/grants/${id}/approve`, 'dave@example.com', { comment: 'go' });
      expect(approved.status).toBe(200);

      const active = await waitForStatus(id, 'bob@example.com', ['ACTIVE', 'FAILED']);
      expect(active.status).toBe('ACTIVE');
      expect(hasAssignment('bob', '555555555555', 'PowerUserAccess')).toBe(true);
      // The duration counts from when the activation began, fixed before any access existed.
      const activationBegan = (active.history as { to: string; at: string }[]).find((h) => h.to === 'ACTIVATING')!.at;
      expect(Date.parse(active.expiresAt) - Date.parse(activationBegan)).toBe(4000);
      expect(Date.parse(active.activatedAt)).toBeLessThan(Date.parse(active.expiresAt));

      const ended = await waitForStatus(id, 'bob@example.com', ['EXPIRED', 'FAILED', 'REVOKED']);
      expect(ended.status).toBe('EXPIRED');
      expect(hasAssignment('bob', '555555555555', 'PowerUserAccess')).toBe(false);
      // Invariant 1 (locally): the access was gone within seconds of expiresAt.
      expect(Date.parse(ended.endedAt) - Date.parse(active.expiresAt)).toBeLessThan(5000);
      // Invariant 4: every transition is in the history, in order.
      expect(ended.history.map((h: { to: string }) => h.to)).toEqual(['PENDING_APPROVAL', 'APPROVED', 'ACTIVATING', 'ACTIVE', 'REVOKING', 'EXPIRED']);
    });

    it('keeps pre-existing access when a grant on it expires (invariant 3)', async () => {
      // bob holds ReadOnlyAccess on 444444444444 permanently (local/org.example.yaml).
      expect(hasAssignment('bob', '444444444444', 'ReadOnlyAccess')).toBe(true);
      const created = await api('POST', '/grants', 'bob@example.com', {
        target: { type: 'account', accountId: '444444444444', permissionSet: 'ReadOnlyAccess' },
        duration: 'PT2S',
        justification: 'already have it',
      });
      expect(created.body.status).toBe('APPROVED');
      const active = await waitForStatus(created.body.id, 'bob@example.com', ['ACTIVE', 'FAILED']);
      expect(active.coveredByExistingAccess).toBe(true);
      await waitForStatus(created.body.id, 'bob@example.com', ['EXPIRED']);
      expect(hasAssignment('bob', '444444444444', 'ReadOnlyAccess')).toBe(true);
    });

    it('revokes early on request and removes the access', async () => {
      const created = await api('POST', '/grants', 'carol@example.com', {
        target: { type: 'account', accountId: '444444444444', permissionSet: 'PowerUserAccess' },
        duration: 'PT10M',
        justification: 'short task',
      });
      const id = created.body.id as string;
      await waitForStatus(id, 'carol@example.com', ['ACTIVE']);
      expect(hasAssignment('carol', '444444444444', 'PowerUserAccess')).toBe(true);
      const revoked = await api('POST', `/grants/${id}/revoke`, 'carol@example.com', { reason: 'done' });
      expect(revoked.status).toBe(200);
      const ended = await waitForStatus(id, 'carol@example.com', ['REVOKED']);
      expect(ended.revokeReason).toBe('done');
      expect(hasAssignment('carol', '444444444444', 'PowerUserAccess')).toBe(false);
    });
    it('group target: the membership is created on approval and removed at expiry', async () => {
      const created = await api('POST', '/grants', 'carol@example.com', { target: { type: 'group', group: 'BreakGlass' }, duration: 'PT3S', justification: 'incident 42' });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      expect((await api('POST', `/grants/${id}/approve`, 'dave@example.com', {})).status).toBe(200);
      await waitForStatus(id, 'carol@example.com', ['ACTIVE']);
      expect(isMember('carol', 'BreakGlass')).toBe(true);
      const ended = await waitForStatus(id, 'carol@example.com', ['EXPIRED', 'FAILED']);
      expect(ended.status).toBe('EXPIRED');
      expect(isMember('carol', 'BreakGlass')).toBe(false);
    });

    it('overlap: the first grant expiring leaves the access to the second (invariant 2)', async () => {
      const target = { type: 'account', accountId: '444444444444', permissionSet: 'ReadOnlyAccess' };
      const first = await api('POST', '/grants', 'carol@example.com', { target, duration: 'PT3S', justification: 'first' });
      await waitForStatus(first.body.id, 'carol@example.com', ['ACTIVE']);
      const second = await api('POST', '/grants', 'carol@example.com', { target, duration: 'PT9S', justification: 'second' });
      await waitForStatus(second.body.id, 'carol@example.com', ['ACTIVE']);
      expect((await waitForStatus(first.body.id, 'carol@example.com', ['EXPIRED'])).status).toBe('EXPIRED');
      expect(hasAssignment('carol', '444444444444', 'ReadOnlyAccess')).toBe(true);
      await waitForStatus(second.body.id, 'carol@example.com', ['EXPIRED']);
      expect(hasAssignment('carol', '444444444444', 'ReadOnlyAccess')).toBe(false);
    });

    it('extension: the access stays until the new expiry, then goes', async () => {
      const created = await api('POST', '/grants', 'bob@example.com', {
        target: { type: 'account', accountId: '444444444444', permissionSet: 'PowerUserAccess' },
        duration: 'PT3S',
        justification: 'needs longer',
      });
      const id = created.body.id as string;
      const active = await waitForStatus(id, 'bob@example.com', ['ACTIVE']);
      const extended = await api('POST', `/grants/${id}/extend`, 'bob@example.com', { duration: 'PT4S' });
      expect(extended.status).toBe(200);
      expect(Date.parse(extended.body.expiresAt) - Date.parse(active.expiresAt)).toBe(4000);
      await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(active.expiresAt) + 1500 - Date.now())));
      expect((await api('GET', `/grants/${id}`, 'bob@example.com')).body.status).toBe('ACTIVE');
      expect(hasAssignment('bob', '444444444444', 'PowerUserAccess')).toBe(true);
      const ended = await waitForStatus(id, 'bob@example.com', ['EXPIRED']);
      expect(Date.parse(ended.endedAt) - Date.parse(extended.body.expiresAt)).toBeLessThan(5000);
      expect(hasAssignment('bob', '444444444444', 'PowerUserAccess')).toBe(false);
    });
  });
}
