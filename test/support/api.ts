/**
 * Calls the real handler modules with API Gateway HTTP API (payload 2.0) events,
 * as the JWT authorizer would pass them: claims under requestContext.authorizer.jwt.
 */
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { operation } from '../../lib/http/schemas.ts';

export interface ApiCall {
  claims?: Record<string, string> | null;
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: any;
}

type Handler = (event: unknown, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
const handlers = new Map<string, Handler>();

export async function loadHandler(functionName: string): Promise<Handler> {
  let h = handlers.get(functionName);
  if (!h) {
    const mod = (await import(`../../functions/${functionName}.ts`)) as { handler: Handler };
    h = mod.handler;
    handlers.set(functionName, h);
  }
  return h;
}

let seq = 0;

export function lambdaContext(functionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: `req-${++seq}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export async function callApi(functionName: string, call: ApiCall = {}): Promise<ApiResponse> {
  const op = operation(functionName);
  const handler = await loadHandler(functionName);
  const path = op.path.replace(/\{(\w+)\}/g, (_, k: string) => call.params?.[k] ?? `{${k}}`);
  const body = call.rawBody ?? (call.body === undefined ? undefined : JSON.stringify(call.body));
  const headers = { 'content-type': 'application/json', ...call.headers };
  const event = {
    version: '2.0',
    routeKey: `${op.method.toUpperCase()} ${op.path}`,
    rawPath: path,
    rawQueryString: new URLSearchParams(call.query ?? {}).toString(),
    headers,
    ...(call.query ? { queryStringParameters: call.query } : {}),
    ...(call.params ? { pathParameters: call.params } : {}),
    ...(body !== undefined ? { body, isBase64Encoded: false } : { isBase64Encoded: false }),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method: op.method.toUpperCase(), path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: `api-${++seq}`,
      routeKey: `${op.method.toUpperCase()} ${op.path}`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
      ...(call.claims === null ? {} : { authorizer: { jwt: { claims: call.claims ?? {}, scopes: null } } }),
    },
  };
  const res = await handler(event, lambdaContext(functionName));
  const text = res.body ?? '';
  return { status: res.statusCode ?? 200, headers: (res.headers ?? {}) as Record<string, string>, body: text ? JSON.parse(text) : undefined };
}

export const as = (email: string) => ({ email });
