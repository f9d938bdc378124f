/**
 * Maps every error to application/problem+json. AppErrors keep their status;
 * anything else is logged and becomes a 500 that reveals nothing internal.
 */
import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { AppError } from '../../errors.ts';
import { INTERNAL_PROBLEM, problemFromError, problemResponse } from '../problem.ts';

export interface ErrorLogger {
  error(message: string, ...extra: unknown[]): void;
  warn(message: string, ...extra: unknown[]): void;
}

export function problemErrors(logger: ErrorLogger): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  return {
    onError: async (request) => {
      const err = request.error;
      const instance = request.event?.requestContext?.requestId;
      if (err instanceof AppError) {
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
