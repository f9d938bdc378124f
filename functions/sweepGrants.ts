/** Sweeper (EventBridge schedule, every 5 minutes): revokes, restarts and expires what schedules and workflows missed. */
import type { Context } from 'aws-lambda';
import { createSweeper, loadBackstopEnv } from '../lib/backstops/runtime.ts';
import { logger } from '../lib/logger.ts';
import { getRuntime } from '../lib/runtime.ts';

getRuntime(); // validate env and policy at cold start
loadBackstopEnv();

/** Stop taking new work this long before Lambda's timeout (a start in flight must finish). */
const SAFETY_MARGIN_MS = 10_000;

export const handler = async (_event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>) => {
  const sweeper = createSweeper(getRuntime());
  const report = await sweeper.run(context ? { timeLeftMs: () => context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS } : {});
  logger.info('sweep finished', { complete: report.complete, counts: report.counts, items: report.items.slice(0, 100) });
  return report;
};
