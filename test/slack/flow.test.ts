/**
 * End to end through Slack: slash command → approvers' channel message →
 * a non-approver is refused → the approver's button → approved, grant workflow
 * started, channel message updated in place, requester DMed → ACTIVE DM with
 * the console link → revoke from the DM.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Grant } from '../../lib/domain/grant.ts';
import { addDuration } from '../../lib/domain/duration.ts';
import { ACTION } from '../../lib/slack/views.ts';
import { buttonClick, interactionRequest, slashCommandRequest } from '../../local/slack/fake-slack.ts';
import { invoke, SIGNING_SECRET } from './harness.ts';
import { PROD_CHANNEL_ID, START_URL, startSlackTestCloud, USERS, type SlackTestCloud } from './slack-cloud.ts';

let t: SlackTestCloud;
beforeAll(async () => {
  t = await startSlackTestCloud();
});
afterAll(async () => {
  await t?.stop();
});

const blockText = (blocks: unknown[] | undefined) => JSON.stringify(blocks ?? []);

function buttons(blocks: unknown[] | undefined): { action_id: string; value: string }[] {
  return (blocks ?? []).flatMap((b) => ((b as { type: string }).type === 'actions' ? ((b as { elements: { action_id: string; value: string }[] }).elements ?? []) : []));
}

/** What the grant workflow does on success, through the same store transitions. */
async function activate(grant: Grant): Promise<Grant> {
  const { store, clock } = t.runtime;
  const activating = await store.transition({ current: grant, to: 'ACTIVATING', entry: { at: clock.now().toISOString(), actor: { id: 'system:workflow', name: 'grant workflow' }, action: 'activating' } });
  const at = clock.now().toISOString();
  return store.transition({
    current: activating,
    to: 'ACTIVE',
    set: { activatedAt: at, expiresAt: addDuration(at, grant.duration) },
    entry: { at, actor: { id: 'system:workflow', name: 'grant workflow' }, action: 'activated' },
  });
}

