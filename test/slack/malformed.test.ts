/**
 * Signed Slack requests in shapes the app does not accept: each gets a clean answer
 * (an ack, an ephemeral refusal, or errors on the modal naming the field), never a
 * 5xx or a thrown error, and nothing is written. Slack's input is held to the HTTP
 * API's limits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signSlackRequest } from '../../lib/slack/signature.ts';
import { ACTION, CALLBACK } from '../../lib/slack/views.ts';
import { buttonClick, interactionRequest, slashCommandRequest, viewSubmission } from '../../local/slack/fake-slack.ts';
import { claimsWithoutGrant } from '../support/idempotency.ts';
import { invoke, SIGNING_SECRET } from './harness.ts';
import { startSlackTestCloud, USERS, type SlackTestCloud } from './slack-cloud.ts';

let t: SlackTestCloud;
const errors: unknown[] = [];
const posts: { url: string; body: Record<string, unknown> }[] = [];
beforeAll(async () => {
  t = await startSlackTestCloud({
    logger: { info: () => undefined, warn: () => undefined, error: (...args: unknown[]) => void errors.push(args) },
    postToResponseUrl: async (url, body) => void posts.push({ url, body: body as Record<string, unknown> }),
  });
});
afterAll(async () => t?.stop());

const rawInteraction = (body: string) => invoke(t.interactions, { body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(SIGNING_SECRET, body) } }, { path: '/slack/interactions' });
const interact = (payload: Record<string, unknown>) => invoke(t.interactions, interactionRequest(SIGNING_SECRET, payload), { path: '/slack/interactions' });
const command = (text: string, extra: { triggerId?: string } = {}) => invoke(t.commands, slashCommandRequest(SIGNING_SECRET, { userId: USERS.carol.id, text, ...extra }));
const grantCount = async () => (await t.runtime.store.listAll({ limit: 100 })).items.length;

/** A submission of the request modal with each block's element as given. */
const requestSubmission = (elements: Record<string, unknown>) => ({
  type: 'view_submission',
  user: { id: USERS.carol.id },
  view: { id: `V${Date.now()}`, callback_id: CALLBACK.request, private_metadata: '', state: { values: Object.fromEntries(Object.entries(elements).map(([id, el]) => [id, { [id]: el }])) } },
});
const goodElements = {
  target: { type: 'static_select', selected_option: { value: 'a|444444444444|ReadOnlyAccess' } },
  duration: { type: 'plain_text_input', value: '1h' },
  justification: { type: 'plain_text_input', value: 'look at logs' },
};

describe('interaction payloads the app does not accept', () => {
  it.each([
    ['payload=null', 'payload=null'],
    ['a payload that is not JSON', 'payload=%7Bnope'],
    ['no payload at all', 'other=1'],
    ['a JSON array', 'payload=%5B%5D'],
    ['a number', 'payload=5'],
    ['an unknown type', `payload=${encodeURIComponent(JSON.stringify({ type: 'shortcut', user: { id: USERS.carol.id } }))}`],
    ['block_actions without actions', `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: USERS.carol.id }, actions: [] }))}`],
    ['block_actions without a user', `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', actions: [{ action_id: ACTION.approve, value: '01J9Z3Y4N6A8B2C4D6E8F0G2H4' }] }))}`],
    ['a view_submission of a view that is not ours', `payload=${encodeURIComponent(JSON.stringify({ type: 'view_submission', user: { id: 'U1' }, view: { callback_id: 'other' } }))}`],
  ])('%s: an empty 200', async (_name, body) => {
    expect(await rawInteraction(body)).toEqual({ status: 200, text: '', json: undefined });
  });
});

