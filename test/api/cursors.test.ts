/**
 * Pagination cursors over the real handlers (dynalite, the Identity Center emulator, the cursor
 * key in the local Secrets Manager): what the API issues pages correctly in every view, and any
 * cursor it did not issue to this caller for this list is a 400 problem+json naming `cursor`,
 * before anything reads the table, never a 500.
 */
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors.ts';
import { as, callApi, type ApiResponse } from '../support/api.ts';
import { startApiTestCloud, type ApiTestCloud } from '../support/cloud.ts';
import { collectCursors, listQuery, seedPagingGrants, type IssuedCursor } from '../support/paging.ts';

let cloud: ApiTestCloud;
let issued: IssuedCursor[];
const carol = as('carol@example.com');
const dave = as('dave@example.com');

beforeAll(async () => {
  cloud = await startApiTestCloud({ knobs: { throttleTps: 0 } });
  await seedPagingGrants(cloud);
  issued = await collectCursors([
    { email: 'carol@example.com', view: 'mine' },
    { email: 'bob@example.com', view: 'mine' },
    { email: 'carol@example.com', view: 'mine', status: 'APPROVED' },
    { email: 'dave@example.com', view: 'approvals' },
    { email: 'alice@example.com', view: 'active' },
    { email: 'alice@example.com', view: 'all' },
  ]);
});
afterAll(async () => cloud?.stop());

/** Every item of the table, to prove a refused request wrote nothing. */
async function tableSnapshot(): Promise<string> {
  const doc = DynamoDBDocumentClient.from(cloud.runtime.clients.dynamodb);
  const out = await doc.send(new ScanCommand({ TableName: cloud.env.GRANTS_TABLE }));
  return JSON.stringify((out.Items ?? []).map((i) => JSON.stringify(i)).sort());
}

function expectCursorRefused(res: ApiResponse): void {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.headers['content-type']).toBe('application/problem+json');
  expect(res.body).toMatchObject({ status: 400, title: 'Request is not valid' });
  expect(res.body.detail).toBe('cursor is not valid: start again from the first page (omit cursor)');
  expect(res.body.errors).toEqual([{ field: 'cursor', message: expect.any(String) }]);
}

describe('GET /grants cursors', () => {
  it('pages through every view, each cursor leading to the next page', () => {
    const views = new Set(issued.map((c) => `${c.email} ${c.view} ${c.status ?? ''}`));
    expect(views.size).toBe(6);
    expect(issued.length).toBeGreaterThan(20);
    for (const c of issued) expect(c.cursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  });

  it('answers unsigned cursors, which the store would refuse with a 500, with a 400 naming cursor, and writes nothing', async () => {
    const before = await tableSnapshot();
    // base64url of {"a":1}: a JSON object, which DynamoDB refused as ExclusiveStartKey.
    expectCursorRefused(await callApi('listGrants', { claims: carol, query: { cursor: 'eyJhIjoxfQ' } }));
    expectCursorRefused(await callApi('listGrants', { claims: dave, query: { view: 'approvals', cursor: '0.eyJhIjoxfQ' } }));
    // A well-formed start key of another user's partition, unsigned.
    const bobs = Buffer.from(JSON.stringify({ gsi1pk: 'USER#bob', gsi1sk: '01JD2X7Q8R9S0T1V2W3X4Y5Z6A', pk: 'GRANT#01JD2X7Q8R9S0T1V2W3X4Y5Z6A', sk: 'GRANT' })).toString('base64url');
    expectCursorRefused(await callApi('listGrants', { claims: carol, query: { view: 'mine', cursor: bobs } }));
    expectCursorRefused(await callApi('listGrants', { claims: carol, query: { view: 'mine', cursor: 'not-a-cursor' } }));
    expect(await tableSnapshot()).toBe(before);
  });

  it("refuses another caller's cursor and another view's or filter's, telling the caller to start again", async () => {
    const bobs = issued.find((c) => c.email === 'bob@example.com' && c.view === 'mine')!;
    const carolsAll = issued.find((c) => c.email === 'carol@example.com' && c.view === 'mine' && !c.status)!;
    const carolsApproved = issued.find((c) => c.email === 'carol@example.com' && c.status === 'APPROVED')!;
    const res = await callApi('listGrants', { claims: carol, query: listQuery('mine', bobs.cursor) });
    expectCursorRefused(res);
    expect(res.body.errors[0].message).toBe('issued to another caller');
    expectCursorRefused(await callApi('listGrants', { claims: carol, query: listQuery('active', carolsAll.cursor) }));
    expectCursorRefused(await callApi('listGrants', { claims: carol, query: listQuery('mine', carolsAll.cursor, 'APPROVED') }));
    expectCursorRefused(await callApi('listGrants', { claims: carol, query: listQuery('mine', carolsApproved.cursor) }));
    // ...while the cursors themselves still work for whom and what they were issued.
    expect((await callApi('listGrants', { claims: carol, query: listQuery('mine', carolsAll.cursor) })).status).toBe(200);
    expect((await callApi('listGrants', { claims: carol, query: listQuery('mine', carolsApproved.cursor, 'APPROVED') })).status).toBe(200);
  });

  it('refuses a tampered cursor (one character of the payload changed)', async () => {
    const { cursor } = issued.find((c) => c.email === 'carol@example.com' && c.view === 'mine')!;
    const tampered = cursor.slice(0, 3) + (cursor[3] === 'A' ? 'B' : 'A') + cursor.slice(4);
    expectCursorRefused(await callApi('listGrants', { claims: carol, query: listQuery('mine', tampered) }));
  });

  it('the store refuses a start key DynamoDB would reject (another partition) as the cursor, not as a fault', async () => {
    const { store } = cloud.runtime;
    const page = await store.listByPrincipal('someone-else', { limit: 1 });
    expect(page.items).toEqual([]);
    const carolId = (await cloud.runtime.directory.findUserByEmail('carol@example.com'))!.userId;
    const first = await store.listByPrincipal(carolId, { limit: 1 });
    expect(first.cursor).toBeDefined();
    const refused = store.listByPrincipal('someone-else', { limit: 1, cursor: first.cursor! });
    await expect(refused).rejects.toBeInstanceOf(ValidationError);
    await expect(refused).rejects.toMatchObject({ fields: [{ field: 'cursor' }] });
    await expect(store.listPendingForRule('prod-poweruser', { limit: 1, cursor: first.cursor! })).rejects.toBeInstanceOf(ValidationError);
  });
});
