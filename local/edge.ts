/**
 * The local cloud's single AWS endpoint (default port 4566, like LocalStack's edge port).
 *
 * Routes each request the way AWS front doors tell services apart:
 *  - awsJson services by the `X-Amz-Target: <prefix>.<Operation>` header;
 *  - restJson and awsQuery services by the signing service name in the SigV4 credential scope
 *    (`Credential=AKID/date/region/SERVICE/aws4_request`);
 *  - unsigned requests (the access portal's) by their path.
 * DynamoDB (`DynamoDB_20120810`) goes to the embedded dynalite untouched.
 * Production code reaches it with nothing but `AWS_ENDPOINT_URL=http://127.0.0.1:4566`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  AwsError,
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
  asAwsError,
  parseJsonBody,
  peekJsonBody,
  readBody,
  sendAwsError,
  splitTarget,
  xmlText,
  type JsonService,
  type JsonServiceContext,
  type QueryService,
  type RestService,
} from './protocol/aws.ts';
import { closer, header, listen, replayRequest, send } from './protocol/http.ts';

export interface EdgeRequestLog {
  service: string;
  operation: string;
  status: number;
  ms: number;
  /** AWS error code when the answer is an error. */
  error?: string;
}

export type EdgeLogger = (entry: EdgeRequestLog) => void;

/** What a request asks, as the edge routes it (service and operation as in the log line). */
export interface EdgeRequest {
  service: string;
  operation: string;
  input: Record<string, unknown>;
}

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
  /** awsQuery services (STS). They check their callers themselves: `authorize` does not see their requests. */
  queryServices?: QueryService[];
  dynamodb?: DynamoHandler;
  accountId?: string;
  /** Checked before any service sees a request (packaged mode's IAM enforcement). */
  authorize?: EdgeAuthorizer;
  /** One call per request. Default: a readable line on stdout. */
  log?: EdgeLogger;
  /** Called with every request before it is served (what it asks, not how it ends). */
  observe?: (request: EdgeRequest) => void;
  /** DynamoDB requests this answers true for get no answer: the connection is dropped, a timeout as the caller sees it. */
  dropDynamo?: (operation: string, input: Record<string, unknown>) => boolean;
}

export interface Edge {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

export const DEFAULT_EDGE_PORT = 4566;
const DYNAMODB_TARGET_PREFIX = 'DynamoDB_20120810';

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
  const restByPath = new Map<string, RestService>();
  for (const service of options.restServices ?? []) for (const path of service.paths ?? []) restByPath.set(path, service);
  const queryBySigningName = new Map<string, QueryService>();
  for (const service of options.queryServices ?? []) {
    if (restBySigningName.has(service.signingName) || queryBySigningName.has(service.signingName)) throw new Error(`Two local services claim signing name ${service.signingName}`);
    queryBySigningName.set(service.signingName, service);
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

  /** DynamoDB with IAM, an observer or faults: the body is read for them, then replayed to dynalite. */
  async function handleInspectedDynamo(req: IncomingMessage, res: ServerResponse, target: string, started: number): Promise<void> {
    const operation = target.slice(DYNAMODB_TARGET_PREFIX.length + 1);
    let raw: string;
    try {
      raw = await readBody(req);
      // dynalite answers malformed bodies itself.
      const input = peekJsonBody(raw);
      options.observe?.({ service: 'dynamodb', operation, input });
      if (options.dropDynamo?.(operation, input)) {
        req.socket.destroy();
        log({ service: 'dynamodb', operation, status: 0, ms: performance.now() - started, error: 'ConnectionDropped' });
        return;
      }
      authorize(req, input, { target });
    } catch (error) {
      const awsError = asAwsError(error, 'InternalServerError');
      sendAwsError(res, awsError, 'application/x-amz-json-1.0', { __type: `com.amazon.coral.service#${awsError.code}`, message: awsError.message });
      log({ service: 'dynamodb', operation, status: awsError.status, ms: performance.now() - started, error: awsError.code });
      return;
    }
    const replay = replayRequest(req, raw);
    res.on('finish', () => log({ service: 'dynamodb', operation, status: res.statusCode, ms: performance.now() - started }));
    options.dynamodb!.handle(replay, res);
  }

  /**
   * One answer and its log line: `serve` writes the success and returns its status; what it
   * throws is answered as the protocol writes errors (`errorBody`).
   */
  async function answer(
    res: ServerResponse,
    entry: { service: string; operation: string; started: number },
    internalCode: string,
    contentType: string,
    errorBody: (error: AwsError) => Record<string, unknown>,
    serve: () => Promise<number>,
  ): Promise<void> {
    let status: number;
    let errorCode: string | undefined;
    try {
      status = await serve();
    } catch (error) {
      const awsError = asAwsError(error, internalCode);
      status = awsError.status;
      errorCode = awsError.code;
      sendAwsError(res, awsError, contentType, errorBody(awsError));
    }
    log({ service: entry.service, operation: entry.operation, status, ms: performance.now() - entry.started, ...(errorCode ? { error: errorCode } : {}) });
  }

  function handleJson(req: IncomingMessage, res: ServerResponse, target: string, ctx: JsonServiceContext, started: number): Promise<void> {
    const { prefix, operation } = splitTarget(target);
    // awsJson 1.0 and 1.1 differ only in the content type; answer in the caller's.
    const contentType = /x-amz-json-1\.[01]/.exec(header(req, 'content-type') ?? '')
      ? (header(req, 'content-type') as string).split(';')[0]!
      : 'application/x-amz-json-1.0';
    const service = jsonByPrefix.get(prefix);
    return answer(res, { service: prefix, operation, started }, 'InternalFailure', contentType, (e) => ({ __type: e.code, message: e.message, ...e.fields }), async () => {
      if (!service) throw new AwsError('UnknownOperationException', `No local service answers X-Amz-Target ${target}`);
      const input = parseJsonBody(await readBody(req));
      options.observe?.({ service: prefix, operation, input });
      authorize(req, input, { target });
      const output = await service.handle(operation, input, ctx);
      return send(res, 200, { 'content-type': contentType }, JSON.stringify(output ?? {}));
    });
  }

  function handleRest(req: IncomingMessage, res: ServerResponse, service: RestService, ctx: JsonServiceContext, started: number): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://edge.local');
    const method = req.method ?? 'GET';
    const entry = { service: service.signingName, operation: `${method} ${url.pathname}`, started };
    return answer(res, entry, 'InternalServerException', 'application/json', (e) => ({ message: e.message }), async () => {
      const body = await readBody(req);
      // The service answers malformed bodies itself.
      if (options.authorize || options.observe) {
        const input = peekJsonBody(body);
        options.observe?.({ service: entry.service, operation: entry.operation, input });
        authorize(req, input, { signingName: service.signingName });
      }
      const response = await service.handle({ method, path: url.pathname, query: url.searchParams, headers: req.headers, body }, ctx);
      return send(res, response.status, { 'content-type': 'application/json' }, response.body === undefined ? '{}' : JSON.stringify(response.body));
    });
  }

