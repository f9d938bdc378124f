/** Sweeper (EventBridge schedule, every 5 minutes): revokes, restarts and expires what schedules and workflows missed. */
import type { Context } from 'aws-lambda';
import { backstops } from '../lib/composition/backstops.ts';
import { logger } from '../lib/logger.ts';

const { sweeper } = backstops(); // validates env, policy and backstop settings at cold start

/** Stop taking new work this long before Lambda's timeout (a start in flight must finish). */
const SAFETY_MARGIN_MS = 10_000;

export const handler = async (_event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>) => {
  const report = await sweeper().run(context ? { timeLeftMs: () => context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS } : {});
  logger.info('sweep finished', { complete: report.complete, counts: report.counts, items: report.items.slice(0, 100) });
  return report;
};
