/**
 * Maps every error to application/problem+json. AppErrors keep their status; AWS
 * throttling that outlasted the SDK's retries, or AWS too slow for the function's time,
 * is a 503 with Retry-After; anything
 * else is logged and becomes a 500 that reveals nothing internal.
 */
import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { AppError, PROBLEM_TYPE_BASE } from '../../errors.ts';
import { INTERNAL_PROBLEM, problemFromError, problemResponse } from '../problem.ts';

export interface ErrorLogger {
  error(message: string, ...extra: unknown[]): void;
  warn(message: string, ...extra: unknown[]): void;
}

const THROTTLING = new Set(['ThrottlingException', 'TooManyRequestsException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded', 'Throttling']);

/** The function's time ran out (middy's early timeout) or an AWS call's did (the SDK's request timeout). */
function isOutOfTime(err: unknown): boolean {
  return (err as { name?: string } | undefined)?.name === 'TimeoutError';
}

function isThrottling(err: unknown): boolean {
  const e = err as { name?: string; $retryable?: { throttling?: boolean } } | undefined;
  return !!e && (THROTTLING.has(e.name ?? '') || e.$retryable?.throttling === true);
}

/** The AWS calls in flight started since a moment (lib/adapters/aws-calls-in-flight.ts), for the log of a request that ran out of time. */
export type CallsInFlight = (since: number) => unknown[];

export function problemErrors(logger: ErrorLogger, callsInFlight?: CallsInFlight): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  const startedAt = new WeakMap<object, number>();
  return {
    before: async (request) => {
      startedAt.set(request, Date.now());
    },
    onError: async (request) => {
      const err = request.error;
      const instance = request.event?.requestContext?.requestId;
      if (isThrottling(err)) {
        // An AWS quota (Identity Center's 20 TPS is shared by every caller) still refusing after the
        // SDK's retries: the request did nothing and can be repeated shortly.
        logger.warn('request throttled by AWS after retries', { error: (err as Error).name });
        request.response = problemResponse(
          { type: PROBLEM_TYPE_BASE + 'throttled', title: 'Busy', status: 503, detail: 'AWS is throttling this service right now; nothing was changed, retry in a few seconds', ...(instance ? { instance } : {}) },
          { 'retry-after': '2' },
        );
      } else if (isOutOfTime(err)) {
        // AWS too slow to answer within the integration's time (its quotas are shared, busiest in a storm):
        // whether the request took effect is unknown, so it is repeated with the same Idempotency-Key.
        logger.error('request ran out of time waiting on AWS', {
          error: err,
          ...(callsInFlight ? { awsCallsInFlight: callsInFlight(startedAt.get(request) ?? 0) } : {}),
        });
        request.response = problemResponse(
          {
            type: PROBLEM_TYPE_BASE + 'timed-out',
            title: 'Busy',
            status: 503,
            detail: 'AWS did not answer in time; the request may or may not have taken effect: repeat it with the same Idempotency-Key, or read the resource, in a few seconds',
            ...(instance ? { instance } : {}),
          },
          { 'retry-after': '2' },
        );
      } else if (err instanceof AppError) {
        if (err.status >= 500) logger.error('request failed', { error: err });
        else logger.warn('request refused', { status: err.status, detail: err.message });
        request.response = problemResponse(problemFromError(err, instance));
      } else {
        logger.error('unhandled error', { error: err });
        request.response = problemResponse({ ...INTERNAL_PROBLEM, ...(instance ? { instance } : {}) });
      }
    },
  };
}
