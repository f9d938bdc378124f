/**
 * Ports of the Slack code (lib/slack) beyond the grant ports. SDK adapters:
 * lib/adapters/slack-message-store.ts, slack-replay-guard.ts, slack-expiry-warnings.ts.
 */
import type { Grant } from '../domain/grant.ts';

/** Where the approvers' channel message about a grant was posted (for chat.update). */
export interface ChannelMessageRef {
  channel: string;
  ts: string;
}

/**
 * Per-grant Slack bookkeeping: where the approvers' message is and which DMs were
 * already sent (so an at-least-once trigger does not post or DM twice).
 */
export interface SlackMessageStore {
  getChannelMessage(grantId: string): Promise<ChannelMessageRef | undefined>;
  /** Claims the right to post the channel message; false when another worker posted or is posting. */
  claimChannelMessage(grantId: string): Promise<boolean>;
  saveChannelMessage(grantId: string, ref: ChannelMessageRef): Promise<void>;
  /** True the first time a DM key (grant version, or a warning) is claimed for this grant. */
  claimDm(grantId: string, dmKey: string): Promise<boolean>;
}

/** Replay protection for signed Slack requests. */
export interface ReplayGuard {
  /** True the first time a signed request is seen; false for a replay. */
  consume(signature: string, timestamp: number): Promise<boolean>;
}

/** Creates or moves the one-off schedule that triggers the 5-minutes-before-expiry DM. */
export interface ExpiryWarningScheduler {
  schedule(grant: Grant): Promise<void>;
}

/** What the expiry-warning schedule sends the slackNotify function. */
export interface ExpiryWarningInput {
  kind: 'expiry-warning';
  grantId: string;
  /** The expiry this warning is for; a later extension makes it moot. */
  expiresAt: string;
}

/** Where the Slack code's log lines go (Powertools Logger and the console fit). */
export interface SlackLogger {
  info(message: string, ...extra: unknown[]): void;
  warn(message: string, ...extra: unknown[]): void;
  error(message: string, ...extra: unknown[]): void;
}
