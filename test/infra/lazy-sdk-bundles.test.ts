/**
 * Every function bundle, built as serverless-esbuild builds it and imported in a
 * fresh Node process, loads DynamoDB and Identity Store but none of the clients
 * lib/adapters/lazy-sdk.ts defers: a static value import of one of them anywhere
 * in a function's import graph would put it back into every cold start.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleFunction, LAZY_SDK_CLIENTS, probeImport, ROOT } from '../../bench/bundle.ts';

const functions = readdirSync(resolve(ROOT, 'functions'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .sort();
// Under the repo, so the bundles' external `@aws-sdk/*` imports resolve from node_modules.
const cache = resolve(ROOT, 'node_modules/.cache');
let outDir: string;

beforeAll(() => {
  mkdirSync(cache, { recursive: true });
  outDir = mkdtempSync(resolve(cache, 'lazy-sdk-bundles-'));
});

afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
});

describe('function bundles at import', () => {
  it.each(functions.filter((fn) => fn !== 'getOpenApi' && fn !== 'deployPortal'))('%s loads DynamoDB and Identity Store, no deferred client', async (fn) => {
    const probe = probeImport(await bundleFunction(fn, outDir));
    // The probe sees the eager clients: the check would see a deferred one too (the probe also fails when it cannot see them after loading them).
    expect(probe.clientsAtImport).toEqual(expect.arrayContaining(['client-dynamodb', 'client-identitystore']));
    expect(probe.clientsAtImport.filter((c) => (LAZY_SDK_CLIENTS as readonly string[]).includes(c))).toEqual([]);
  }, 60_000);

  it('getOpenApi loads no SDK client at all', async () => {
    expect(probeImport(await bundleFunction('getOpenApi', outDir)).clientsAtImport).toEqual([]);
  }, 60_000);

  it("deployPortal (the portal's deploy-time custom resource) loads S3 and nothing else", async () => {
    expect(probeImport(await bundleFunction('deployPortal', outDir)).clientsAtImport).toEqual(['client-s3']);
  }, 60_000);
});
