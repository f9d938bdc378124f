/**
 * GET /access over HTTP on the local cloud, from the sources and, as deployed, from the
 * packaged artifacts with IAM enforced (getAccess and reconcileAccess under their own roles):
 * a grant's access is `jit` with its grant and until when, bob's permanent ReadOnlyAccess is
 * `permanent`, with when the reconciler last saw each and how fresh the inventory is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud.ts';
import { accessReport } from '../../scripts/access-report.ts';
import { LOCAL_POLICY } from '../support/cloud.ts';
import { httpClient, startFastLocalCloud } from '../support/local-cloud.ts';

const OKTA = 'https://example.okta.com';

export function accessOverHttp(mode: { packaged: boolean }): void {
  let cloud: LocalCloud;
  const api = httpClient(() => cloud);
  const access = (as: string, query: Record<string, string> = {}) => api('GET', `/access?${new URLSearchParams(query)}`, as);
  let grantId = '';

  beforeAll(async () => {
    cloud = await startFastLocalCloud({ packaged: mode.packaged, policyFile: LOCAL_POLICY, scheduledFunctions: false, idcKnobs: { provisioningDelayMs: { minMs: 20, maxMs: 100 } } });
    const created = await api('POST', '/grants', 'carol@example.com', { target: { type: 'account', accountId: '444444444444', permissionSet: 'ReadOnlyAccess' }, duration: 'PT1H', justification: 'inventory' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    grantId = created.body.id;
    const deadline = Date.now() + 30_000;
    while ((await api('GET', `/grants/${grantId}`, 'carol@example.com')).body.status !== 'ACTIVE') {
      if (Date.now() > deadline) throw new Error(`grant ${grantId} did not become ACTIVE`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 120_000);
  afterAll(async () => cloud?.stop());

  describe(`GET /access (${mode.packaged ? 'packaged, IAM enforced' : 'sources'})`, () => {
    it('answers a grant activated before any pass from its holder, as jit with no lastSeen', async () => {
      const res = await access('alice@example.com', { account: '444444444444' });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.freshness).toEqual({});
      expect(res.body.items).toEqual([expect.objectContaining({ why: 'jit', principal: expect.objectContaining({ name: 'carol' }), grants: [expect.objectContaining({ id: grantId })] })]);
      expect(res.body.items[0].lastSeen).toBeUndefined();
    });

    it('after a reconcile pass: bob’s ReadOnlyAccess is permanent, carol’s grant is jit until its expiry, both with lastSeen and the pass', async () => {
      const report = (await cloud.invoke('reconcileAccess', {})) as { complete: boolean; pass: { passId: string } };
      expect(report.complete).toBe(true);
      const res = await access('alice@example.com', { account: '444444444444' });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const grant = (await api('GET', `/grants/${grantId}`, 'carol@example.com')).body;
      const byUser = Object.fromEntries(res.body.items.map((i: { principal: { name: string } }) => [i.principal.name, i]));
      expect(byUser.bob).toMatchObject({ why: 'permanent', permissionSet: 'ReadOnlyAccess', account: { id: '444444444444', name: 'payments-dev' }, grants: [], lastSeen: expect.any(String) });
      expect(byUser.carol).toMatchObject({ why: 'jit', permissionSet: 'ReadOnlyAccess', grants: [{ id: grantId, status: 'ACTIVE', until: grant.expiresAt }], lastSeen: expect.any(String) });
      expect(res.body.items).toHaveLength(2);
      expect(res.body.freshness.lastPass).toMatchObject({ passId: report.pass.passId, finishedAt: expect.any(String), calls: expect.any(Number) });
      expect(res.body.freshness.currentPass).toBeUndefined();
    });

    it('filters by user, permission set and group (memberships of a SCIM group marked)', async () => {
      const carol = await access('dave@example.com', { user: 'carol@example.com' });
      expect(carol.status, JSON.stringify(carol.body)).toBe(200);
      expect(carol.body.items.map((i: { principal: { name: string } }) => i.principal.name)).toEqual(['carol', 'carol']);
      expect(carol.body.items.map((i: { group?: { name: string }; permissionSet?: string }) => i.group?.name ?? i.permissionSet).sort()).toEqual(['OktaOnCall', 'ReadOnlyAccess']);
      const readOnly = await access('alice@example.com', { permissionSet: 'ReadOnlyAccess', user: 'bob' });
      expect(readOnly.body.items).toEqual([expect.objectContaining({ why: 'permanent', principal: expect.objectContaining({ name: 'bob' }) })]);
      const oncall = await access('alice@example.com', { group: 'OktaOnCall' });
      expect(oncall.body.items).toEqual([expect.objectContaining({ why: 'permanent', group: expect.objectContaining({ name: 'OktaOnCall' }), scimIssuer: OKTA })]);
      expect((await access('alice@example.com', { account: '555555555555' })).body.items).toEqual([]);
    });

    it('npm run access:report prints it as CSV, then the standing-access summary worst first', async () => {
      const csv = await accessReport(['--format', 'csv', '--api', cloud.gatewayUrl, '--token', await cloud.token('alice@example.com'), '--account', '444444444444']);
      const [items, standing] = csv.split('\n\n');
      expect(items!.split('\n')[0]).toBe('why,principalType,principal,account,accountName,permissionSet,group,grants,until,lastSeen,scimIssuer');
      expect(items).toMatch(/^permanent,USER,bob,444444444444,payments-dev,ReadOnlyAccess,,,,\d{4}-/m);
      expect(items).toMatch(new RegExp(`^jit,USER,carol,444444444444,payments-dev,ReadOnlyAccess,,${grantId},\\d{4}-`, 'm'));
      expect(standing!.split('\n')).toEqual(['target,permanent,jit', 'ReadOnlyAccess on payments-dev (444444444444),1,1']);
      const everything = await accessReport(['--format', 'csv', '--api', cloud.gatewayUrl, '--token', await cloud.token('alice@example.com')]);
      // Most permanent holders first, then most JIT.
      expect(everything.split('\n\n')[1]!.split('\n')).toEqual(['target,permanent,jit', 'ReadOnlyAccess on payments-dev (444444444444),1,1', 'member of OktaOnCall,1,0']);
      await expect(accessReport(['--api', cloud.gatewayUrl, '--token', await cloud.token('bob@example.com')])).rejects.toThrow(/403: .*admins and auditors/);
    });

    it('is for admins and auditors: bob gets a 403 that says so', async () => {
      const res = await access('bob@example.com', { account: '444444444444' });
      expect(res.status).toBe(403);
      expect(res.contentType).toContain('application/problem+json');
      expect(res.body.detail).toMatch(/access inventory are for admins and auditors/);
    });

    it('says what is wrong with a bad filter (400 problem+json)', async () => {
      const cases: [Record<string, string>, RegExp][] = [
        [{ account: '4444' }, /12-digit account id/],
        [{ user: 'nobody@example.com' }, /no user nobody@example.com/],
        [{ permissionSet: 'NoSuchSet' }, /no permission set named NoSuchSet/],
        [{ group: 'NoSuchGroup' }, /no group named NoSuchGroup/],
        [{ accountId: '444444444444' }, /accountId/],
      ];
      for (const [query, message] of cases) {
        const res = await access('alice@example.com', query);
        expect(res.status, JSON.stringify(query)).toBe(400);
        expect(res.contentType).toContain('application/problem+json');
        expect(JSON.stringify(res.body)).toMatch(message);
      }
    });
  });
}
