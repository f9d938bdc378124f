/**
 * Builds a thin Lambda handler for one HTTP operation: validate path, query,
 * headers and body against the operation's zod schemas, resolve the caller
 * from the JWT claims, run the use case, answer JSON or problem+json.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { z } from 'zod';
import { UnauthenticatedError } from '../errors.ts';
import { logger } from '../logger.ts';
import type { Config } from '../config.ts';
import type { Caller, GrantService } from '../service/grants.ts';
import type { CursorCodec } from './cursor.ts';
import { jsonBody, type ParsedBodyEvent } from './middleware/json-body.ts';
import { withSessionTerms } from './session-terms.ts';
import { problemErrors } from './middleware/problem-errors.ts';
import { callsInFlight } from '../adapters/aws-calls-in-flight.ts';
import { validationErrorFrom } from './problem.ts';
import { idempotencyKeySchema, operation } from './schemas.ts';

type Event = APIGatewayProxyEventV2WithJWTAuthorizer & ParsedBodyEvent;

/** What the HTTP operations run (the composition root, lib/composition/runtime.ts, builds it). */
export interface ApiServices {
  config: Pick<Config, 'IDENTITY_CLAIM'>;
  service: GrantService;
  /** Seals and opens the pagination cursors (listGrants). */
  cursors: () => Promise<CursorCodec>;
}

export interface ApiRequest<B, Q, P> {
  caller: Caller;
  body: B;
  query: Q;
  params: P;
  idempotencyKey?: string;
  /** A request header by its lower-case name (content negotiation). */
  header(name: string): string | undefined;
  service: GrantService;
  cursors: ApiServices['cursors'];
}

export interface ApiResult {
  status?: number;
  body: unknown;
  headers?: Record<string, string>;
  /** A body sent as it is (another media type than JSON, named in `headers`), instead of `body` as JSON. */
  text?: string;
}

function parsePart<T>(part: 'body' | 'query' | 'path' | 'header', schema: z.ZodType<T> | undefined, value: unknown): T {
  if (!schema) return undefined as T;
  const result = schema.safeParse(value);
  if (!result.success) throw validationErrorFrom(part, result.error);
  return result.data;
}

function header(event: Event, name: string): string | undefined {
  const entry = Object.entries(event.headers ?? {}).find(([k]) => k.toLowerCase() === name);
  return entry?.[1];
}

/** The identity claim (default `email`) from the API Gateway JWT authorizer, mapped to the Identity Store user. */
export async function callerFromEvent(event: APIGatewayProxyEventV2WithJWTAuthorizer, services: ApiServices): Promise<Caller> {
  const claims = event.requestContext?.authorizer?.jwt?.claims ?? {};
  const claimName = services.config.IDENTITY_CLAIM;
  const value = claims[claimName];
  if (typeof value !== 'string' || value === '') {
    throw new UnauthenticatedError(`the token has no \`${claimName}\` claim to identify you`);
  }
  return services.service.callerFor(claimName === 'email' || value.includes('@') ? { email: value } : { userName: value });
}

export function apiHandler<B = undefined, Q = undefined, P = undefined>(
  functionName: string,
  services: () => ApiServices,
  run: (req: ApiRequest<B, Q, P>) => Promise<ApiResult>,
) {
  const op = operation(functionName);
  const base = async (event: Event, _context: Context): Promise<APIGatewayProxyStructuredResultV2> => {
    const { service, cursors, config } = services();
    const params = parsePart('path', op.params as z.ZodType<P> | undefined, event.pathParameters ?? {});
    if (params && typeof params === 'object' && 'id' in params) logger.appendKeys({ grantId: String(params.id) });
    const query = parsePart('query', op.query as z.ZodType<Q> | undefined, event.queryStringParameters ?? {});
    const body = parsePart('body', op.body as z.ZodType<B> | undefined, event.parsedBody);
    const idempotencyKey = op.idempotencyKey ? parsePart('header', idempotencyKeySchema, header(event, 'idempotency-key')) : undefined;
    const caller = await callerFromEvent(event, { service, cursors, config });
    const result = await run({ caller, body, query, params, service, cursors, header: (name) => header(event, name), ...(idempotencyKey ? { idempotencyKey } : {}) });
    result.body = await withSessionTerms(service, result.body);
    const resultBody = result.body as { id?: unknown } | undefined;
    if (resultBody && typeof resultBody.id === 'string') logger.appendKeys({ grantId: resultBody.id });
    return {
      statusCode: result.status ?? op.success.status,
      headers: { 'content-type': 'application/json', ...result.headers },
      body: result.text ?? JSON.stringify(result.body),
    };
  };
  return middy<Event, APIGatewayProxyStructuredResultV2>(base)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({ before: async (request) => logger.appendKeys({ requestId: request.event.requestContext?.requestId }) })
    .use(problemErrors(logger, callsInFlight))
    .use(jsonBody());
}
