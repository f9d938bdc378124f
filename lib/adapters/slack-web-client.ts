/**
 * WebClient factories. `slackApiUrl` (SLACK_API_URL) points the client at the fake
 * Slack locally and in tests; in AWS it is unset and the client talks to slack.com.
 */
import { LogLevel, WebClient, type RetryOptions } from '@slack/web-api';

export interface SlackClientOptions {
  slackApiUrl?: string;
}

function apiUrl(o: SlackClientOptions): { slackApiUrl?: string } {
  const url = o.slackApiUrl;
  if (!url) return {};
  return { slackApiUrl: url.endsWith('/') ? url : `${url}/` };
}

/**
 * For the 3-second acknowledgement path (users.info, views.open): one quick retry
 * at most, and a hard per-call timeout, so a slow Slack turns into a clear error
 * before Slack gives up on us.
 */
export const ACK_RETRY: RetryOptions = { retries: 1, minTimeout: 100, maxTimeout: 300, maxRetryTime: 1500 };

/**
 * For notifications (async): rate-limited calls wait for Retry-After and try again
 * (rejectRateLimitedCalls false), other failures back off, all within the worker's time.
 */
export const NOTIFY_RETRY: RetryOptions = { retries: 5, factor: 2, minTimeout: 500, maxTimeout: 10_000, maxRetryTime: 45_000, randomize: true };

export function ackWebClient(token: string, o: SlackClientOptions = {}): WebClient {
  return new WebClient(token, { ...apiUrl(o), retryConfig: ACK_RETRY, timeout: 2000, rejectRateLimitedCalls: false, logLevel: LogLevel.ERROR });
}

export function notifyWebClient(token: string, o: SlackClientOptions & { retryConfig?: RetryOptions } = {}): WebClient {
  return new WebClient(token, {
    ...apiUrl(o),
    retryConfig: o.retryConfig ?? NOTIFY_RETRY,
    timeout: 10_000,
    rejectRateLimitedCalls: false,
    logLevel: LogLevel.ERROR,
  });
}
