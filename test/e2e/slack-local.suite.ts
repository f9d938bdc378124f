/**
 * Slack end to end on the local cloud: signed requests through the gateway,
 * the real handlers and workflows, and notifications fed by the (emulated)
 * table stream to the fake Slack Web API, which records what users would see.
 * Run from the sources and, as deployed, from the packaged artifacts with IAM enforced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION } from '../../lib/slack/views.ts';
import type { LocalCloud } from '../../local/cloud.ts';
import { startFastLocalCloud } from '../support/local-cloud.ts';
import { buttonClick, interactionRequest, slashCommandRequest, type SignedSlackRequest } from '../../local/slack/fake-slack.ts';

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
  });
}
