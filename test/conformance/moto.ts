/**
 * The external endpoint the conformance suites compare the local cloud with:
 * `CONFORMANCE_ENDPOINT` when set, else a `moto_server` started on a free
 * loopback port for the test file. A missing moto_server is a failure with the
 * install command, never a silent pass.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export const MOTO_INSTALL_HINT = "moto_server is not installed (or not on PATH). Install it with: pip install 'moto[server]'";

export interface ExternalEndpoint {
  url: string;
  /** 'moto' when this suite started it (so it may be reset), 'external' for CONFORMANCE_ENDPOINT. */
  kind: 'moto' | 'external';
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.status < 500;
  } catch {
    return false;
  }
}

function startOnce(port: number, deadlineMs: number): Promise<{ child: ChildProcess; url: string }> {
  const url = `http://127.0.0.1:${port}`;
  return new Promise((resolve, reject) => {
    let stderr = '';
    let settled = false;
    const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4_000);
    });
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      reject(error);
    };
    child.once('error', (e: NodeJS.ErrnoException) => fail(e.code === 'ENOENT' ? new Error(MOTO_INSTALL_HINT) : e));
    child.once('exit', (code) => fail(new Error(`moto_server exited early (code ${String(code)}): ${stderr.trim().split('\n').slice(-5).join('\n')}`)));
    const started = Date.now();
    const poll = async () => {
      while (!settled) {
        if (await answers(url)) {
          settled = true;
          child.removeAllListeners('exit');
          resolve({ child, url });
          return;
        }
        if (Date.now() - started > deadlineMs) {
          fail(new Error(`moto_server did not answer on ${url} within ${deadlineMs} ms: ${stderr.trim().slice(-500)}`));
          return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    void poll();
  });
}

/** Starts moto_server (or uses CONFORMANCE_ENDPOINT). Retries on a port race; on a noisy machine start-up can take a while. */
export async function startExternalEndpoint(): Promise<ExternalEndpoint> {
  const external = process.env.CONFORMANCE_ENDPOINT;
  if (external) return { url: external.replace(/\/$/, ''), kind: 'external', stop: async () => {} };
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const { child, url } = await startOnce(await freePort(), 60_000);
      return {
        url,
        kind: 'moto',
        stop: () =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      };
    } catch (e) {
      lastError = e;
      if (e instanceof Error && e.message === MOTO_INSTALL_HINT) throw e;
    }
  }
  throw lastError;
}
