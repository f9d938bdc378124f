/**
 * `npm start` ends, with everything it started, when npm is sent SIGTERM or SIGINT (a
 * process manager, an IDE's stop button, `kill <npm pid>`): npm forwards the signal to
 * its script, and the script is the local cloud's own process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Every process below `pid` (Linux /proc). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => (children.get(p) ?? []).forEach((c) => (out.push(c), walk(c)));
  walk(pid);
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

let started: number[] = [];
let dataDir: string | undefined;
afterEach(async () => {
  // Whatever a failing run left behind.
  for (const pid of started.filter(alive)) process.kill(pid, 'SIGKILL');
  started = [];
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function startNpm(): Promise<{ npm: ChildProcess; output: () => string }> {
  dataDir = await mkdtemp(path.join(tmpdir(), 'npm-start-'));
  const npm = spawn('npm', ['start', '--', '--quiet', '--fresh'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', EDGE_PORT: '0', LOCAL_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started = [npm.pid!];
  let text = '';
  npm.stdout!.on('data', (c: Buffer) => (text += c.toString()));
  npm.stderr!.on('data', (c: Buffer) => (text += c.toString()));
  const deadline = Date.now() + 45_000;
  while (!text.includes('local cloud ready')) {
    if (Date.now() > deadline || npm.exitCode !== null) throw new Error(`npm start did not come up:\n${text}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { npm, output: () => text };
}

describe('npm start and signals', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s to npm stops the local cloud and every process it started, within seconds', async (signal) => {
    const { npm, output } = await startNpm();
    const processes = descendants(npm.pid!);
    started.push(...processes);
    expect(processes.length).toBeGreaterThan(0);
    const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    const sentAt = Date.now();
    npm.kill(signal);
    await exited;
    const deadline = Date.now() + 10_000;
    while (processes.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(processes.filter(alive), output()).toEqual([]);
    expect(Date.now() - sentAt).toBeLessThan(10_000);
    expect(output()).toContain(`${signal}: stopping the local cloud`);
  }, 90_000);
});
