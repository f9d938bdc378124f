/**
 * Grants for the paging tests: enough in every view for several pages at `limit=1`, and every
 * cursor the API hands out while walking them, with the page each one leads to.
 */
import { expect } from 'vitest';
import { as, callApi } from './api.ts';
import type { ApiTestCloud } from './cloud.ts';

export const DEV = '444444444444';
export const PROD = '555555555555';
export const devReadOnly = { target: { type: 'account', accountId: DEV, permissionSet: 'ReadOnlyAccess' }, duration: 'PT1H', justification: 'paging' };
export const prodPowerUser = { target: { type: 'account', accountId: PROD, permissionSet: 'PowerUserAccess' }, duration: 'PT1H', justification: 'paging' };
export const devAdmin = { target: { type: 'account', accountId: DEV, permissionSet: 'AdministratorAccess' }, duration: 'PT1H', justification: 'paging' };

/** Who may ask for which view (view=all is for admins: alice). */
export const CALLERS_OF_VIEW = {
  mine: ['carol@example.com', 'bob@example.com'],
  approvals: ['dave@example.com', 'alice@example.com'],
  active: ['alice@example.com', 'carol@example.com'],
  all: ['alice@example.com'],
} as const;
export type View = keyof typeof CALLERS_OF_VIEW;

export interface IssuedCursor {
  cursor: string;
  email: string;
  view: View;
  status?: string;
  /** Ids of the page this cursor opens (at limit=1). */
  next: string[];
}

async function create(email: string, body: unknown): Promise<string> {
  const res = await callApi('createGrant', { claims: as(email), body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

/** Puts a grant into ACTIVE as the grant workflow would. */
async function activate(cloud: ApiTestCloud, id: string): Promise<void> {
  const { store, clock } = cloud.runtime;
  const now = clock.now();
  const actor = { id: 'system:workflow', name: 'wf' };
  let g = (await store.get(id))!;
  g = await store.transition({ current: g, to: 'ACTIVATING', entry: { at: now.toISOString(), actor, action: 'activating' } });
  await store.transition({
    current: g,
    to: 'ACTIVE',
    set: { activatedAt: now.toISOString(), expiresAt: new Date(now.getTime() + 3600_000).toISOString() },
    entry: { at: now.toISOString(), actor, action: 'activated' },
  });
}

/** Requests, pending approvals and active grants for carol, bob and alice. */
export async function seedPagingGrants(cloud: ApiTestCloud): Promise<void> {
  const approved: string[] = [];
  for (let i = 0; i < 4; i++) approved.push(await create('carol@example.com', { ...devReadOnly, justification: `carol ${i}` }));
  for (let i = 0; i < 2; i++) await create('carol@example.com', { ...prodPowerUser, justification: `carol pending ${i}` });
  for (let i = 0; i < 3; i++) await create('bob@example.com', { ...prodPowerUser, justification: `bob pending ${i}` });
  await create('bob@example.com', devReadOnly);
  for (let i = 0; i < 2; i++) await create('alice@example.com', { ...devAdmin, justification: `alice ${i}` });
  for (const id of approved.slice(0, 3)) await activate(cloud, id);
}

export function listQuery(view: View, cursor: string | undefined, status?: string): Record<string, string> {
  return { view, limit: '1', ...(status !== undefined ? { status } : {}), ...(cursor !== undefined ? { cursor } : {}) };
}

/** Walks every page of each (caller, view[, status]) at limit=1 and keeps every cursor issued on the way. */
export async function collectCursors(lists: Array<{ email: string; view: View; status?: string }>): Promise<IssuedCursor[]> {
  const issued: IssuedCursor[] = [];
  for (const { email, view, status } of lists) {
    let res = await callApi('listGrants', { claims: as(email), query: listQuery(view, undefined, status) });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    for (let pages = 0; res.body.cursor; pages++) {
      expect(pages).toBeLessThan(50);
      const cursor = res.body.cursor as string;
      res = await callApi('listGrants', { claims: as(email), query: listQuery(view, cursor, status) });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      issued.push({ cursor, email, view, ...(status !== undefined ? { status } : {}), next: res.body.items.map((g: { id: string }) => g.id) });
    }
  }
  return issued;
}
