/**
 * Slack end to end on the local cloud: signed requests through the gateway,
 * the real handlers and workflows, and notifications fed by the (emulated)
 * table stream to the fake Slack Web API, which records what users would see.
 * Run from the sources and, as deployed, from the packaged artifacts with IAM enforced.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signSlackRequest } from '../../lib/slack/signature.ts';
import { ACTION, CALLBACK } from '../../lib/slack/views.ts';
import type { LocalCloud } from '../../local/cloud.ts';
import { startFastLocalCloud } from '../support/local-cloud.ts';
import { buttonClick, interactionRequest, slashCommandRequest, type SignedSlackRequest } from '../../local/slack/fake-slack.ts';
import { claimsWithoutGrant } from '../support/idempotency.ts';

export function slackOnTheLocalCloud(mode: { packaged: boolean }): void {
  let cloud: LocalCloud;
  beforeAll(async () => {
    cloud = await startFastLocalCloud({ packaged: mode.packaged, idcKnobs: { provisioningDelayMs: { minMs: 20, maxMs: 50 } } });
  }, 120_000);
  afterAll(async () => cloud?.stop());

  const post = (path: string, req: SignedSlackRequest) => fetch(`${cloud.gatewayUrl}${path}`, { method: 'POST', headers: req.headers, body: req.body });

  async function eventually<T>(probe: () => T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  describe(`Slack on the local cloud (${mode.packaged ? 'packaged, IAM enforced' : 'sources'})`, () => {
    it('refuses an unsigned or badly signed request with 401', async () => {
      const slack = cloud.slack!;
      const good = slashCommandRequest(slack.signingSecret, { userId: slack.userIdOf('bob@example.com'), text: 'help' });
      const res = await post('/slack/commands', { ...good, headers: { ...good.headers, 'x-slack-signature': 'v0=deadbeef' } });
      expect(res.status).toBe(401);
      expect(slack.api.calls().filter((c) => c.method !== 'auth.test')).toHaveLength(0);
    });

    it('slash command → approver button in the channel → ACTIVE → DM, all through the gateway', async () => {
      const slack = cloud.slack!;
      const bob = slack.userIdOf('bob@example.com');
      const dave = slack.userIdOf('dave@example.com');
      const res = await post('/slack/commands', slashCommandRequest(slack.signingSecret, { userId: bob, text: 'request 555555555555 PowerUserAccess PT5M need to deploy the fix' }));
      expect(res.status).toBe(200);

      // The approvers' channel message arrives through the stream-fed notifier.
      const approvalMessage = await eventually(
        () => slack.api.messages().find((m) => JSON.stringify(m.blocks ?? []).includes(ACTION.approve)),
        'the approval request in the channel',
      );
      const grantId = JSON.stringify(approvalMessage.blocks).match(/"value":"([0-9A-HJKMNP-TV-Z]{26})"/)![1]!;

      const click = await post(
        '/slack/interactions',
        interactionRequest(slack.signingSecret, buttonClick({ userId: dave, actionId: ACTION.approve, value: grantId, channelId: approvalMessage.channel, messageTs: approvalMessage.ts, responseUrl: slack.api.newResponseUrl() })),
      );
      expect(click.status).toBe(200);

      // The workflow activates the grant; the requester's DM says so with a console link.
      await eventually(() => cloud.idc.assignments().some((a) => a.accountId === '555555555555' && a.principalId === cloud.idc.userId('bob')), 'the assignment');
      const dm = await eventually(
        () => slack.api.calls('chat.postMessage').find((c) => String(c.args.channel).startsWith('D') && /active/i.test(JSON.stringify(c.args))),
        'the ACTIVE DM',
      );
      expect(JSON.stringify(dm.args)).toContain(grantId);
      // The channel message was updated in place as the grant moved on.
      await eventually(() => slack.api.messages().find((m) => m.ts === approvalMessage.ts && m.updates > 0), 'the channel message update');
    });

    describe('malformed but signed requests get a clean answer and write nothing', () => {
      const answer = async (res: Response) => {
        const text = await res.text();
        return { status: res.status, text, json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
      };
      const interact = (payload: unknown) => post('/slack/interactions', interactionRequest(cloud.slack!.signingSecret, payload as Record<string, unknown>));
      const elements = (overrides: Record<string, unknown>) => {
        const all: Record<string, unknown> = {
          target: { type: 'static_select', selected_option: { value: 'a|444444444444|ReadOnlyAccess' } },
          duration: { type: 'plain_text_input', value: '1h' },
          justification: { type: 'plain_text_input', value: 'look at logs' },
          ...overrides,
        };
        return Object.fromEntries(Object.entries(all).map(([id, el]) => [id, { [id]: el }]));
      };
      const submission = (userId: string, callbackId: string, state: unknown, privateMetadata = '') => ({
        type: 'view_submission',
        user: { id: userId },
        view: { id: `V${Date.now()}${Math.random().toString(36).slice(2, 6).toUpperCase()}`, callback_id: callbackId, private_metadata: privateMetadata, state },
      });

      it('payload=null is acknowledged', async () => {
        const body = 'payload=null';
        const res = await answer(await post('/slack/interactions', { body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(cloud.slack!.signingSecret, body) } }));
        expect(res).toEqual({ status: 200, text: '', json: undefined });
      });

      it('a decision modal without its state, or with a number as the comment, is refused on the comment field', async () => {
        const dave = cloud.slack!.userIdOf('dave@example.com');
        const metadata = JSON.stringify({ grantId: '01J9Z3Y4N6A8B2C4D6E8F0G2H4', decision: 'approve' });
        for (const state of [{}, { values: null }]) {
          const res = await answer(await interact(submission(dave, CALLBACK.decision, state, metadata)));
          expect(res.status).toBe(200);
          expect(res.json).toMatchObject({ response_action: 'errors', errors: { comment: expect.stringContaining('shape this app does not read') } });
        }
        const res = await answer(await interact(submission(dave, CALLBACK.decision, { values: { comment: { comment: { type: 'plain_text_input', value: 42 } } } }, metadata)));
        expect(res).toMatchObject({ status: 200, json: { response_action: 'errors', errors: { comment: 'Must be text.' } } });
      });

      it.each([
        ['duration.value: 15', { duration: { type: 'plain_text_input', value: 15 } }, 'duration'],
        ['selected_option.value: 5', { target: { type: 'static_select', selected_option: { value: 5 } } }, 'target'],
        ['justification.value: ["x"]', { justification: { type: 'plain_text_input', value: ['x'] } }, 'justification'],
        ['a 2,000-character justification', { justification: { type: 'plain_text_input', value: 'x'.repeat(2000) } }, 'justification'],
      ])('a request modal with %s is refused on that field', async (_name, overrides, block) => {
        const res = await answer(await interact(submission(cloud.slack!.userIdOf('carol@example.com'), CALLBACK.request, { values: elements(overrides) })));
        expect(res.status).toBe(200);
        expect(res.json).toMatchObject({ response_action: 'errors' });
        expect(Object.keys(res.json!.errors as object)).toEqual([block]);
      });

      it.each([
        ['a 2,000-character justification', `request 444444444444 ReadOnlyAccess 1h ${'x'.repeat(2000)}`, '`justification` must be at most 1000 characters.'],
        ['a 5,000-character ticket', `request 444444444444 ReadOnlyAccess 1h logs ticket:${'T'.repeat(5000)}`, '`ticket` must be at most 128 characters.'],
        ['a 300 KB justification', `request 444444444444 ReadOnlyAccess 1h ${'x'.repeat(300 * 1024)}`, '`justification` must be at most 1000 characters.'],
        ['a justification of only a NUL', 'request 444444444444 ReadOnlyAccess 1h \u0000', '`justification` must not contain control characters'],
      ])('/jit request with %s is refused in an ephemeral answer', async (_name, text, message) => {
        const res = await answer(await post('/slack/commands', slashCommandRequest(cloud.slack!.signingSecret, { userId: cloud.slack!.userIdOf('carol@example.com'), text })));
        expect(res.status).toBe(200);
        expect(res.json).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining(message) });
      });

      it('no idempotency claim is left without its grant', async () => {
        const client = new DynamoDBClient({ endpoint: cloud.dynamo.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
        expect(await claimsWithoutGrant(client, cloud.tableName)).toEqual([]);
        client.destroy();
      });
    });
  });
}
