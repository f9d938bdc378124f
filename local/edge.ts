/**
 * The local cloud's single AWS endpoint (default port 4566, like LocalStack's edge port).
 *
 * Routes each request the way AWS front doors tell services apart:
 *  - awsJson services by the `X-Amz-Target: <prefix>.<Operation>` header;
 *  - restJson services by the signing service name in the SigV4 credential scope
 *    (`Credential=AKID/date/region/SERVICE/aws4_request`).
 * DynamoDB (`DynamoDB_20120810`) goes to the embedded dynalite untouched.
 * Production code reaches it with nothing but `AWS_ENDPOINT_URL=http://127.0.0.1:4566`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import {
  AwsError,
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
  type JsonService,
  type JsonServiceContext,
  type RestService,
} from './aws-protocol.ts';

export interface EdgeRequestLog {
  service: string;
  operation: string;
  status: number;
  ms: number;
  /** AWS error code when the answer is an error. */
  error?: string;
}

export type EdgeLogger = (entry: EdgeRequestLog) => void;

/** One request as the IAM check sees it: who signed it and what it asks. */
export interface EdgeCall {
  /** The SigV4 access key id, when the request is signed. */
  accessKeyId?: string;
  region: string;
  /** awsJson services: the X-Amz-Target header. */
  target?: string;
  /** restJson services: the signing name. */
  signingName?: string;
  method: string;
  path: string;
  query: URLSearchParams;
  input: Record<string, unknown>;
}

/** Undefined lets the request through; an AwsError is the answer instead (AccessDenied). */
export type EdgeAuthorizer = (call: EdgeCall) => AwsError | undefined;

export interface DynamoHandler {
  handle(req: IncomingMessage, res: ServerResponse): void;
}

export interface StartEdgeOptions {
  /** Default 4566; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1: the local cloud never listens beyond loopback. */
  host?: string;
  jsonServices?: JsonService[];
  restServices?: RestService[];
  dynamodb?: DynamoHandler;
  accountId?: string;
  /** Checked before any service sees a request (packaged mode's IAM enforcement). */
  authorize?: EdgeAuthorizer;
  /** One call per request. Default: a readable line on stdout. */
  log?: EdgeLogger;
}

export interface Edge {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

export const DEFAULT_EDGE_PORT = 4566;
const DYNAMODB_TARGET_PREFIX = 'DynamoDB_20120810';
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export function formatEdgeLog(entry: EdgeRequestLog): string {
  const error = entry.error ? ` ${entry.error}` : '';
  return `[aws] ${entry.service} ${entry.operation} ${entry.status}${error} ${entry.ms.toFixed(0)}ms`;
}

const consoleLogger: EdgeLogger = (entry) => console.log(formatEdgeLog(entry));

/** `AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/scheduler/aws4_request, ...` → access key, region, service. */
export function credentialScope(authorization: string | undefined): { accessKeyId: string; region: string; service: string } | undefined {
  const match = /Credential=([^/,\s]+)\/\d{8}\/([^/,\s]+)\/([^/,\s]+)\/aws4_request/.exec(authorization ?? '');
  if (!match) return undefined;
  return { accessKeyId: match[1]!, region: match[2]!, service: match[3]! };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new AwsError('RequestEntityTooLargeException', 'Request body too large', 413);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body).toString() });
  res.end(body);
}

/** Anything a service throws that is not an AwsError is a bug in the local cloud: a 500 the SDK will retry. */
function asAwsError(error: unknown, internalCode: string): AwsError {
  if (error instanceof AwsError) return error;
  console.error('[aws] internal error', error);
  return new AwsError(internalCode, error instanceof Error ? error.message : String(error), 500);
}

