/**
 * Announces grant changes in Slack, driven by the grants table's stream
 * (lib/slack/notify-handler.ts): the approvers' channel message (posted once, then
 * rewritten in place with chat.update so it always shows the grant's current state)
 * and the requester's DMs. Never throws: a Slack outage must not block or undo a
 * grant change. Rate limits are honoured by the WebClient (rejectRateLimitedCalls
 * false: it waits Retry-After and retries).
 */
import type { WebClient } from '@slack/web-api';
import type { Grant } from '../domain/grant.ts';
import type { SessionTerms } from '../domain/session-cut.ts';
import type { ExpiryWarningScheduler, SlackLogger, SlackMessageStore } from '../ports/index.ts';
import { approvalChannelMessage, requesterDm, type DmKind } from './views.ts';

export const EXPIRY_WARNING_LEAD_MS = 5 * 60_000;

export interface SlackNotifierDeps {
  client: WebClient | (() => Promise<WebClient>);
  messages: SlackMessageStore;
  /** The policy rule's `slack.channel`, if any. */
  channelForRule: (ruleId: string) => string | undefined;
  defaultChannel?: string;
  /** SSO start URL for the console link in the ACTIVE DM. */
  startUrl?: string;
  /** What happens to a grant's sessions once it ends (GrantService.sessionTermsOf); absent, the messages do not say. */
  sessionTerms?: (grant: Grant) => Promise<SessionTerms | undefined>;
  expiryWarnings?: ExpiryWarningScheduler;
  logger: SlackLogger;
}

/** Which DM a change deserves, if any. `event` is the service's name for the change, else the last history action. */
export function dmKindFor(grant: Grant, event: string): DmKind | undefined {
  switch (grant.status) {
    case 'APPROVED':
      // An auto-approved request was answered on the spot; only a human decision is news.
      return grant.quorum > 0 ? 'approved' : undefined;
    case 'SCHEDULED':
      return 'scheduled';
    case 'DENIED':
      return 'denied';
    case 'ACTIVE':
      if (event === 'expiry-warning') return 'expiry-warning';
      return event === 'extended' ? 'extended' : 'active';
    case 'EXPIRED':
      return 'expired';
    case 'REVOKED':
      return 'revoked';
    case 'FAILED':
      return 'failed';
    case 'CANCELLED':
      // Cancelling your own request needs no message to yourself.
      return grant.history.at(-1)?.actor.id === grant.principal.userId ? undefined : 'cancelled';
    case 'APPROVAL_EXPIRED':
      return 'approval-expired';
    default:
      return undefined;
  }
}

export class SlackNotifier {
  private readonly dmChannels = new Map<string, string>();

  constructor(private readonly deps: SlackNotifierDeps) {}

  private async client(): Promise<WebClient> {
    const c = this.deps.client;
    return typeof c === 'function' ? c() : c;
  }

  async grantChanged(grant: Grant, event: string): Promise<void> {
    const name = event || grant.history.at(-1)?.action || 'changed';
    await Promise.all([
      this.guard('channel message', grant, () => this.updateChannelMessage(grant)),
      this.guard('requester DM', grant, async () => {
        const kind = dmKindFor(grant, name);
        if (kind && (await this.deps.messages.claimDm(grant.id, `v${grant.version}`))) await this.sendDm(grant, kind);
      }),
      this.guard('expiry warning schedule', grant, async () => {
        if (grant.status === 'ACTIVE' && this.deps.expiryWarnings) await this.deps.expiryWarnings.schedule(grant);
      }),
    ]);
  }

  /** The 5-minutes-before-expiry DM with an Extend button. Sent once per expiry instant. */
  async expiryWarning(grant: Grant): Promise<void> {
    if (grant.status !== 'ACTIVE' || !grant.expiresAt) return;
    await this.guard('expiry warning', grant, async () => {
      if (await this.deps.messages.claimDm(grant.id, `warn:${grant.expiresAt}`)) await this.sendDm(grant, 'expiry-warning');
    });
  }

  private async guard(what: string, grant: Grant, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (e) {
      this.deps.logger.error(`slack notification failed: ${what}`, { grantId: grant.id, status: grant.status, error: e as Error });
    }
  }

  /** The terms inform; a failed lookup leaves them out of the message rather than hold it up. */
  private async sessionTermsOf(grant: Grant): Promise<SessionTerms | undefined> {
    return this.deps.sessionTerms?.(grant).catch(() => undefined);
  }

  channelFor(grant: Grant): string | undefined {
    return this.deps.channelForRule(grant.ruleId) ?? this.deps.defaultChannel;
  }

  private async updateChannelMessage(grant: Grant): Promise<void> {
    // Requests that need nobody's approval have nothing for approvers to act on.
    if (grant.quorum === 0) return;
    const message = approvalChannelMessage(grant, await this.sessionTermsOf(grant));
    const ref = await this.deps.messages.getChannelMessage(grant.id);
    const client = await this.client();
    if (ref) {
      await client.chat.update({ channel: ref.channel, ts: ref.ts, text: message.text, blocks: message.blocks as never });
      return;
    }
    const channel = this.channelFor(grant);
    if (!channel) {
      this.deps.logger.warn('no Slack approvals channel for this rule and no default (SLACK_APPROVALS_CHANNEL)', { grantId: grant.id, ruleId: grant.ruleId });
      return;
    }
    if (!(await this.deps.messages.claimChannelMessage(grant.id))) return;
    const posted = await client.chat.postMessage({ channel, text: message.text, blocks: message.blocks as never, unfurl_links: false });
    if (posted.channel && posted.ts) await this.deps.messages.saveChannelMessage(grant.id, { channel: posted.channel, ts: posted.ts });
  }

  private async dmChannelFor(client: WebClient, email: string): Promise<string | undefined> {
    const key = email.toLowerCase();
    const cached = this.dmChannels.get(key);
    if (cached) return cached;
    let userId: string | undefined;
    try {
      userId = (await client.users.lookupByEmail({ email })).user?.id;
    } catch (e) {
      if ((e as { data?: { error?: string } }).data?.error === 'users_not_found') return undefined;
      throw e;
    }
    if (!userId) return undefined;
    const opened = await client.conversations.open({ users: userId });
    const channel = opened.channel?.id;
    if (channel) this.dmChannels.set(key, channel);
    return channel;
  }

  private async sendDm(grant: Grant, kind: DmKind): Promise<void> {
    const client = await this.client();
    const channel = await this.dmChannelFor(client, grant.principal.email);
    if (!channel) {
      this.deps.logger.warn('requester has no Slack account with this email; DM skipped', { grantId: grant.id });
      return;
    }
    const session = await this.sessionTermsOf(grant);
    const message = requesterDm(kind, grant, { ...(this.deps.startUrl ? { startUrl: this.deps.startUrl } : {}), ...(session ? { session } : {}) });
    await client.chat.postMessage({ channel, text: message.text, blocks: message.blocks as never, unfurl_links: false });
  }
}
