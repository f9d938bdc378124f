/**
 * Slack request signing (https://api.slack.com/authentication/verifying-requests-from-slack):
 * `v0=` + hex HMAC-SHA256(signing secret, `v0:{timestamp}:{raw body}`).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack's own limit: a request older (or newer) than this is refused, which bounds the replay window. */
export const SLACK_MAX_SKEW_SECONDS = 5 * 60;

export type SignatureCheck =
  | { ok: true; timestamp: number; signature: string }
  | { ok: false; reason: 'missing-headers' | 'bad-timestamp' | 'stale-timestamp' | 'bad-signature' };

export interface SignatureInput {
  signingSecret: string;
  /** X-Slack-Request-Timestamp header (epoch seconds). */
  timestamp: string | undefined;
  /** X-Slack-Signature header. */
  signature: string | undefined;
  /** The body exactly as Slack sent it (already base64-decoded). */
  rawBody: string;
  nowMs?: number;
}

export function computeSlackSignature(signingSecret: string, timestamp: string | number, rawBody: string): string {
  return 'v0=' + createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`, 'utf8').digest('hex');
}

export function verifySlackSignature(input: SignatureInput): SignatureCheck {
  const { signingSecret, timestamp, signature, rawBody } = input;
  if (!timestamp || !signature) return { ok: false, reason: 'missing-headers' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'bad-timestamp' };
  const ts = Number(timestamp);
  const nowSec = Math.floor((input.nowMs ?? Date.now()) / 1000);
  if (Math.abs(nowSec - ts) > SLACK_MAX_SKEW_SECONDS) return { ok: false, reason: 'stale-timestamp' };
  const expected = Buffer.from(computeSlackSignature(signingSecret, timestamp, rawBody), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  // timingSafeEqual throws on different lengths; the length of a valid signature is public, so checking it first leaks nothing.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad-signature' };
  return { ok: true, timestamp: ts, signature };
}

/** Headers Slack would send for `rawBody`; used by the fake Slack, tests and benchmarks. */
export function signSlackRequest(signingSecret: string, rawBody: string, nowMs = Date.now()): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  return {
    'x-slack-request-timestamp': timestamp,
    'x-slack-signature': computeSlackSignature(signingSecret, timestamp, rawBody),
  };
}
