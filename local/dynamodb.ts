/**
 * DynamoDB for the local cloud: dynalite (pure JS, LevelDB-backed), in a process of its own
 * (local/dynamodb-process.mjs), so that on a busy machine it has a core of its own rather than
 * a share of the one event loop the rest of the local cloud runs on.
 * With `path` the tables persist in that folder across restarts; without, in memory.
 *
 * The edge hands DynamoDB requests to `handle`, which passes them on over a kept-alive
 * loopback connection; dynalite also serves its own port directly (`url`).
 */
import { fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { Agent, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { send } from './protocol/http.ts';

export interface StartDynamoOptions {
  /** Folder for the LevelDB store. Absent: in memory. */
  path?: string;
  /** How long a new table stays CREATING (dynalite default 500 ms; local default 0 so startup is fast). */
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}

export interface LocalDynamo {
  /** Direct endpoint of dynalite, e.g. http://127.0.0.1:45678 (the edge serves the same tables). */
  url: string;
  /** Serve one DynamoDB HTTP request whose body has not been read yet. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  close(): Promise<void>;
}

/** DynamoDB's own error shape for a failure of the local store (the SDK retries it). */
export function sendDynamoInternalError(res: ServerResponse, status: number, message: string): void {
  send(res, status, { 'content-type': 'application/x-amz-json-1.0' }, JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message }));
}

export async function startDynamo(options: StartDynamoOptions = {}): Promise<LocalDynamo> {
  if (options.path) mkdirSync(options.path, { recursive: true });
  const settings = {
    ...(options.path ? { path: options.path } : {}),
    createTableMs: options.createTableMs ?? 0,
    deleteTableMs: options.deleteTableMs ?? 0,
    updateTableMs: options.updateTableMs ?? 0,
  };
  // Plain node (no loader flags of the parent's): the child is JavaScript.
  const child = fork(fileURLToPath(new URL('./dynamodb-process.mjs', import.meta.url)), [JSON.stringify(settings)], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { port: number }) => resolve(message.port));
    child.once('exit', (code) => reject(new Error(`the local DynamoDB process exited (code ${code}) before it listened`)));
  });
  const agent = new Agent({ keepAlive: true });
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    handle(req, res) {
      const upstream = request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
        res.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', (err) => {
        if (res.headersSent) res.destroy(err);
        else sendDynamoInternalError(res, 500, `the local DynamoDB did not answer: ${err.message}`);
      });
      req.pipe(upstream);
    },
    close() {
      closed ??= (async () => {
        if (child.exitCode === null && child.connected) child.send('close');
        await exited;
        agent.destroy();
      })();
      return closed;
    },
  };
}
