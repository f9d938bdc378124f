/**
 * A minimal awsJson endpoint: routes `X-Amz-Target: <prefix>.<Operation>` to the
 * JsonService that owns the prefix and writes errors the way AWS does
 * (`{"__type", "message"}` plus the x-amzn-ErrorType header), so the real SDK
 * clients parse them into their modelled exception classes.
 *
 * Used by the Identity Center tests and the conformance suite; the local edge
 * endpoint may reuse `handleJsonRequest` for its awsJson branch.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsError, LOCAL_ACCOUNT_ID, LOCAL_REGION, type JsonService, type JsonServiceContext } from '../aws-protocol.ts';

export interface JsonEndpoint {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface ServeOptions {
  port?: number;
  /** Loopback only by default. */
  host?: string;
  context?: JsonServiceContext;
}

function send(res: ServerResponse, status: number, body: unknown, contentType: string, extra: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    ...extra,
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Answers one awsJson request with the given services. */
export async function handleJsonRequest(
  services: readonly JsonService[],
  req: IncomingMessage,
  res: ServerResponse,
  ctx: JsonServiceContext = { region: LOCAL_REGION, accountId: LOCAL_ACCOUNT_ID },
): Promise<void> {
  const contentType = String(req.headers['content-type'] ?? 'application/x-amz-json-1.1');
  const fail = (e: AwsError) =>
    send(res, e.status, { __type: e.code, message: e.message }, contentType, { 'x-amzn-errortype': e.code });
  try {
    const target = String(req.headers['x-amz-target'] ?? '');
    const dot = target.lastIndexOf('.');
    const prefix = target.slice(0, dot);
    const operation = target.slice(dot + 1);
    const service = services.find((s) => s.targetPrefixes.includes(prefix));
    if (dot < 0 || !service) {
      fail(new AwsError('UnknownOperationException', `No local service answers X-Amz-Target "${target}"`));
      return;
    }
    const raw = await readBody(req);
    let input: Record<string, unknown>;
    try {
      input = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      fail(new AwsError('SerializationException', 'Request body is not valid JSON'));
      return;
    }
    const out = await service.handle(operation, input, ctx);
    send(res, 200, out ?? {}, contentType);
  } catch (e) {
    if (e instanceof AwsError) fail(e);
    else fail(new AwsError('InternalFailure', e instanceof Error ? e.message : String(e), 500));
  }
}

/** Serves the services on loopback; port 0 (default) picks a free port. */
export async function serveJsonServices(services: readonly JsonService[], options: ServeOptions = {}): Promise<JsonEndpoint> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    void handleJsonRequest(services, req, res, options.context);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
