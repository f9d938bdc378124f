/**
 * The HTTP contract, end to end through the real handlers: real DynamoDB
 * (dynalite), the Identity Center emulator behind the edge endpoint, the local
 * policy, and the Step Functions / Scheduler clients mocked to observe starts.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { CreateScheduleCommand } from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { as, callApi } from '../support/api.ts';
import { GRANT_SM, REVOKE_SM, startApiTestCloud, type ApiTestCloud } from '../support/cloud.ts';

let cloud: ApiTestCloud;

beforeAll(async () => {
  cloud = await startApiTestCloud();
});
afterAll(async () => {
  await cloud?.stop();
});
beforeEach(() => {
  cloud.sfn.resetHistory();
  cloud.scheduler.resetHistory();
});

const DEV = '444444444444';
const PROD = '555555555555';
const alice = as('alice@example.com');
const bob = as('bob@example.com');
const carol = as('carol@example.com');
const dave = as('dave@example.com');

const devReadOnly = { target: { type: 'account', accountId: DEV, permissionSet: 'ReadOnlyAccess' }, duration: 'PT1H', justification: 'debug incident 42' };
const prodPowerUser = { target: { type: 'account', accountId: PROD, permissionSet: 'PowerUserAccess' }, duration: 'PT1H', justification: 'deploy hotfix', ticket: 'INC-7' };

async function request(claims: Record<string, string>, body: unknown, headers?: Record<string, string>) {
  return callApi('createGrant', { claims, body, ...(headers ? { headers } : {}) });
}

/** Puts a grant into ACTIVE as the grant workflow would. */
async function activate(id: string, minutes = 60) {
  const { store, clock } = cloud.runtime;
  let g = (await store.get(id))!;
  const now = clock.now();
  g = await store.transition({ current: g, to: 'ACTIVATING', entry: { at: now.toISOString(), actor: { id: 'system:workflow', name: 'wf' }, action: 'activating' } });
  return store.transition({
    current: g,
    to: 'ACTIVE',
    set: { activatedAt: now.toISOString(), expiresAt: new Date(now.getTime() + minutes * 60_000).toISOString() },
    entry: { at: now.toISOString(), actor: { id: 'system:workflow', name: 'wf' }, action: 'activated' },
  });
}

