/**
 * HTTP API figures: warm handler latency of POST /grants and GET /grants against
 * the local DynamoDB server; each function's minified bundle size; cold import
 * time of each bundle in a fresh Node process, which SDK clients that import
 * loads, and what the clients left for first use (lib/adapters/lazy-sdk.ts)
 * cost when an invocation first needs them.
 * Targets: p99 ≤ 30 ms, bundle ≤ 500 KB, cold import ≤ 200 ms.
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { callApi } from '../test/support/api.ts';
import { startApiTestCloud } from '../test/support/cloud.ts';
import { bundleFunction, LAZY_SDK_CLIENTS, probeEnv, probeImport, ROOT, type ImportProbe } from './bundle.ts';
import { fmt, machineLine, summarize, verdict, writeSection } from './report.ts';

const OUT = resolve(ROOT, 'bench/out');
const WARM_CALLS = Number(process.env.BENCH_CALLS ?? 400);
/** Fresh processes per bundle. Rounds go across all bundles in turn, so a noisy moment on this shared machine touches every bundle alike. */
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 11);

interface ColdImport {
  /** Medians of COLD_RUNS fresh processes. */
  importMs: number;
  lazyFirstUseMs: number;
  /** Every client package any run saw loaded at import. */
  clientsAtImport: string[];
}

function summarizeRuns(runs: ImportProbe[]): ColdImport {
  return {
    importMs: summarize(runs.map((r) => r.importMs)).p50,
    lazyFirstUseMs: summarize(runs.map((r) => r.lazyFirstUseMs)).p50,
    clientsAtImport: [...new Set(runs.flatMap((r) => r.clientsAtImport))].sort(),
  };
}

const clientList = (names: string[]) => (names.length ? names.map((n) => n.replace(/^client-/, '')).join(', ') : 'none');

export async function runApiBench(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const functions = readdirSync(resolve(ROOT, 'functions')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();
  const env = probeEnv();
  const built: { fn: string; file: string; runs: ImportProbe[]; failed: boolean }[] = [];
  for (const fn of functions) built.push({ fn, file: await bundleFunction(fn, OUT), runs: [], failed: false });
  for (let round = 0; round < COLD_RUNS; round++) {
    for (const b of built) {
      if (b.failed) continue;
      try {
        b.runs.push(probeImport(b.file, env));
      } catch {
        // A function whose module needs more env than the common set is reported as n/a.
        b.failed = true;
      }
    }
  }
  const bundles = built.map((b) => ({ fn: b.fn, kb: statSync(b.file).size / 1024, cold: b.failed ? undefined : summarizeRuns(b.runs) }));

  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  const cloud = await startApiTestCloud();
  const carol = { email: 'carol@example.com' };
  const body = { target: { type: 'account', accountId: '444444444444', permissionSet: 'ReadOnlyAccess' }, duration: 'PT1H', justification: 'bench' };
  const post: number[] = [];
  const get: number[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      await callApi('createGrant', { claims: carol, body });
      await callApi('listGrants', { claims: carol, query: { view: 'mine' } });
    }
    for (let i = 0; i < WARM_CALLS; i++) {
      let t = performance.now();
      const created = await callApi('createGrant', { claims: carol, body });
      post.push(performance.now() - t);
      if (created.status !== 201) throw new Error(`POST /grants answered ${created.status}`);
      t = performance.now();
      const listed = await callApi('listGrants', { claims: carol, query: { view: 'mine', limit: '25' } });
      get.push(performance.now() - t);
      if (listed.status !== 200) throw new Error(`GET /grants answered ${listed.status}`);
    }
  } finally {
    await cloud.stop();
  }
  const p = summarize(post);
  const g = summarize(get);
  const maxKb = Math.max(...bundles.map((b) => b.kb));
  const measured = bundles.flatMap((b) => (b.cold ? [b.cold] : []));
  const maxCold = Math.max(...measured.map((c) => c.importMs));
  const eagerLazy = bundles.filter((b) => b.cold?.clientsAtImport.some((c) => (LAZY_SDK_CLIENTS as readonly string[]).includes(c))).map((b) => b.fn);
  const lines = [
    '## HTTP API',
    '',
    machineLine(),
    '',
    `Warm handler latency, ${WARM_CALLS} calls each, in-process handler → dynalite on loopback (Identity Center lookups cached after warm-up; the Step Functions start is mocked):`,
    '',
    '| route | p50 ms | p99 ms | max ms | target p99 ≤ 30 ms |',
    '|---|---|---|---|---|',
    `| POST /grants | ${fmt(p.p50)} | ${fmt(p.p99)} | ${fmt(p.max)} | ${verdict(p.p99 <= 30)} |`,
    `| GET /grants | ${fmt(g.p50)} | ${fmt(g.p99)} | ${fmt(g.max)} | ${verdict(g.p99 <= 30)} |`,
    '',
    `Bundles (esbuild, minified, ESM, the serverless.yml settings) and cold import in a fresh Node process (median of ${COLD_RUNS}, taken in rounds across all bundles). SDK clients loaded at import: the @aws-sdk/client-* packages in the module cache after the import. Lazy clients on first use: in the same process, after the import, loading the clients lib/adapters/lazy-sdk.ts defers (${clientList([...LAZY_SDK_CLIENTS])}) one after another, i.e. the cost moved out of init into the first invocations that need them (a function needs only some; — for a function that loads no SDK client, as it makes no AWS calls):`,
    '',
    '| function | bundle KB | cold import ms | SDK clients loaded at import | lazy clients on first use ms |',
    '|---|---|---|---|---|',
    ...bundles.map((b) => `| ${b.fn} | ${fmt(b.kb)} | ${fmt(b.cold?.importMs ?? Number.NaN)} | ${b.cold ? clientList(b.cold.clientsAtImport) : 'n/a'} | ${b.cold && b.cold.clientsAtImport.length === 0 ? '—' : fmt(b.cold?.lazyFirstUseMs ?? Number.NaN)} |`),
    '',
    `Largest bundle ${fmt(maxKb)} KB (target ≤ 500 KB: ${verdict(maxKb <= 500)}); slowest cold import ${fmt(maxCold)} ms (target ≤ 200 ms: ${verdict(maxCold <= 200)}); ${
      eagerLazy.length ? `deferred clients loaded at import by: ${eagerLazy.join(', ')}` : 'no bundle loads a deferred client at import'
    }.`,
  ];
  writeSection('api', lines.join('\n'));
  console.log(lines.join('\n'));
}

if (import.meta.url === `file://${process.argv[1]}`) await runApiBench();
