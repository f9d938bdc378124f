/** `npm run bench`: every benchmark, each writing its section of bench/results.md. BENCH=api,workflows,slack picks some. */
import { runApiBench } from './api.ts';

const chosen = (process.env.BENCH ?? 'api').split(',');
const benches: Record<string, () => Promise<void>> = { api: runApiBench };
for (const name of chosen) {
  const run = benches[name];
  if (!run) throw new Error(`unknown benchmark ${name}; known: ${Object.keys(benches).join(', ')}`);
  await run();
}
process.exit(0);
