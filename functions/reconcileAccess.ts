/** Reconciler (EventBridge schedule, hourly): Identity Center vs the holders table; logs and returns its report. */
import type { Context } from 'aws-lambda';
import { backstops } from '../lib/composition/backstops.ts';
import { logger } from '../lib/logger.ts';

const { reconciler } = backstops(); // validates env, policy and backstop settings at cold start

/** Stop listing this long before Lambda's timeout (a deletion in flight must finish). */
const SAFETY_MARGIN_MS = 60_000;

export const handler = async (_event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>) => {
  const report = await reconciler().run(context ? { timeLeftMs: () => context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS } : {});
  const drift = report.counts['orphan-removed'] + report.counts['active-access-missing'] + report.counts['unmanaged-removed'] + report.counts.error;
  const line = { complete: report.complete, removeUnmanaged: report.removeUnmanaged, counts: report.counts, items: report.items.slice(0, 200) };
  if (drift > 0) logger.warn('reconcile finished with drift', line);
  else logger.info('reconcile finished', line);
  return report;
};
