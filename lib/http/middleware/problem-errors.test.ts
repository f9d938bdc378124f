import middy from '@middy/core';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { ConflictError, invalidCursorError, ValidationError } from '../../errors.ts';
import { problemErrors } from './problem-errors.ts';

const logger = () => ({ error: vi.fn(), warn: vi.fn() });
const event = { requestContext: { requestId: 'req-1' } } as never;
const failing = (err: Error) =>
  middy<never, APIGatewayProxyStructuredResultV2>(async () => {
    throw err;
  });

describe('problemErrors', () => {
  it('maps an AppError to its status as problem+json with the field errors', async () => {
    const log = logger();
    const handler = failing(new ValidationError('invalid body: body.duration: bad', [{ field: 'body.duration', message: 'bad' }])).use(problemErrors(log));
    const res = await handler(event, {} as never);
    expect(res.statusCode).toBe(400);
    expect(res.headers).toEqual({ 'content-type': 'application/problem+json' });
    expect(JSON.parse(res.body as string)).toEqual({
      type: 'https://identity-center-jit.dev/problems/validation-error',
      title: 'Request is not valid',
      status: 400,
      detail: 'invalid body: body.duration: bad',
      instance: 'req-1',
      errors: [{ field: 'body.duration', message: 'bad' }],
    });
    expect(log.warn).toHaveBeenCalledOnce();
  });

  it('keeps 409 as 409', async () => {
    const handler = failing(new ConflictError('grant X is DENIED')).use(problemErrors(logger()));
    expect((await handler(event, {} as never)).statusCode).toBe(409);
  });

  it('answers a refused cursor with a 400 that names it and says how to go on', async () => {
    const res = await failing(invalidCursorError('issued to another caller')).use(problemErrors(logger()))(event, {} as never);
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body as string)).toMatchObject({
      status: 400,
      detail: 'cursor is not valid: start again from the first page (omit cursor)',
      errors: [{ field: 'cursor', message: 'issued to another caller' }],
    });
  });

  it('leaves an AWS ValidationException a 500: caller input is mapped where it enters (the cursor, the store), so one reaching here is a fault of ours', async () => {
    const log = logger();
    const aws = Object.assign(new Error('The provided starting key is invalid'), { name: 'ValidationException', $fault: 'client' });
    const res = await failing(aws).use(problemErrors(log))(event, {} as never);
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('starting key');
    expect(log.error).toHaveBeenCalledOnce();
  });

  it('turns AWS throttling that outlasted the retries into a 503 with Retry-After', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const res = await failing(throttled).use(problemErrors(logger()))(event, {} as never);
    expect(res.statusCode).toBe(503);
    expect(res.headers).toMatchObject({ 'retry-after': '2', 'content-type': 'application/problem+json' });
  });

  it('turns a handler that ran out of time (AWS too slow to answer) into a 503 that says the outcome is unknown, not a 500', async () => {
    const log = logger();
    const slow = middy<never, APIGatewayProxyStructuredResultV2>(() => new Promise<APIGatewayProxyStructuredResultV2>((resolve) => setTimeout(() => resolve({ statusCode: 201 }), 500)), { timeoutEarlyInMillis: 5 }).use(problemErrors(log));
    const res = await slow(event, { getRemainingTimeInMillis: () => 50 } as never);
    expect(res.statusCode).toBe(503);
    expect(res.headers).toMatchObject({ 'retry-after': '2', 'content-type': 'application/problem+json' });
    expect(JSON.parse(res.body as string)).toMatchObject({ type: 'https://identity-center-jit.dev/problems/timed-out', detail: expect.stringContaining('same Idempotency-Key') });
    expect(log.error).toHaveBeenCalledWith('request ran out of time waiting on AWS', expect.anything());
  });

  it('names in that log line the AWS calls still in flight that started since the request began', async () => {
    const log = logger();
    const asked: number[] = [];
    const inFlight = [{ call: 'Identitystore.ListGroupMembershipsForMember', pendingMs: 27_000, attempts: 6, lastError: 'ThrottlingException' }];
    const callsInFlight = (since: number) => {
      asked.push(since);
      return inFlight;
    };
    const before = Date.now();
    const slow = middy<never, APIGatewayProxyStructuredResultV2>(() => new Promise<APIGatewayProxyStructuredResultV2>((resolve) => setTimeout(() => resolve({ statusCode: 201 }), 500)), { timeoutEarlyInMillis: 5 }).use(problemErrors(log, callsInFlight));
    const res = await slow(event, { getRemainingTimeInMillis: () => 50 } as never);
    expect(res.statusCode).toBe(503);
    expect(log.error).toHaveBeenCalledWith('request ran out of time waiting on AWS', expect.objectContaining({ awsCallsInFlight: inFlight }));
    expect(asked).toHaveLength(1);
    expect(asked[0]).toBeGreaterThanOrEqual(before);
    expect(asked[0]).toBeLessThanOrEqual(Date.now());
  });

  it('hides unexpected errors behind a 500 and logs them', async () => {
    const log = logger();
    const handler = failing(new Error('secret internals')).use(problemErrors(log));
    const res = await handler(event, {} as never);
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('secret internals');
    expect(log.error).toHaveBeenCalledOnce();
  });
});