describe('Slack request → approve → active', () => {
  let grantId = '';

  it('a slash command files the request and posts it to the approvers channel with buttons', async () => {
    const res = await invoke(t.commands, slashCommandRequest(SIGNING_SECRET, { userId: USERS.bob.id, text: 'request payments-prod PowerUserAccess 2h "fixing incident INC-42" ticket:INC-42' }));
    expect(res.status).toBe(200);
    expect(res.json?.response_type).toBe('ephemeral');
    expect(String(res.json?.text)).toContain('Waiting for 1 approval');
    grantId = /Grant `([0-9A-Z]{26})`/.exec(blockText(res.json?.blocks as unknown[]))?.[1] ?? '';
    expect(grantId).toHaveLength(26);

    const grant = await t.runtime.store.get(grantId);
    expect(grant).toMatchObject({ status: 'PENDING_APPROVAL', principal: { userName: 'bob' }, ticket: 'INC-42', duration: 'PT2H', justification: 'fixing incident INC-42' });
    expect(grant?.target).toMatchObject({ type: 'account', accountId: '555555555555', permissionSet: 'PowerUserAccess' });

    const [message] = t.slack.messages(PROD_CHANNEL_ID);
    expect(message).toBeDefined();
    expect(message!.text).toContain('Waiting for approval');
    expect(buttons(message!.blocks).map((b) => b.action_id)).toEqual([ACTION.approve, ACTION.approveWithComment, ACTION.deny]);
    expect(buttons(message!.blocks).every((b) => b.value === grantId)).toBe(true);
  });

  it('a non-approver clicking Approve gets an ephemeral refusal and nothing changes', async () => {
    const responseUrl = t.slack.newResponseUrl();
    const before = t.slack.calls('chat.update').length;
    const res = await invoke(
      t.interactions,
      interactionRequest(SIGNING_SECRET, buttonClick({ userId: USERS.carol.id, actionId: ACTION.approve, value: grantId, channelId: PROD_CHANNEL_ID, responseUrl })),
      { path: '/slack/interactions' },
    );
    expect(res.status).toBe(200);
    const posts = t.slack.responseUrlPosts().filter((p) => p.url === responseUrl);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(String(posts[0]!.body.text)).toMatch(/Not allowed: you are not an approver/);
    expect((await t.runtime.store.get(grantId))?.status).toBe('PENDING_APPROVAL');
    expect(t.slack.calls('chat.update').length).toBe(before);
  });

  it("the approver's button approves, starts the grant workflow, updates the channel message and DMs the requester", async () => {
    const responseUrl = t.slack.newResponseUrl();
    const [message] = t.slack.messages(PROD_CHANNEL_ID);
    const res = await invoke(
      t.interactions,
      interactionRequest(SIGNING_SECRET, buttonClick({ userId: USERS.dave.id, actionId: ACTION.approve, value: grantId, channelId: PROD_CHANNEL_ID, messageTs: message!.ts, responseUrl })),
      { path: '/slack/interactions' },
    );
    expect(res.status).toBe(200);
    expect(t.slack.responseUrlPosts().filter((p) => p.url === responseUrl)).toEqual([]);

    const grant = await t.runtime.store.get(grantId);
    expect(grant?.status).toBe('APPROVED');
    expect(grant?.approvals.map((a) => a.by.id)).toHaveLength(1);
    const starts = t.cloud.sfn.commandCalls(StartExecutionCommand);
    expect(starts.some((c) => JSON.parse(c.args[0].input.input ?? '{}').grantId === grantId)).toBe(true);

    const updated = t.slack.messages(PROD_CHANNEL_ID).find((m) => m.ts === message!.ts)!;
    expect(updated.updates).toBe(1);
    expect(updated.text).toContain('Approved');
    expect(buttons(updated.blocks)).toEqual([]);
    expect(blockText(updated.blocks)).toContain('Approvals 1/1: dave@example.com');

    const dm = t.slack.messages(`D${USERS.bob.id}`);
    expect(dm).toHaveLength(1);
    expect(dm[0]!.text).toContain('was approved by dave@example.com');
  });

  it('ACTIVE (from the workflow) DMs the console link and shows Revoke in the channel', async () => {
    const active = await activate((await t.runtime.store.get(grantId))!);
    await t.notifier.grantChanged(active, 'activated');
    const dms = t.slack.messages(`D${USERS.bob.id}`);
    expect(dms).toHaveLength(2);
    const link = `${START_URL}/#/console?account_id=555555555555&role_name=PowerUserAccess`;
    expect(blockText(dms[1]!.blocks)).toContain(link);
    expect(buttons(dms[1]!.blocks).map((b) => b.action_id)).toEqual([ACTION.revoke]);
    const channel = t.slack.messages(PROD_CHANNEL_ID)[0]!;
    expect(channel.text).toContain('Active');
    expect(buttons(channel.blocks).map((b) => b.action_id)).toEqual([ACTION.revoke]);

    // The same change delivered twice (at-least-once trigger) does not DM twice.
    await t.notifier.grantChanged(active, 'activated');
    expect(t.slack.messages(`D${USERS.bob.id}`)).toHaveLength(2);
  });

  it('5 minutes before expiry the requester gets an Extend button, and Extend works', async () => {
    const grant = (await t.runtime.store.get(grantId))!;
    await t.notifier.expiryWarning(grant);
    await t.notifier.expiryWarning(grant); // once per expiry instant
    const dms = t.slack.messages(`D${USERS.bob.id}`);
    expect(dms).toHaveLength(3);
    const extend = buttons(dms[2]!.blocks).find((b) => b.action_id === ACTION.extend)!;
    expect(extend.value).toBe(`${grantId}|PT2H`);

    const responseUrl = t.slack.newResponseUrl();
    const res = await invoke(t.interactions, interactionRequest(SIGNING_SECRET, buttonClick({ userId: USERS.bob.id, actionId: ACTION.extend, value: extend.value, responseUrl })), { path: '/slack/interactions' });
    expect(res.status).toBe(200);
    const extended = (await t.runtime.store.get(grantId))!;
    expect(Date.parse(extended.expiresAt!) - Date.parse(grant.expiresAt!)).toBe(2 * 3600_000);
    expect(String(t.slack.responseUrlPosts().find((p) => p.url === responseUrl)?.body.text)).toContain('Extended');
    expect(t.slack.messages(`D${USERS.bob.id}`).at(-1)!.text).toContain('was extended');
  });

  it('the requester ends access from the DM: revoke requested, revoke workflow started', async () => {
    const res = await invoke(t.interactions, interactionRequest(SIGNING_SECRET, buttonClick({ userId: USERS.bob.id, actionId: ACTION.revoke, value: grantId, responseUrl: t.slack.newResponseUrl() })), { path: '/slack/interactions' });
    expect(res.status).toBe(200);
    const grant = (await t.runtime.store.get(grantId))!;
    expect(grant.status).toBe('REVOKING');
    expect(grant.revokeReason).toContain('ended early from Slack');
    const starts = t.cloud.sfn.commandCalls(StartExecutionCommand).map((c) => JSON.parse(c.args[0].input.input ?? '{}') as { grantId: string; mode?: string });
    expect(starts.some((s) => s.grantId === grantId && s.mode === 'early')).toBe(true);
  });
});
