/**
 * Maps a Slack user to the IAM Identity Center user: Slack profile email
 * (users.info) → GetUserId on emails.value through the grant service.
 */
import type { WebClient } from '@slack/web-api';
import { UnauthenticatedError } from '../errors.ts';
import type { SlackCaller, SlackGrantService } from './service.ts';

const EMAIL_TTL_MS = 10 * 60_000;

export class SlackIdentity {
  /** Slack user id → profile email. Group membership is not cached: the service resolves it on every call. */
  private readonly emails = new Map<string, { email: string; until: number }>();

  constructor(
    private readonly client: WebClient,
    private readonly service: SlackGrantService,
    private readonly now: () => number = Date.now,
  ) {}

  async emailOf(slackUserId: string): Promise<string> {
    const hit = this.emails.get(slackUserId);
    if (hit && hit.until > this.now()) return hit.email;
    let email: string | undefined;
    try {
      const res = await this.client.users.info({ user: slackUserId });
      if (res.user?.deleted || res.user?.is_bot) throw new UnauthenticatedError('Bots and deactivated Slack users cannot use /jit.');
      email = res.user?.profile?.email?.trim();
    } catch (e) {
      if (e instanceof UnauthenticatedError) throw e;
      const code = (e as { data?: { error?: string } }).data?.error;
      if (code === 'user_not_found') throw new UnauthenticatedError(`Slack does not know user ${slackUserId}.`);
      throw e;
    }
    if (!email) throw new UnauthenticatedError('Your Slack profile has no email address, so you cannot be matched to an IAM Identity Center user.');
    this.emails.set(slackUserId, { email, until: this.now() + EMAIL_TTL_MS });
    return email;
  }

  /** The service compares emails case-insensitively (GetUserId on emails.value). */
  async callerFor(slackUserId: string): Promise<SlackCaller> {
    return this.service.callerForEmail(await this.emailOf(slackUserId));
  }
}
