/**
 * Issue 2 figures: warm handler latency of POST /grants and GET /grants against
 * the local DynamoDB server; each function's minified bundle size; cold import
 * time of each bundle in a fresh Node process.
 * Targets: p99 ≤ 30 ms, bundle ≤ 500 KB, cold import ≤ 200 ms.
 */
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { callApi } from '../test/support/api.ts';
import { ROOT, startApiTestCloud } from '../test/support/cloud.ts';
import { fmt, machineLine, summarize, verdict, writeSection } from './report.ts';

const OUT = resolve(ROOT, 'bench/out');
const WARM_CALLS = Number(process.env.BENCH_CALLS ?? 400);

/** The same esbuild settings serverless.yml gives serverless-esbuild. */
async function bundle(fn: string): Promise<string> {
  const outfile = resolve(OUT, `${fn}.mjs`);
  await build({
    entryPoints: [resolve(ROOT, 'functions', `${fn}.ts`)],
    outfile,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    mainFields: ['module', 'main'],
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    // As serverless.yml: the AWS SDK v3 comes with the nodejs24.x runtime.
    external: ['@aws-sdk/*', '@smithy/*'],
    logLevel: 'silent',
  });
  return outfile;
}

function coldImportMs(file: string, env: NodeJS.ProcessEnv): number {
  const script = `const t=performance.now(); await import(${JSON.stringify(file)}); process.stdout.write(String(performance.now()-t));`;
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    runs.push(Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' })));
  }
  return summarize(runs).p50;
}

export async function runApiBench(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const functions = readdirSync(resolve(ROOT, 'functions')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();
  const env = {
    ...process.env,
    GRANTS_TABLE: 'bench',
    POLICY_PATH: resolve(ROOT, 'config/policy.example.yaml'),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'x',
    AWS_SECRET_ACCESS_KEY: 'x',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  };
  const bundles: { fn: string; kb: number; coldMs: number }[] = [];
  for (const fn of functions) {
    const file = await bundle(fn);
    let coldMs = Number.NaN;
    try {
      coldMs = coldImportMs(file, env);
    } catch {
      // A function whose module needs more env than the common set is reported as n/a.
    }
    bundles.push({ fn, kb: statSync(file).size / 1024, coldMs });
  }

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
  const maxCold = Math.max(...bundles.map((b) => b.coldMs).filter(Number.isFinite));
  const lines = [
    '## HTTP API (issue 2)',
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
    'Bundles (esbuild, minified, ESM, the serverless.yml settings) and cold import in a fresh Node process (median of 5):',
    '',
    '| function | bundle KB | cold import ms |',
    '|---|---|---|',
    ...bundles.map((b) => `| ${b.fn} | ${fmt(b.kb)} | ${fmt(b.coldMs)} |`),
    '',
    `Largest bundle ${fmt(maxKb)} KB (target ≤ 500 KB: ${verdict(maxKb <= 500)}); slowest cold import ${fmt(maxCold)} ms (target ≤ 200 ms: ${verdict(maxCold <= 200)}).`,
  ];
  writeSection('api', lines.join('\n'));
  console.log(lines.join('\n'));
}

if (import.meta.url === `file://${process.argv[1]}`) await runApiBench();
