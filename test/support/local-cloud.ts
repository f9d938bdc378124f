/**
 * The local cloud as the end-to-end suites start it: in memory, free ports, quiet,
 * the seconds-long test policy, a prompt Scheduler and short Retry pauses.
 * Each suite overrides what it studies (delays, faults).
 */
import { resolve } from 'node:path';
import { startLocalCloud, type LocalCloud, type LocalCloudOptions } from '../../local/cloud.ts';

export const FAST_POLICY = resolve(import.meta.dirname, '../fixtures/policy.fast.yaml');

export function startFastLocalCloud(overrides: LocalCloudOptions = {}): Promise<LocalCloud> {
  return startLocalCloud({
    dataDir: false,
    port: 0,
    edgePort: 0,
    log: false,
    policyFile: FAST_POLICY,
    schedulerFiringDelayMs: () => 0,
    retryIntervalMs: 50,
    ...overrides,
  });
}

export interface HttpAnswer {
  status: number;
  contentType: string | null;
  body: any;
}

/** Calls the local cloud's HTTP API as a seeded user (a token per user, made on first use). */
export function httpClient(cloud: () => LocalCloud): (method: string, path: string, as: string, body?: unknown) => Promise<HttpAnswer> {
  const tokens = new Map<string, Promise<string>>();
  return async (method, path, as, body) => {
    if (!tokens.has(as)) tokens.set(as, cloud().token(as));
    const res = await fetch(`${cloud().gatewayUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${await tokens.get(as)}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, contentType: res.headers.get('content-type'), body: text ? JSON.parse(text) : undefined };
  };
}
