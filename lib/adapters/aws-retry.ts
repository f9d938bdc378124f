/**
 * Retry with exponential backoff and full jitter for the AWS errors the SDK's
 * own retry strategy leaves alone.
 *
 * The SDK (standard/adaptive mode) already retries throttling codes
 * (ThrottlingException, TooManyRequestsException...), 5xx and network errors.
 * It does NOT retry ConflictException, which Identity Center answers when a
 * write races an earlier one that has not propagated yet: that one is ours.
 */

import { trackCallsInFlight } from './aws-calls-in-flight.ts';

/**
 * Every SDK client's retries: 8 attempts in the adaptive mode. Once throttled, its client-side
 * limiter spaces the client's calls out; the standard mode instead spends its retry quota on a
 * burst of throttled calls and then fails them (Identity Center's 20 TPS, shared by a storm:
 * dozens of API requests answered 503 where the adaptive mode had none or a few).
 */
export const SDK_RETRY = { maxAttempts: 8, retryMode: 'adaptive' } as const;

/** The part of an SDK client this module touches: its resolved retry strategy (a provider, read on every call). */
interface RetryingClient {
  config: { retryStrategy: () => Promise<unknown> };
}

/** What the adaptive strategy calls before every attempt: the client-side limiter's token. */
export interface SendTokenLimiter {
  getSendToken(): Promise<void>;
}

/**
 * The adaptive mode's client-side limiter lets its waiters race for each token: when one client
 * carries many calls at once (concurrent invocations in one local container, a task's parallel
 * reads), a call can lose race after race and wait far longer than the others, past an API
 * request's 28 s. `inTurn` hands the tokens out in the order the calls asked, so a call waits for
 * the ones before it and no longer, at the same rate. The limiter's rate updates (after a
 * throttle, after a success) are left alone, and unthrottled a turn is immediate.
 *
 * The SDK exposes the limiter as its adaptive strategy's `rateLimiter`, and reads the client's
 * `config.retryStrategy` on every call; a strategy without that field is left as it is.
 */
export function retriesInOrder<C extends RetryingClient>(client: C): C {
  const own = client.config.retryStrategy;
  if (typeof own !== 'function') return client;
  let resolved: Promise<unknown> | undefined;
  client.config.retryStrategy = () =>
    (resolved ??= own.call(client.config).then((strategy) => {
      const limiter = (strategy as { rateLimiter?: Partial<SendTokenLimiter> } | undefined)?.rateLimiter;
      if (typeof limiter?.getSendToken === 'function') inTurn(limiter as SendTokenLimiter);
      return strategy;
    }));
  return client;
}

/** Makes the limiter's waiters take their tokens first come, first served. */
export function inTurn(limiter: SendTokenLimiter): SendTokenLimiter {
  const take = limiter.getSendToken.bind(limiter);
  let tail: Promise<void> = Promise.resolve();
  limiter.getSendToken = () => {
    const turn = tail.then(take);
    tail = turn.catch(() => undefined);
    return turn;
  };
  return limiter;
}

type FinishedClient = RetryingClient & { middlewareStack: { use(plugin: never): void } };

/** Where every AWS client of the functions is finished: its limiter's tokens in turn, its calls in flight tracked (for the log of a request that runs out of time). */
export function finishClient<C extends FinishedClient>(client: C): C {
  return trackCallsInFlight(retriesInOrder(client));
}

/** An SDK client built with SDK_RETRY and finished. */
export function withSdkRetry<C extends FinishedClient>(build: (config: typeof SDK_RETRY) => C): C {
  return finishClient(build(SDK_RETRY));
}

export interface RetryOptions {
  /** Total attempts including the first (default 6). */
  maxAttempts?: number;
  /** First backoff ceiling in ms (default 200); doubles each attempt. */
  baseDelayMs?: number;
  /** Backoff ceiling in ms (default 5000). */
  maxDelayMs?: number;
  /** Which errors to retry (default: isRetryableAwsError). */
  retryable?: (error: unknown) => boolean;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const RETRYABLE_NAMES = new Set([
  'ConflictException',
  'ThrottlingException',
  'TooManyRequestsException',
  'InternalServerException',
  'ServiceException',
  'ServiceUnavailableException',
  'ConcurrentModificationException',
]);

export function errorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { name?: unknown; code?: unknown; Code?: unknown };
  for (const v of [e.name, e.Code, e.code]) if (typeof v === 'string') return v;
  return undefined;
}

/** True for errors that a later identical call may not hit (throttling, races, transient server faults). */
export function isRetryableAwsError(error: unknown): boolean {
  const name = errorName(error);
  if (name && RETRYABLE_NAMES.has(name)) return true;
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  return status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Full-jitter backoff: a uniform wait in [0, min(max, base * 2^attempt)]. */
export function backoffDelay(attempt: number, opts: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs' | 'random'> = {}): number {
  const ceiling = Math.min(opts.maxDelayMs ?? 5_000, (opts.baseDelayMs ?? 200) * 2 ** attempt);
  return Math.floor((opts.random ?? Math.random)() * ceiling);
}

export async function withAwsRetry<T>(call: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const maxAttempts = opts.maxAttempts ?? 6;
  const retryable = opts.retryable ?? isRetryableAwsError;
  const sleep = opts.sleep ?? realSleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt + 1 >= maxAttempts || !retryable(error)) throw error;
      await sleep(backoffDelay(attempt, opts));
    }
  }
}