describe('POST /grants', () => {
  it('auto-approves a dev read-only request and starts the grant workflow once', async () => {
    const res = await request(carol, devReadOnly);
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/grants/${res.body.id}`);
    expect(res.body).toMatchObject({
      status: 'APPROVED',
      ruleId: 'dev-readonly',
      principal: { email: 'carol@example.com', userName: 'carol' },
      target: { type: 'account', accountId: DEV, permissionSet: 'ReadOnlyAccess', permissionSetArn: cloud.idc.permissionSetArn('ReadOnlyAccess') },
      quorum: 0,
    });
    expect(res.body.history.map((h: { action: string }) => h.action)).toEqual(['requested', 'auto-approved']);
    const starts = cloud.sfn.commandCalls(StartExecutionCommand);
    expect(starts).toHaveLength(1);
    expect(starts[0]!.args[0].input).toMatchObject({ stateMachineArn: GRANT_SM, name: `grant-${res.body.id}` });
  });

  it('keeps a request that needs approval pending, with its pending expiry', async () => {
    const res = await request(bob, prodPowerUser);
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('PENDING_APPROVAL');
    expect(res.body.quorum).toBe(1);
    expect(Date.parse(res.body.pendingExpiresAt) - Date.parse(res.body.requestedAt)).toBe(8 * 3600_000);
    expect(cloud.sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('schedules activation for a future start instead of starting now', async () => {
    const startsAt = new Date(cloud.clock.now().getTime() + 2 * 3600_000).toISOString();
    const res = await request(carol, { ...devReadOnly, startsAt });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('SCHEDULED');
    expect(cloud.sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    const created = cloud.scheduler.commandCalls(CreateScheduleCommand);
    expect(created).toHaveLength(1);
    expect(created[0]!.args[0].input).toMatchObject({ Name: `${res.body.id}-start`, FlexibleTimeWindow: { Mode: 'OFF' }, ActionAfterCompletion: 'DELETE' });
  });

  it.each([
    ['duration', { ...devReadOnly, duration: '1 hour' }, 'body.duration'],
    ['account id', { ...devReadOnly, target: { type: 'account', accountId: '123', permissionSet: 'ReadOnlyAccess' } }, 'body.target.accountId'],
    ['target type', { ...devReadOnly, target: { type: 'bucket' } }, 'body.target.type'],
    ['empty justification', { ...devReadOnly, justification: '  ' }, 'body.justification'],
    ['justification of only a NUL', { ...devReadOnly, justification: '\u0000' }, 'body.justification'],
    ['justification with a control character', { ...devReadOnly, justification: 'look\u001b[2Jat logs' }, 'body.justification'],
    ['justification with a lone surrogate', { ...devReadOnly, justification: 'look \ud800' }, 'body.justification'],
    ['ticket over 128 characters', { ...devReadOnly, ticket: 'T'.repeat(129) }, 'body.ticket'],
    ['group name with a control character', { ...devReadOnly, target: { type: 'group', group: 'Break\u0000Glass' } }, 'body.target.group'],
    ['unknown field', { ...devReadOnly, admin: true }, 'body'],
    ['startsAt', { ...devReadOnly, startsAt: 'tomorrow' }, 'body.startsAt'],
  ])('rejects a bad %s with a 400 naming the field', async (_name, body, field) => {
    const res = await request(carol, body);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.body).toMatchObject({ status: 400, title: 'Request is not valid' });
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it('keeps tabs and line breaks inside a justification, trimmed at the ends', async () => {
    const res = await request(carol, { ...devReadOnly, justification: ' step 1:\tcheck logs\r\nstep 2: fix \n' });
    expect(res.status).toBe(201);
    expect(res.body.justification).toBe('step 1:\tcheck logs\r\nstep 2: fix');
  });

  it('rejects malformed JSON and non-JSON content types', async () => {
    expect((await callApi('createGrant', { claims: carol, rawBody: '{"target":' })).status).toBe(400);
    const res = await callApi('createGrant', { claims: carol, rawBody: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(415);
  });

  it('refuses durations outside the rule with 422 naming the bounds', async () => {
    const res = await request(carol, { ...devReadOnly, duration: 'PT9H' });
    expect(res.status).toBe(422);
    expect(res.body.detail).toMatch(/PT4H|PT8H/);
  });

  it('refuses targets no rule gives the caller (403) and unknown targets (422)', async () => {
    const forbidden = await request(carol, { ...devReadOnly, target: { type: 'account', accountId: DEV, permissionSet: 'AdministratorAccess' } });
    expect(forbidden.status).toBe(403);
    const unknownAccount = await request(carol, { ...devReadOnly, target: { type: 'account', accountId: '999999999999', permissionSet: 'ReadOnlyAccess' } });
    expect(unknownAccount.status).toBe(422);
    const unknownSet = await request(carol, { ...devReadOnly, target: { type: 'account', accountId: DEV, permissionSet: 'NoSuchSet' } });
    expect(unknownSet.status).toBe(422);
  });

  it('answers 401 without an identity claim and 403 for a user Identity Center does not know', async () => {
    expect((await request({}, devReadOnly)).status).toBe(401);
    const stranger = await request({ email: 'mallory@example.com' }, devReadOnly);
    expect(stranger.status).toBe(403);
    expect(stranger.body.detail).toContain('mallory@example.com');
  });

  it('matches the identity claim case-insensitively', async () => {
    const res = await request({ email: 'Carol@Example.COM' }, devReadOnly);
    expect(res.status).toBe(201);
    expect(res.body.principal.userName).toBe('carol');
  });

  it('answers concurrent retries under one Idempotency-Key with one grant (one 201, the rest replays)', async () => {
    const key = `race-${Date.now()}`;
    const results = await Promise.all(Array.from({ length: 6 }, () => request(bob, prodPowerUser, { 'Idempotency-Key': key })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
  });

  it('honours Idempotency-Key: same body replays, another body is refused', async () => {
    const key = `key-${Date.now()}`;
    const first = await request(bob, prodPowerUser, { 'Idempotency-Key': key });
    const again = await request(bob, prodPowerUser, { 'Idempotency-Key': key });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    const other = await request(bob, { ...prodPowerUser, justification: 'something else' }, { 'Idempotency-Key': key });
    expect(other.status).toBe(422);
    expect(other.body.detail).toMatch(/Idempotency-Key/);
    const mine = await callApi('listGrants', { claims: bob, query: { view: 'mine', limit: '100' } });
    expect(mine.body.items.filter((g: { id: string }) => g.id === first.body.id)).toHaveLength(1);
    expect((await request(bob, prodPowerUser, { 'Idempotency-Key': 'has space' })).status).toBe(400);
  });
});

describe('approvals', () => {
  it('lets an eligible approver approve, starting the workflow', async () => {
    const { body: pending } = await request(bob, prodPowerUser);
    const approvals = await callApi('listGrants', { claims: dave, query: { view: 'approvals' } });
    expect(approvals.body.items.map((g: { id: string }) => g.id)).toContain(pending.id);
    const res = await callApi('approveGrant', { claims: dave, params: { id: pending.id }, body: { comment: 'ok' } });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('APPROVED');
    expect(res.body.approvals).toEqual([expect.objectContaining({ by: expect.objectContaining({ name: 'dave@example.com' }), comment: 'ok' })]);
    expect(cloud.sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name)).toEqual([`grant-${pending.id}`]);
    const after = await callApi('listGrants', { claims: dave, query: { view: 'approvals' } });
    expect(after.body.items.map((g: { id: string }) => g.id)).not.toContain(pending.id);
  });

  it('refuses self-approval and non-approvers with 403', async () => {
    const { body: pending } = await request(bob, prodPowerUser);
    const self = await callApi('approveGrant', { claims: bob, params: { id: pending.id } });
    expect(self.status).toBe(403);
    expect(self.body.detail).toMatch(/own request/);
    const peer = await callApi('approveGrant', { claims: carol, params: { id: pending.id } });
    expect(peer.status).toBe(403);
    expect((await cloud.runtime.store.get(pending.id))!.status).toBe('PENDING_APPROVAL');
  });

  it('needs a quorum of distinct approvers', async () => {
    const { body: pending } = await request(bob, { ...prodPowerUser, target: { type: 'account', accountId: PROD, permissionSet: 'AdministratorAccess' } });
    expect(pending.quorum).toBe(2);
    const first = await callApi('approveGrant', { claims: dave, params: { id: pending.id } });
    expect(first.body.status).toBe('PENDING_APPROVAL');
    const twice = await callApi('approveGrant', { claims: dave, params: { id: pending.id } });
    expect(twice.status).toBe(422);
    const second = await callApi('approveGrant', { claims: alice, params: { id: pending.id } });
    expect(second.body.status).toBe('APPROVED');
    expect(second.body.history.map((h: { action: string }) => h.action)).toEqual(['requested', 'approved', 'approved']);
  });

  it('denies, and a decided request cannot be decided again (409)', async () => {
    const { body: pending } = await request(bob, prodPowerUser);
    const denied = await callApi('denyGrant', { claims: dave, params: { id: pending.id }, body: { comment: 'no ticket' } });
    expect(denied.body.status).toBe('DENIED');
    expect(denied.body.endedAt).toBeDefined();
    const again = await callApi('approveGrant', { claims: dave, params: { id: pending.id } });
    expect(again.status).toBe(409);
    expect(again.body.detail).toMatch(/DENIED/);
  });

  it('expires a pending request past its pending expiry', async () => {
    const { body: pending } = await request(bob, { ...prodPowerUser, target: { type: 'group', group: 'BreakGlass' } });
    expect(pending.status).toBe('PENDING_APPROVAL');
    cloud.clock.advance(61 * 60_000);
    try {
      const res = await callApi('approveGrant', { claims: dave, params: { id: pending.id } });
      expect(res.status).toBe(409);
      expect((await cloud.runtime.store.get(pending.id))!.status).toBe('APPROVAL_EXPIRED');
    } finally {
      cloud.clock.advance(-61 * 60_000);
    }
  });
});

describe('cancel, revoke, extend', () => {
  it('cancels a pending request; only the requester or an admin may', async () => {
    const { body: pending } = await request(bob, prodPowerUser);
    expect((await callApi('cancelGrant', { claims: carol, params: { id: pending.id } })).status).toBe(403);
    const res = await callApi('cancelGrant', { claims: bob, params: { id: pending.id } });
    expect(res.body.status).toBe('CANCELLED');
    expect((await callApi('cancelGrant', { claims: bob, params: { id: pending.id } })).status).toBe(409);
  });

  it('revokes an ACTIVE grant early and starts the revoke workflow', async () => {
    const { body } = await request(carol, devReadOnly);
    await activate(body.id);
    const res = await callApi('revokeGrant', { claims: carol, params: { id: body.id }, body: { reason: 'done early' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'REVOKING', revokeReason: 'done early' });
    const revokes = cloud.sfn.commandCalls(StartExecutionCommand).filter((c) => c.args[0].input.stateMachineArn === REVOKE_SM);
    expect(revokes.map((c) => c.args[0].input.name)).toEqual([`revoke-${body.id}-early`]);
    expect((await callApi('revokeGrant', { claims: carol, params: { id: body.id }, body: {} })).status).toBe(400);
  });

  it('refuses to revoke what is not active, and strangers', async () => {
    const { body } = await request(bob, prodPowerUser);
    expect((await callApi('revokeGrant', { claims: bob, params: { id: body.id }, body: { reason: 'x' } })).status).toBe(409);
    const { body: active } = await request(carol, devReadOnly);
    await activate(active.id);
    expect((await callApi('revokeGrant', { claims: bob, params: { id: active.id }, body: { reason: 'x' } })).status).toBe(403);
    // An admin may revoke anyone's grant.
    expect((await callApi('revokeGrant', { claims: alice, params: { id: active.id }, body: { reason: 'incident' } })).body.status).toBe('REVOKING');
  });

  it('extends within the rule maximum total and moves the revocation schedule', async () => {
    const { body } = await request(carol, devReadOnly);
    const active = await activate(body.id, 60);
    const res = await callApi('extendGrant', { claims: carol, params: { id: body.id }, body: { duration: 'PT2H' } });
    expect(res.status).toBe(200);
    expect(Date.parse(res.body.expiresAt) - Date.parse(active.expiresAt!)).toBe(2 * 3600_000);
    const schedules = cloud.scheduler.commandCalls(CreateScheduleCommand);
    expect(schedules.at(-1)!.args[0].input).toMatchObject({ Name: `${body.id}-revoke` });
    // dev-readonly allows PT8H in total: 3h + 4h fits, 2h more does not.
    expect((await callApi('extendGrant', { claims: carol, params: { id: body.id }, body: { duration: 'PT4H' } })).status).toBe(200);
    const tooLong = await callApi('extendGrant', { claims: carol, params: { id: body.id }, body: { duration: 'PT2H' } });
    expect(tooLong.status).toBe(422);
    expect(tooLong.body.detail).toMatch(/PT8H/);
    expect((await callApi('extendGrant', { claims: bob, params: { id: body.id }, body: { duration: 'PT1H' } })).status).toBe(403);
  });
});

describe('reads', () => {
  it('gets a grant with history; strangers get 403, unknown ids 404, bad ids 400', async () => {
    const { body } = await request(carol, devReadOnly);
    const res = await callApi('getGrant', { claims: carol, params: { id: body.id } });
    expect(res.status).toBe(200);
    expect(res.body.history.length).toBeGreaterThan(0);
    expect((await callApi('getGrant', { claims: bob, params: { id: body.id } })).status).toBe(403);
    expect((await callApi('getGrant', { claims: alice, params: { id: body.id } })).status).toBe(200);
    expect((await callApi('getGrant', { claims: carol, params: { id: '01JD2X7Q8R9S0T1V2W3X4Y5Z6A' } })).status).toBe(404);
    expect((await callApi('getGrant', { claims: carol, params: { id: 'nope' } })).status).toBe(400);
  });

  it('pages through my grants newest first with a cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await request(carol, { ...devReadOnly, justification: `page ${i}` })).body.id);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await callApi('listGrants', { claims: carol, query: { view: 'mine', limit: '2', ...(cursor ? { cursor } : {}) } });
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((g: { id: string }) => g.id));
      cursor = res.body.cursor;
    } while (cursor);
    const mineInOrder = seen.filter((id) => ids.includes(id));
    expect(mineInOrder).toEqual([...ids].reverse());
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('filters by status, keeps view=all for admins, rejects bad queries', async () => {
    const res = await callApi('listGrants', { claims: carol, query: { view: 'mine', status: 'APPROVED' } });
    expect(res.body.items.every((g: { status: string }) => g.status === 'APPROVED')).toBe(true);
    expect((await callApi('listGrants', { claims: carol, query: { view: 'all' } })).status).toBe(403);
    const all = await callApi('listGrants', { claims: alice, query: { view: 'all', limit: '100' } });
    expect(all.status).toBe(200);
    expect(all.body.items.length).toBeGreaterThan(3);
    expect((await callApi('listGrants', { claims: carol, query: { view: 'everything' } })).status).toBe(400);
    expect((await callApi('listGrants', { claims: carol, query: { limit: '1000' } })).status).toBe(400);
    expect((await callApi('listGrants', { claims: carol, query: { cursor: 'not-a-cursor' } })).status).toBe(400);
  });

  it('lists eligibility with bounds and approval needs', async () => {
    const res = await callApi('getEligibility', { claims: carol });
    expect(res.status).toBe(200);
    const devRule = res.body.items.find((e: { ruleId: string }) => e.ruleId === 'dev-readonly');
    expect(devRule).toMatchObject({ approvalRequired: false, duration: { max: 'PT4H' } });
    expect(res.body.items.some((e: { ruleId: string }) => e.ruleId === 'platform-dev-admin')).toBe(false);
  });

  it('serves the OpenAPI document without a token', async () => {
    const { handler } = await import('../../functions/getOpenApi.ts');
    const res = await handler();
    const doc = JSON.parse(res.body as string);
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/grants', '/grants/{id}', '/grants/{id}/approve', '/eligibility']));
    expect(doc.components.schemas.GrantRequest.required).toEqual(expect.arrayContaining(['target', 'duration', 'justification']));
  });
});
