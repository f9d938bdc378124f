/**
 * Packaged mode runs what `npm run package` produced. This makes sure it exists and is
 * not older than the sources it was built from; otherwise it packages first. Test
 * workers may ask at the same time, so one packages under a lock and the others wait.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { PACKAGED_TEMPLATE } from './template.ts';

/** What a package is built from: a change to any of these makes it stale. */
const SOURCES = ['functions', 'lib', 'statemachines', 'config', 'portal', 'serverless.yml', 'package.json', 'package-lock.json', 'tsconfig.json'];
const LOCK_STALE_MS = 5 * 60_000;

function newestMtime(entry: string): number {
  if (!existsSync(entry)) return 0;
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const child of readdirSync(entry)) newest = Math.max(newest, newestMtime(path.join(entry, child)));
  return newest;
}

/** Why the package in `packageDir` cannot be used as it is, or undefined when it is current. */
export function packageStaleness(root: string, packageDir = path.join(root, '.serverless')): string | undefined {
  const template = path.join(packageDir, PACKAGED_TEMPLATE);
  if (!existsSync(template)) return 'no packaged template';
  const builtAt = statSync(template).mtimeMs;
  for (const source of SOURCES) {
    if (newestMtime(path.join(root, source)) > builtAt) return `${source} changed after the last package`;
  }
  return undefined;
}

/** Packages (`npm run package`) when the artifacts are missing or stale; returns the package folder. */
export async function ensurePackaged(root: string, log: (line: string) => void = () => undefined): Promise<string> {
  const packageDir = path.join(root, '.serverless');
  if (!packageStaleness(root, packageDir)) return packageDir;
  const lock = path.join(root, '.serverless.lock');
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs > LOCK_STALE_MS) rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    const reason = packageStaleness(root, packageDir);
    if (reason) {
      log(`[package] ${reason}: running npm run package`);
      const started = Date.now();
      const run = spawnSync('npm', ['run', '-s', 'package'], { cwd: root, encoding: 'utf8', env: { ...process.env, SLS_TELEMETRY_DISABLED: '1' } });
      if (run.status !== 0) throw new Error(`npm run package failed (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
      log(`[package] packaged in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  return packageDir;
}