export async function startEdge(options: StartEdgeOptions = {}): Promise<Edge> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? consoleLogger;
  const accountId = options.accountId ?? LOCAL_ACCOUNT_ID;

  const jsonByPrefix = new Map<string, JsonService>();
  for (const service of options.jsonServices ?? []) {
    for (const prefix of service.targetPrefixes) {
      if (jsonByPrefix.has(prefix)) throw new Error(`Two local services claim X-Amz-Target prefix ${prefix}`);
      jsonByPrefix.set(prefix, service);
    }
  }
  const restBySigningName = new Map<string, RestService>();
  for (const service of options.restServices ?? []) {
    if (restBySigningName.has(service.signingName)) throw new Error(`Two local services claim signing name ${service.signingName}`);
    restBySigningName.set(service.signingName, service);
  }

  const authorize = (req: IncomingMessage, input: Record<string, unknown>, extra: Partial<EdgeCall>): void => {
    if (!options.authorize) return;
    const scope = credentialScope(header(req, 'authorization'));
    const url = new URL(req.url ?? '/', 'http://edge.local');
    const denied = options.authorize({
      ...(scope ? { accessKeyId: scope.accessKeyId } : {}),
      region: scope?.region ?? LOCAL_REGION,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      input,
      ...extra,
    });
    if (denied) throw denied;
  };

  /** DynamoDB with IAM: the body is read for the check, then replayed to dynalite. */
  async function handleAuthorizedDynamo(req: IncomingMessage, res: ServerResponse, target: string, started: number): Promise<void> {
    const operation = target.slice(DYNAMODB_TARGET_PREFIX.length + 1);
    let raw: string;
    try {
      raw = await readBody(req);
      let input: Record<string, unknown> = {};
      try {
        input = raw.trim() === '' ? {} : (JSON.parse(raw) as Record<string, unknown>);
      } catch {
        // dynalite answers malformed bodies itself.
      }
      authorize(req, input, { target });
    } catch (error) {
      const awsError = asAwsError(error, 'InternalServerError');
      send(
        res,
        awsError.status,
        { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': awsError.code },
        JSON.stringify({ __type: `com.amazon.coral.service#${awsError.code}`, message: awsError.message }),
      );
      log({ service: 'dynamodb', operation, status: awsError.status, ms: performance.now() - started, error: awsError.code });
      return;
    }
    const replay = Object.assign(Readable.from([Buffer.from(raw, 'utf8')]), { headers: req.headers, method: req.method, url: req.url }) as unknown as IncomingMessage;
    res.on('finish', () => log({ service: 'dynamodb', operation, status: res.statusCode, ms: performance.now() - started }));
    options.dynamodb!.handle(replay, res);
  }

  async function handleJson(
    req: IncomingMessage,
    res: ServerResponse,
    target: string,
    ctx: JsonServiceContext,
    started: number,
  ): Promise<void> {
    const dot = target.lastIndexOf('.');
    const prefix = dot < 0 ? target : target.slice(0, dot);
    const operation = dot < 0 ? '' : target.slice(dot + 1);
    // awsJson 1.0 and 1.1 differ only in the content type; answer in the caller's.
    const contentType = /x-amz-json-1\.[01]/.exec(header(req, 'content-type') ?? '')
      ? (header(req, 'content-type') as string).split(';')[0]!
      : 'application/x-amz-json-1.0';
    const service = jsonByPrefix.get(prefix);
    let status = 200;
    let errorCode: string | undefined;
    try {
      if (!service) throw new AwsError('UnknownOperationException', `No local service answers X-Amz-Target ${target}`);
      const raw = await readBody(req);
      let input: Record<string, unknown>;
      try {
        input = raw.trim() === '' ? {} : (JSON.parse(raw) as Record<string, unknown>);
      } catch {
        throw new AwsError('SerializationException', 'Request body is not valid JSON');
      }
      authorize(req, input ?? {}, { target });
      const output = await service.handle(operation, input ?? {}, ctx);
      send(res, 200, { 'content-type': contentType }, JSON.stringify(output ?? {}));
    } catch (error) {
      const awsError = asAwsError(error, 'InternalFailure');
      status = awsError.status;
      errorCode = awsError.code;
      send(
        res,
        awsError.status,
        { 'content-type': contentType, 'x-amzn-errortype': awsError.code },
        JSON.stringify({ __type: awsError.code, message: awsError.message }),
      );
    }
    log({ service: prefix, operation, status, ms: performance.now() - started, ...(errorCode ? { error: errorCode } : {}) });
  }

  async function handleRest(
    req: IncomingMessage,
    res: ServerResponse,
    service: RestService,
    ctx: JsonServiceContext,
    started: number,
  ): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://edge.local');
    const method = req.method ?? 'GET';
    let status = 200;
    let errorCode: string | undefined;
    try {
      const body = await readBody(req);
      if (options.authorize) {
        let input: Record<string, unknown> = {};
        try {
          input = body.trim() === '' ? {} : (JSON.parse(body) as Record<string, unknown>);
        } catch {
          // The service answers malformed bodies itself.
        }
        authorize(req, input, { signingName: service.signingName });
      }
      const response = await service.handle({ method, path: url.pathname, query: url.searchParams, headers: req.headers, body }, ctx);
      status = response.status;
      send(res, response.status, { 'content-type': 'application/json' }, response.body === undefined ? '{}' : JSON.stringify(response.body));
    } catch (error) {
      const awsError = asAwsError(error, 'InternalServerException');
      status = awsError.status;
      errorCode = awsError.code;
      send(
        res,
        awsError.status,
        { 'content-type': 'application/json', 'x-amzn-errortype': awsError.code },
        JSON.stringify({ message: awsError.message }),
      );
    }
    log({ service: service.signingName, operation: `${method} ${url.pathname}`, status, ms: performance.now() - started, ...(errorCode ? { error: errorCode } : {}) });
  }

  const server = createServer((req, res) => {
    const started = performance.now();
    const scope = credentialScope(header(req, 'authorization'));
    const ctx: JsonServiceContext = { region: scope?.region ?? LOCAL_REGION, accountId };
    const target = header(req, 'x-amz-target');

    if (target?.startsWith(`${DYNAMODB_TARGET_PREFIX}.`) && options.dynamodb && options.authorize) {
      void handleAuthorizedDynamo(req, res, target, started);
      return;
    }
    if (target?.startsWith(`${DYNAMODB_TARGET_PREFIX}.`) && options.dynamodb) {
      res.on('finish', () =>
        log({ service: 'dynamodb', operation: target.slice(DYNAMODB_TARGET_PREFIX.length + 1), status: res.statusCode, ms: performance.now() - started }),
      );
      options.dynamodb.handle(req, res);
      return;
    }
    if (target) {
      void handleJson(req, res, target, ctx, started);
      return;
    }
    const restService = scope ? restBySigningName.get(scope.service) : undefined;
    if (restService) {
      void handleRest(req, res, restService, ctx, started);
      return;
    }
    req.resume();
    const message = scope
      ? `No local service answers signing name ${scope.service}`
      : 'Request has neither X-Amz-Target nor a SigV4 credential scope';
    send(res, 400, { 'content-type': 'application/json', 'x-amzn-errortype': 'UnknownOperationException' }, JSON.stringify({ __type: 'UnknownOperationException', message }));
    log({ service: scope?.service ?? 'unknown', operation: `${req.method} ${req.url}`, status: 400, ms: performance.now() - started, error: 'UnknownOperationException' });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_EDGE_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    server,
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      });
      return closed;
    },
  };
}
