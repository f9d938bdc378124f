/**
 * First middleware of every Slack endpoint: decodes the body, checks the
 * signature, the timestamp and replay, and answers 401 before anything else
 * runs (no write other than the replay marker of a valid request, no Slack call).
 */
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { ReplayGuard } from '../ports/index.ts';
import { verifySlackSignature } from './signature.ts';

export interface SlackVerifierOptions {
  signingSecret: () => Promise<string>;
  replayGuard: ReplayGuard;
  now?: () => number;
  onRejected?: (reason: string) => void;
}

/** The body Slack signed: API Gateway may hand it over base64-encoded. */
export function rawBodyOf(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>): string {
  if (!event.body) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  // HTTP API lowercases header names; be liberal for other front doors (tests, local).
  const headers = event.headers ?? {};
  const direct = headers[name];
  if (direct !== undefined) return direct;
  const found = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return found ? headers[found] : undefined;
}

export const UNAUTHORIZED: APIGatewayProxyStructuredResultV2 = {
  statusCode: 401,
  headers: { 'content-type': 'text/plain' },
  body: 'invalid request signature',
};

export function verifySlackRequest(
  options: SlackVerifierOptions,
): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context> {
  return {
    before: async (request) => {
      const event = request.event;
      const rawBody = rawBodyOf(event);
      const check = verifySlackSignature({
        signingSecret: await options.signingSecret(),
        timestamp: header(event, 'x-slack-request-timestamp'),
        signature: header(event, 'x-slack-signature'),
        rawBody,
        ...(options.now ? { nowMs: options.now() } : {}),
      });
      if (!check.ok) {
        options.onRejected?.(check.reason);
        return UNAUTHORIZED;
      }
      if (!(await options.replayGuard.consume(check.signature, check.timestamp))) {
        options.onRejected?.('replayed');
        return UNAUTHORIZED;
      }
      // Later code reads the verified text, never the possibly-encoded original.
      event.body = rawBody;
      event.isBase64Encoded = false;
      return undefined;
    },
  };
}
