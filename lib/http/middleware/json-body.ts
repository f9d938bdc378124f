/**
 * Parses a JSON request body. A body that is not JSON, not an object, or sent
 * with another content type is a 400 or 415 that says so, before any handler logic.
 * An empty body parses as `{}` so optional-body routes (approve, cancel) need none.
 */
import type middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { AppError, ValidationError } from '../../errors.ts';

export class UnsupportedMediaTypeError extends AppError {
  override readonly name = 'UnsupportedMediaTypeError';
  readonly status = 415;
  readonly type = 'unsupported-media-type';
  readonly title = 'Unsupported media type';
}

export type ParsedBodyEvent = APIGatewayProxyEventV2 & { parsedBody: unknown };

const MAX_BODY_BYTES = 64 * 1024;

export function jsonBody(): middy.MiddlewareObj<ParsedBodyEvent> {
  return {
    before: async (request) => {
      const event = request.event;
      const raw = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
      if (raw.trim() === '') {
        event.parsedBody = {};
        return;
      }
      if (Buffer.byteLength(raw) > MAX_BODY_BYTES) throw new ValidationError(`request body is larger than ${MAX_BODY_BYTES} bytes`);
      const contentType = Object.entries(event.headers ?? {}).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
      if (contentType && !/^application\/([\w.+-]+\+)?json\b/i.test(contentType)) {
        throw new UnsupportedMediaTypeError(`content-type must be application/json, not ${contentType}`);
      }
      try {
        event.parsedBody = JSON.parse(raw);
      } catch (err) {
        throw new ValidationError(`request body is not valid JSON: ${(err as Error).message}`, [{ field: 'body', message: 'not valid JSON' }]);
      }
      if (event.parsedBody === null || typeof event.parsedBody !== 'object' || Array.isArray(event.parsedBody)) {
        throw new ValidationError('request body must be a JSON object', [{ field: 'body', message: 'must be a JSON object' }]);
      }
    },
  };
}
