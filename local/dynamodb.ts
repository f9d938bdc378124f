/**
 * Embedded DynamoDB for the local cloud: dynalite (pure JS, LevelDB-backed).
 * With `path` the tables persist in that folder across restarts; without, in memory.
 *
 * The edge hands DynamoDB requests straight to dynalite's request handler (no
 * proxy hop); dynalite also listens on its own loopback port so it can be used
 * directly and so that `close()` shuts its store down cleanly (dynalite only
 * closes LevelDB when its HTTP server closes).
 */
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { closer, listen, send } from './protocol/http.ts';

interface DynaliteOptions {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}

const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: DynaliteOptions) => Server;

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
  const server = dynalite({
    ...(options.path ? { path: options.path } : {}),
    createTableMs: options.createTableMs ?? 0,
    deleteTableMs: options.deleteTableMs ?? 0,
    updateTableMs: options.updateTableMs ?? 0,
  });
  const port = await listen(server, 0);
  // Requests still being served when close() is called must finish first: dynalite
  // answers them from a setImmediate that would otherwise hit a closed LevelDB and throw.
  let inFlight = 0;
  let stopping = false;
  const dynaliteListeners = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (stopping) {
      sendDynamoInternalError(res, 503, 'the local DynamoDB is shutting down');
      return;
    }
    inFlight++;
    res.once('close', () => inFlight--);
    for (const listener of dynaliteListeners) listener.call(server, req, res);
  });
  const drained = async (timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  };
  const closeServer = closer(server);
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    handle(req, res) {
      // dynalite's handler is the server's 'request' listener.
      server.emit('request', req, res);
    },
    close() {
      closed ??= (async () => {
        await drained(5_000);
        stopping = true;
        await closeServer();
      })();
      return closed;
    },
  };
}
