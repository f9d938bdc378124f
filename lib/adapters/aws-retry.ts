/**
 * Retry with exponential backoff and full jitter for the AWS errors the SDK's
 * own retry strategy leaves alone.
 *
 * The SDK (standard/adaptive mode) already retries throttling codes
 * (ThrottlingException, TooManyRequestsException...), 5xx and network errors.
 * It does NOT retry ConflictException, which Identity Center answers when a
 * write races an earlier one that has not propagated yet: that one is ours.
 */

/**
 * Every SDK client's retries: 8 attempts in the adaptive mode. Once throttled, its client-side
 * limiter spaces the client's calls out; the standard mode instead spends its retry quota on a
 * burst of throttled calls and then fails them (Identity Center's 20 TPS, shared by a storm:
 * dozens of API requests answered 503 where the adaptive mode had none or a few).
 */
export const SDK_RETRY = { maxAttempts: 8, retryMode: 'adaptive' } as const;

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