  /** awsQuery: the form's Action, the answer in its `<ActionResponse>` envelope, errors as `<ErrorResponse>`. */
  async function handleQuery(req: IncomingMessage, res: ServerResponse, service: QueryService, ctx: JsonServiceContext, started: number): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://edge.local');
    const requestId = randomUUID();
    const headers = { 'content-type': 'text/xml', 'x-amzn-requestid': requestId };
    const ns = service.xmlNamespace;
    let action = '';
    try {
      const body = await readBody(req);
      const params = new URLSearchParams(req.method === 'GET' ? url.search : body);
      action = params.get('Action') ?? '';
      options.observe?.({ service: service.signingName, operation: action, input: Object.fromEntries(params) });
      const result = await service.handle(action, params, { method: req.method ?? 'POST', path: url.pathname, query: url.searchParams, headers: req.headers, body }, ctx);
      const xml = `<${action}Response xmlns="${ns}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
      log({ service: service.signingName, operation: action, status: send(res, 200, headers, xml), ms: performance.now() - started });
    } catch (error) {
      const e = asAwsError(error, 'InternalFailure');
      const xml = `<ErrorResponse xmlns="${ns}"><Error><Type>${e.status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${xmlText(e.code)}</Code><Message>${xmlText(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
      send(res, e.status, headers, xml);
      log({ service: service.signingName, operation: action, status: e.status, ms: performance.now() - started, error: e.code });
    }
  }

  const server = createServer((req, res) => {
    const started = performance.now();
    const scope = credentialScope(header(req, 'authorization'));
    const ctx: JsonServiceContext = { region: scope?.region ?? LOCAL_REGION, accountId };
    const target = header(req, 'x-amz-target');

    if (target?.startsWith(`${DYNAMODB_TARGET_PREFIX}.`) && options.dynamodb && (options.authorize || options.observe || options.dropDynamo)) {
      void handleInspectedDynamo(req, res, target, started);
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
    const queryService = scope ? queryBySigningName.get(scope.service) : undefined;
    if (queryService) {
      void handleQuery(req, res, queryService, ctx, started);
      return;
    }
    const restService = scope ? restBySigningName.get(scope.service) : restByPath.get(new URL(req.url ?? '/', 'http://edge.local').pathname);
    if (restService) {
      void handleRest(req, res, restService, ctx, started);
      return;
    }
    req.resume();
    const message = scope
      ? `No local service answers signing name ${scope.service}`
      : 'Request has neither X-Amz-Target nor a SigV4 credential scope';
    const unknown = new AwsError('UnknownOperationException', message);
    sendAwsError(res, unknown, 'application/json', { __type: unknown.code, message });
    log({ service: scope?.service ?? 'unknown', operation: `${req.method} ${req.url}`, status: unknown.status, ms: performance.now() - started, error: unknown.code });
  });

  const port = await listen(server, options.port ?? DEFAULT_EDGE_PORT, host);
  return { url: `http://${host}:${port}`, port, server, close: closer(server) };
}
