/**
 * What both Slack endpoints share: dependencies, the middy wrapper with
 * signature verification first, and HTTP helpers.
 */
import middy from '@middy/core';
import type { WebClient } from '@slack/web-api';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { logger as defaultLogger } from '../logger.ts';
import type { ReplayGuard, SlackLogger } from '../ports/index.ts';
import type { SlackIdentity } from './identity.ts';
import type { SlackGrantService } from './service.ts';
import { verifySlackRequest } from './verify-middleware.ts';

export interface SlackRuntime {
  service: SlackGrantService;
  /** Client for the acknowledgement path (users.info, views.open). */
  client: WebClient;
  identity: SlackIdentity;
}

export interface SlackEndpointDeps {
  /** Built once per container, after the request is verified (so a forged request costs no set-up). */
  runtime: () => Promise<SlackRuntime>;
  signingSecret: () => Promise<string>;
  replayGuard: ReplayGuard;
  now?: () => number;
  logger?: SlackLogger;
  /** Posts to a response_url (ephemeral answers after the ack). Defaults to fetch. */
  postToResponseUrl?: (url: string, body: unknown) => Promise<void>;
}

export type SlackHttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

export function slackEndpoint(
  deps: SlackEndpointDeps,
  handle: (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>,
) {
  const log = deps.logger ?? defaultLogger;
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(
      verifySlackRequest({
        signingSecret: deps.signingSecret,
        replayGuard: deps.replayGuard,
        ...(deps.now ? { now: deps.now } : {}),
        onRejected: (reason) => log.warn('slack request rejected', { reason }),
      }),
    )
    .handler(handle);
}

export function json(body: unknown, statusCode = 200): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** An empty 200: Slack's acknowledgement that shows nothing. */
export const ACK: APIGatewayProxyStructuredResultV2 = { statusCode: 200, body: '' };

export async function defaultPostToResponseUrl(url: string, body: unknown): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(2000),
  });
  if (!res.ok) throw new Error(`response_url answered ${res.status}`);
}
