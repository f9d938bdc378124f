/**
 * Pagination cursors as deployed: the packaged listGrants in its own container, with the
 * CURSOR_KEY_SECRET_ARN the template gives it, reading the key the local cloud generated for
 * the template's CursorKeySecret, under ListGrantsRole with IAM enforced, behind the gateway's
 * JWT check. A cursor round-trips over HTTP; a tampered one and another user's are 400s.
 * And the IAM grant is what makes it work: without it, the same template cannot page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud.ts';
import { resolveIntrinsics } from '../../local/serverless-config.ts';
import { editedPackage, withoutManagedPolicy, type EditedPackage } from '../support/edited-package.ts';
import { httpClient, startFastLocalCloud } from '../support/local-cloud.ts';

const powerUserOnProd = (justification: string) => ({ target: { type: 'account', accountId: '555555555555', permissionSet: 'PowerUserAccess' }, duration: 'PT5M', justification });

describe('GET /grants cursors over HTTP (packaged, IAM enforced)', () => {
  let cloud: LocalCloud;
  const api = httpClient(() => cloud);

  beforeAll(async () => {
    cloud = await startFastLocalCloud({ packaged: true, scheduledFunctions: false });
  }, 120_000);
  afterAll(async () => cloud?.stop());

  const list = (as: string, query: Record<string, string>) => api('GET', `/grants?${new URLSearchParams(query)}`, as);

  it('hands out a cursor that opens the second page, and refuses it tampered or in another user’s hands', async () => {
    expect(cloud.packaged).toBe(true);
    const ids: string[] = [];
    for (const justification of ['first', 'second', 'third']) {
      const created = await api('POST', '/grants', 'bob@example.com', powerUserOnProd(justification));
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      ids.push(created.body.id);
    }

    const first = await list('bob@example.com', { view: 'mine', limit: '1' });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.items.map((g: { id: string }) => g.id)).toEqual([ids[2]]);
    const cursor = first.body.cursor as string;
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);

    const second = await list('bob@example.com', { view: 'mine', limit: '1', cursor });
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(second.body.items.map((g: { id: string }) => g.id)).toEqual([ids[1]]);

    const refused = async (as: string, query: Record<string, string>) => {
      const res = await list(as, query);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.contentType).toContain('application/problem+json');
      expect(res.body.detail).toBe('cursor is not valid: start again from the first page (omit cursor)');
      expect(res.body.errors).toEqual([{ field: 'cursor', message: expect.any(String) }]);
      return res.body.errors[0].message as string;
    };
    const i = cursor.indexOf('.') - 2;
    expect(await refused('bob@example.com', { view: 'mine', limit: '1', cursor: cursor.slice(0, i) + (cursor[i] === 'A' ? 'B' : 'A') + cursor.slice(i + 1) })).toMatch(/not a cursor this API issued/);
    expect(await refused('carol@example.com', { view: 'mine', limit: '1', cursor })).toBe('issued to another caller');
    expect(await refused('bob@example.com', { view: 'active', limit: '1', cursor })).toBe('issued for another view or status filter');
    // Unsigned cursors that the store, handed them as a start key, would answer with a 500.
    await refused('bob@example.com', { cursor: 'eyJhIjoxfQ' });
    await refused('dave@example.com', { view: 'approvals', cursor: '0.eyJhIjoxfQ' });

    // The approvals view's position (rule index and that rule's key) travels sealed the same way.
    const approvals = await list('dave@example.com', { view: 'approvals', limit: '1' });
    expect(approvals.status, JSON.stringify(approvals.body)).toBe(200);
    const next = await list('dave@example.com', { view: 'approvals', limit: '1', cursor: approvals.body.cursor });
    expect(next.status, JSON.stringify(next.body)).toBe(200);
    expect([...approvals.body.items, ...next.body.items].map((g: { id: string }) => g.id)).toEqual([ids[0], ids[1]]);
    expect(await refused('bob@example.com', { view: 'approvals', limit: '1', cursor: approvals.body.cursor })).toBe('issued to another caller');
  }, 60_000);
});

describe('a packaged template whose ListGrantsRole may not read the cursor key', () => {
  let cloud: LocalCloud;
  let edited: EditedPackage;
  beforeAll(async () => {
    edited = await editedPackage(withoutManagedPolicy('ListGrantsRole', 'CursorKeyReadPolicy'));
    cloud = await startFastLocalCloud({ packaged: true, packageDir: edited.dir, scheduledFunctions: false });
  }, 120_000);
  afterAll(async () => {
    await cloud?.stop();
    edited?.remove();
  });

  it('cannot page: the key read is denied, the list that needs a cursor fails on the server side', async () => {
    const auth = { authorization: `Bearer ${await cloud.token('bob@example.com')}` };
    for (const justification of ['first', 'second']) {
      const res = await fetch(`${cloud.gatewayUrl}/grants`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(powerUserOnProd(justification)) });
      expect(res.status).toBe(201);
    }
    // One page, no cursor needed: the key is never read.
    expect((await fetch(`${cloud.gatewayUrl}/grants?limit=10`, { headers: auth })).status).toBe(200);
    const paged = await fetch(`${cloud.gatewayUrl}/grants?limit=1`, { headers: auth });
    expect(paged.status).toBe(500);
    // Because of exactly this: the role may not read the secret the function's environment names.
    const arn = cloud.functionEnv.CURSOR_KEY_SECRET_ARN!;
    expect(arn).toMatch(/:secret:identity-center-jit-dev\/cursor-key-[A-Za-z0-9]{6}$/);
    const roleArn = String(resolveIntrinsics({ 'Fn::GetAtt': ['ListGrantsRole', 'Arn'] }, cloud.config));
    expect(cloud.iam!.denied({ roleArn, sessionName: 'listGrants' }, { action: 'secretsmanager:GetSecretValue', resource: arn })).toMatch(/is not authorized to perform: secretsmanager:GetSecretValue/);
  }, 60_000);
});
