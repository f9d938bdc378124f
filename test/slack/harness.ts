/** Shared helpers for the Slack suites: API Gateway events from signed Slack requests. */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { SignedSlackRequest } from '../../local/slack/fake-slack.ts';

export const SIGNING_SECRET = 'test-signing-secret-8f1d2c';
export const BOT_TOKEN = 'xoxb-test-bot-token';

let seq = 0;

export function apiEvent(req: SignedSlackRequest, opts: { base64?: boolean; path?: string } = {}): APIGatewayProxyEventV2 {
  const body = opts.base64 ? Buffer.from(req.body, 'utf8').toString('base64') : req.body;
  return {
    version: '2.0',
    routeKey: `POST ${opts.path ?? '/slack/commands'}`,
    rawPath: opts.path ?? '/slack/commands',
    rawQueryString: '',
    headers: { ...req.headers },
    isBase64Encoded: !!opts.base64,
    body,
    requestContext: { requestId: `req-${++seq}` } as APIGatewayProxyEventV2['requestContext'],
  };
}

export function lambdaContext(): Context {
  return { awsRequestId: `aws-req-${++seq}`, functionName: 'test', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
}

export type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

export async function invoke(handler: Handler, req: SignedSlackRequest, opts: { base64?: boolean; path?: string } = {}) {
  const res = await handler(apiEvent(req, opts), lambdaContext());
  const text = typeof res.body === 'string' ? res.body : '';
  let json: Record<string, unknown> | undefined;
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode ?? 200, text, json };
}
