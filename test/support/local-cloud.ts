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