describe('the decision modal, malformed', () => {
  let grantId = '';
  beforeAll(async () => {
    const res = await invoke(t.commands, slashCommandRequest(SIGNING_SECRET, { userId: USERS.bob.id, text: 'request 555555555555 PowerUserAccess 1h deploy the fix' }));
    grantId = /Grant `([0-9A-Z]{26})`/.exec(JSON.stringify(res.json))![1]!;
  });
  const decision = (state: unknown, comment?: unknown) => ({
    type: 'view_submission',
    user: { id: USERS.dave.id },
    view: {
      id: 'VDECIDE',
      callback_id: CALLBACK.decision,
      private_metadata: JSON.stringify({ grantId, decision: 'approve' }),
      state: state ?? { values: { comment: { comment: { type: 'plain_text_input', value: comment } } } },
    },
  });

  it.each([
    ['state:{}', {}],
    ['state:{values:null}', { values: null }],
    ['state:"x"', 'x'],
  ])('%s is refused on the modal, and the request stays pending', async (_name, state) => {
    const res = await interact(decision(state));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ response_action: 'errors', errors: { comment: expect.stringContaining('shape this app does not read') } });
    expect((await t.runtime.store.get(grantId))?.status).toBe('PENDING_APPROVAL');
  });

  it('a number as the comment is refused on the comment field', async () => {
    const res = await interact(decision(undefined, 42));
    expect(res.json).toEqual({ response_action: 'errors', errors: { comment: 'Must be text.' } });
    expect((await t.runtime.store.get(grantId))?.status).toBe('PENDING_APPROVAL');
  });

  it('a comment over the HTTP limit is refused; private_metadata that names no grant is refused', async () => {
    expect((await interact(decision(undefined, 'x'.repeat(1001)))).json).toEqual({ response_action: 'errors', errors: { comment: 'Must be at most 1000 characters.' } });
    const forged = decision(undefined, 'ok') as { view: { private_metadata: string } };
    forged.view.private_metadata = JSON.stringify({ grantId: '../../x', decision: 'approve' });
    expect((await interact(forged)).json).toMatchObject({ response_action: 'errors', errors: { comment: expect.stringContaining('does not say which request') } });
    expect((await t.runtime.store.get(grantId))?.status).toBe('PENDING_APPROVAL');
  });

  it('an empty comment is no comment: the approval goes through', async () => {
    expect((await interact(decision(undefined, null))).json).toEqual({ response_action: 'clear' });
    expect((await t.runtime.store.get(grantId))?.status).toBe('APPROVED');
  });
});

describe('the request modal, malformed', () => {
  it.each([
    ['duration.value: 15', { duration: { type: 'plain_text_input', value: 15 } }, 'duration', 'Must be a positive ISO 8601 duration such as PT30M, PT8H or P1D.'],
    ['selected_option.value: 5', { target: { type: 'static_select', selected_option: { value: 5 } } }, 'target', 'Choose what you need access to.'],
    ['selected_option: "x"', { target: { type: 'static_select', selected_option: 'x' } }, 'target', 'Choose what you need access to.'],
    ['justification.value: ["x"]', { justification: { type: 'plain_text_input', value: ['x'] } }, 'justification', 'Must be text.'],
    ['justification "\\u0000"', { justification: { type: 'plain_text_input', value: '\u0000' } }, 'justification', 'Must not contain control characters (tab and line breaks are fine).'],
    ['a 2,000-character justification', { justification: { type: 'plain_text_input', value: 'x'.repeat(2000) } }, 'justification', 'Must be at most 1000 characters.'],
    ['a 5,000-character ticket', { ticket: { type: 'plain_text_input', value: 'T'.repeat(5000) } }, 'ticket', 'Must be at most 128 characters.'],
    ['an account option that is not an account id', { target: { type: 'static_select', selected_option: { value: 'a|12|ReadOnlyAccess' } } }, 'target', 'Must be a 12-digit AWS account id.'],
    ['a duration the user typed wrong', { duration: { type: 'plain_text_input', value: 'ages' } }, 'duration', '“ages” is not a duration; use e.g. 30m, 2h or 1d.'],
    ['a justification block that is not an object', { justification: 7 }, 'justification', 'Say why you need access.'],
  ])('%s: refused on its field, nothing written', async (_name, elements, block, message) => {
    const before = await grantCount();
    const submission = requestSubmission({ ...goodElements, ...elements });
    // A block whose value is not an object: the block itself, not its element.
    if (typeof (elements as Record<string, unknown>).justification === 'number') submission.view.state.values.justification = 7 as never;
    const res = await interact(submission);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ response_action: 'errors', errors: { [block]: message } });
    expect(await grantCount()).toBe(before);
  });

  it('every bad field is named at once', async () => {
    const res = await interact(viewSubmission({ userId: USERS.bob.id, callbackId: CALLBACK.request, values: { target: {}, duration: { value: 'ages' }, justification: { value: '' } } }));
    expect(res.json).toEqual({
      response_action: 'errors',
      errors: { target: 'Choose what you need access to.', duration: '“ages” is not a duration; use e.g. 30m, 2h or 1d.', justification: 'Say why you need access.' },
    });
  });

  it('a submission without its state is refused on the first field', async () => {
    const res = await interact({ type: 'view_submission', user: { id: USERS.carol.id }, view: { id: 'V1', callback_id: CALLBACK.request, state: { values: null } } });
    expect(res.json).toMatchObject({ response_action: 'errors', errors: { target: expect.stringContaining('shape this app does not read') } });
  });
});

