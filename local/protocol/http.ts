/**
 * HTTP plumbing every local server shares (edge, gateway, the Identity Center endpoint,
 * the fake Slack, the DynamoDB stream tap): bodies, headers, answers, listening and closing.
 * Loopback only: nothing of the local cloud listens beyond 127.0.0.1 unless told to.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';

/** The whole request body, or undefined once it passes `limit` bytes (the rest is left unread). */
export async function readBytes(req: IncomingMessage, limit = Number.POSITIVE_INFINITY): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The whole request body as UTF-8 text. */
export async function readText(req: IncomingMessage): Promise<string> {
  return (await readBytes(req))!.toString('utf8');
}

/** A request header's (first) value. */
/** A request whose body was already read, as a fresh stream with the same method, url and headers, to hand on to another handler. */
export function replayRequest(req: IncomingMessage, body: string): IncomingMessage {
  return Object.assign(Readable.from([Buffer.from(body, 'utf8')]), { headers: req.headers, method: req.method, url: req.url }) as unknown as IncomingMessage;
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Writes a whole answer with its content-length; returns the status. */
export function send(res: ServerResponse, status: number, headers: Record<string, string | string[]>, body: string | Buffer): number {
  res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
  return status;
}

/** Listens on `host:port` (port 0 picks a free one) and resolves with the port taken. */
export async function listen(server: Server, port: number, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** Closes the server and every connection it holds (keep-alive ones included); once, however often called. */
export function closer(server: Server): () => Promise<void> {
  let closed: Promise<void> | undefined;
  return () => {
    closed ??= new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((err) => (err ? reject(err) : resolve()));
    });
    return closed;
  };
}
