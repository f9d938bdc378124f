/**
 * Function bundles as serverless-esbuild builds them, and a probe that imports
 * one in a fresh Node process: how long the import takes, which AWS SDK client
 * packages it loaded, and what loading the lazily used ones costs afterwards.
 * Used by bench/api.ts (figures) and test/infra/lazy-sdk-bundles.test.ts (check).
 */
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');

/** The client packages lib/adapters/lazy-sdk.ts loads on first use; no bundle should load them at import. */
export const LAZY_SDK_CLIENTS = ['client-sfn', 'client-scheduler', 'client-sso-admin', 'client-organizations', 'client-sts', 'client-ssm', 'client-secrets-manager'] as const;

/** Env that lets every function's module load, the Slack ones included (nothing here reaches AWS: the probe only imports). */
export function probeEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GRANTS_TABLE: 'bench',
    POLICY_PATH: resolve(ROOT, 'config/policy.example.yaml'),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'x',
    AWS_SECRET_ACCESS_KEY: 'x',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    SCHEDULER_ROLE_ARN: 'arn:aws:iam::000000000000:role/scheduler',
    CURSOR_KEY_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench/cursor-key-AbCdEf',
    SLACK_SIGNING_SECRET_PARAM: '/bench/slack/signing-secret',
    SLACK_BOT_TOKEN_PARAM: '/bench/slack/bot-token',
    SLACK_NOTIFY_FUNCTION_ARN: 'arn:aws:lambda:us-east-1:000000000000:function:slackNotify',
  };
}

/** Builds functions/<fn>.ts with the esbuild settings serverless.yml gives serverless-esbuild. The file must lie under ROOT so the external SDK resolves. */
export async function bundleFunction(fn: string, outDir: string): Promise<string> {
  const outfile = resolve(outDir, `${fn}.mjs`);
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

export interface ImportProbe {
  /** `await import(bundle)` in ms. */
  importMs: number;
  /** `@aws-sdk/client-*` packages in the CJS module cache after the import (the SDK ships CJS, so every loaded client is there), e.g. `client-dynamodb`. */
  clientsAtImport: string[];
  /** Then: importing the LAZY_SDK_CLIENTS not yet loaded, one after another, in ms (what the first calls that need them pay). */
  lazyFirstUseMs: number;
}

/**
 * The child's script. The lazy clients are resolved from the bundle's own
 * location, as its `import()`s would resolve them.
 */
const PROBE = `
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
const [file, lazyNames] = JSON.parse(process.argv[1]);
const t0 = performance.now();
await import(pathToFileURL(file).href);
const importMs = performance.now() - t0;
const require = createRequire(file);
const clients = () => [...new Set(Object.keys(require.cache).flatMap((k) => /[\\\\/]@aws-sdk[\\\\/](client-[^\\\\/]+)[\\\\/]/.exec(k)?.[1] ?? []))].sort();
const clientsAtImport = clients();
const t1 = performance.now();
for (const name of lazyNames) if (!clientsAtImport.includes(name)) await import(pathToFileURL(require.resolve('@aws-sdk/' + name)).href);
const lazyFirstUseMs = performance.now() - t1;
const missing = lazyNames.filter((n) => !clients().includes(n));
if (missing.length) throw new Error('lazy clients not seen in the module cache after loading them: ' + missing.join(', '));
process.stdout.write(JSON.stringify({ importMs, clientsAtImport, lazyFirstUseMs }));
`;

/** Imports the bundle in a fresh Node process (this Node binary) and reports what it loaded. Throws when the import fails. */
export function probeImport(file: string, env: NodeJS.ProcessEnv = probeEnv()): ImportProbe {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', PROBE, JSON.stringify([file, LAZY_SDK_CLIENTS])], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(out) as ImportProbe;
}