describe('buttons whose value is not what the button stands for', () => {
  it.each([
    ['Approve with a number', ACTION.approve, 5],
    ['Approve with text that is no grant id', ACTION.approve, '../etc'],
    ['Deny without a value', ACTION.deny, undefined],
    ['Revoke with an object', ACTION.revoke, { id: 1 }],
    ['Extend without a duration', ACTION.extend, '01J9Z3Y4N6A8B2C4D6E8F0G2H4'],
    ['Extend with a bad duration', ACTION.extend, '01J9Z3Y4N6A8B2C4D6E8F0G2H4|forever'],
  ])('%s: an ack and an ephemeral refusal, no service call', async (_name, actionId, value) => {
    const responseUrl = t.slack.newResponseUrl();
    const click = { ...buttonClick({ userId: USERS.dave.id, actionId, value: '', responseUrl }), actions: [{ type: 'button', action_id: actionId, value }] };
    const usersInfo = t.slack.calls('users.info').length;
    const res = await interact(click);
    expect(res).toMatchObject({ status: 200, text: '' });
    const post = posts.find((p) => p.url === responseUrl);
    expect(post?.body).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('not one this app can act on') });
    expect(t.slack.calls('users.info').length).toBe(usersInfo);
  });
});

describe('/jit request held to the HTTP limits', () => {
  it.each([
    ['a 2,000-character justification', `request 444444444444 ReadOnlyAccess 1h ${'x'.repeat(2000)}`, '`justification` must be at most 1000 characters.'],
    ['a 5,000-character ticket', `request 444444444444 ReadOnlyAccess 1h logs ticket:${'T'.repeat(5000)}`, '`ticket` must be at most 128 characters.'],
    ['a 300 KB justification', `request 444444444444 ReadOnlyAccess 1h ${'x'.repeat(300 * 1024)}`, '`justification` must be at most 1000 characters.'],
    ['a justification of only a NUL', 'request 444444444444 ReadOnlyAccess 1h \u0000', '`justification` must not contain control characters'],
    ['a group name with a control character', 'request group Break\u0007Glass 1h outage', '`target.group` must not contain control characters'],
    ['a permission set that is no name', 'request 444444444444 Read/Only 1h logs', '`target.permissionSet` must be a permission set name'],
    ['a revoke reason over the limit', `revoke 01J9Z3Y4N6A8B2C4D6E8F0G2H4 ${'r'.repeat(1001)}`, '`reason` must be at most 1000 characters.'],
  ])('%s is refused in the answer, nothing written', async (_name, text, message) => {
    const before = await grantCount();
    const res = await command(text);
    expect(res.status).toBe(200);
    expect(res.json?.response_type).toBe('ephemeral');
    expect(JSON.stringify(res.json)).toContain(JSON.stringify(message).slice(1, -1));
    expect(await grantCount()).toBe(before);
  });

  it('a trigger_id no Slack request carries is refused before any write', async () => {
    const res = await command('request 444444444444 ReadOnlyAccess 1h logs', { triggerId: 't'.repeat(300) });
    expect(String(res.json?.text)).toContain('`trigger_id` is not an id Slack issues');
  });

  it('a form without a user, or with a user id Slack would not send, is answered, not failed', async () => {
    for (const body of ['text=help', 'user_id=&text=help', `user_id=${encodeURIComponent('U1 OR 1=1')}&text=list`]) {
      expect((await invoke(t.commands, { body, headers: signSlackRequest(SIGNING_SECRET, body) })).json).toMatchObject({ text: 'This request does not name a Slack user.' });
    }
  });
});

describe('afterwards', () => {
  it('no handler logged an unexpected error and no idempotency claim names a missing grant', async () => {
    expect(errors).toEqual([]);
    expect(await claimsWithoutGrant(t.runtime.clients.dynamodb, t.runtime.config.GRANTS_TABLE)).toEqual([]);
  });
});
