/** `npm run bench`: every benchmark, each writing its section of bench/results.md. BENCH=api,workflows,recovery,slack,portal,sessions,reconcile picks some. */
import { runApiBench } from './api.ts';
import { runPortalBench } from './portal.ts';
import { runReconcileBench } from './reconcile.ts';
import { runRecoveryBench } from './recovery.ts';
import { runSessionsBench } from './sessions.ts';
import { runSlackBench } from './slack.ts';
import { runWorkflowsBench } from './workflows.ts';

const benches: Record<string, () => Promise<void>> = { api: runApiBench, workflows: runWorkflowsBench, recovery: runRecoveryBench, slack: runSlackBench, portal: runPortalBench, sessions: runSessionsBench, reconcile: runReconcileBench };
const chosen = (process.env.BENCH ?? Object.keys(benches).join(',')).split(',');
for (const name of chosen) {
  const run = benches[name];
  if (!run) throw new Error(`unknown benchmark ${name}; known: ${Object.keys(benches).join(', ')}`);
  await run();
}
process.exit(0);
