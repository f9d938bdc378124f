/**
 * The contract between the local edge endpoint (one port serving every AWS API
 * the project calls) and each local service, and the protocol plumbing they share:
 * bodies, errors as AWS writes them, input members, pagination, timestamps.
 *
 * JSON-protocol services (awsJson1_0 / awsJson1_1: DynamoDB, Step Functions,
 * sso-admin, identitystore, organizations, SSM) are routed by the X-Amz-Target
 * header `<prefix>.<Operation>`. REST services (EventBridge Scheduler) are routed by the
 * signing service name in the Authorization header's credential scope.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBytes, send } from './http.ts';

/** An error as AWS sends it: `{"__type": code, "message": ...}` with the given HTTP status, and the members some errors add (`Reason`). */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly fields: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = code;
  }
}

export interface JsonServiceContext {
  region: string;
  accountId: string;
}

/** A service speaking awsJson: one operation name, one JSON input, one JSON output. */
export interface JsonService {
  /** X-Amz-Target prefixes this service answers, e.g. `SWBExternalService`. */
  targetPrefixes: string[];
  handle(operation: string, input: Record<string, unknown>, ctx: JsonServiceContext): Promise<unknown>;
}

export interface RestRequest {
  method: string;
  /** Path without query string, URI-decoded segments left encoded. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface RestResponse {
  status: number;
  body?: unknown;
}

/** A service speaking restJson1 (EventBridge Scheduler, the access portal). */
export interface RestService {
  /** Signing name in the credential scope, e.g. `scheduler`. */
  signingName: string;
  /** Paths whose unsigned requests this service answers (APIs that take no SigV4 signature, like the access portal's). */
  paths?: string[];
  handle(req: RestRequest, ctx: JsonServiceContext): Promise<RestResponse>;
}

/**
 * A service speaking awsQuery (STS): a form-encoded body naming the `Action`, an XML answer.
 * `handle` returns the inside of `<ActionResult>`; the edge writes the envelope and the errors.
 */
export interface QueryService {
  /** Signing name in the credential scope, e.g. `sts`. */
  signingName: string;
  /** The XML namespace of its answers, e.g. `https://sts.amazonaws.com/doc/2011-06-15/`. */
  xmlNamespace: string;
  handle(action: string, params: URLSearchParams, req: RestRequest, ctx: JsonServiceContext): Promise<string>;
}

/** Text for an XML element's content. */
export function xmlText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_REGION = 'us-east-1';

/** AWS's JSON and REST protocols give timestamps as epoch seconds. */
export const epochSeconds = (ms: number): number => ms / 1000;

/** Request bodies past this are RequestEntityTooLargeException (413). */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** The request body as UTF-8 text, within {@link MAX_BODY_BYTES}. */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  const bytes = await readBytes(req, limit);
  if (!bytes) throw new AwsError('RequestEntityTooLargeException', 'Request body too large', 413);
  return bytes.toString('utf8');
}

/** A JSON request body as an object: empty (or not an object) is `{}`; text that is not JSON is `errorCode`. */
export function parseJsonBody(raw: string, errorCode = 'SerializationException'): Record<string, unknown> {
  if (raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new AwsError(errorCode, 'Request body is not valid JSON');
  }
  return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
}

/** For a look before the service answers (IAM): a body that is not JSON reads as `{}`, and the service itself refuses it. */
export function peekJsonBody(raw: string): Record<string, unknown> {
  try {
    return parseJsonBody(raw);
  } catch {
    return {};
  }
}

/** `<prefix>.<Operation>` of an X-Amz-Target header. */
export function splitTarget(target: string): { prefix: string; operation: string } {
  const dot = target.lastIndexOf('.');
  return dot < 0 ? { prefix: target, operation: '' } : { prefix: target.slice(0, dot), operation: target.slice(dot + 1) };
}

/** Anything a service throws that is not an AwsError is a bug in the local cloud: a 500 the SDK will retry. */
export function asAwsError(error: unknown, internalCode: string): AwsError {
  if (error instanceof AwsError) return error;
  console.error('[aws] internal error', error);
  return new AwsError(internalCode, error instanceof Error ? error.message : String(error), 500);
}

/**
 * An error answer as AWS writes it: the code in the x-amzn-ErrorType header and `body` as JSON
 * (awsJson: `{"__type", "message"}`; restJson: `{"message"}`), so the SDK raises its modelled exception.
 */
export function sendAwsError(res: ServerResponse, error: AwsError, contentType: string, body: Record<string, unknown>): void {
  send(res, error.status, { 'content-type': contentType, 'x-amzn-errortype': error.code }, JSON.stringify(body));
}

// ---------------------------------------------------------------------------
// Reading an operation's input

const memberPath = (name: string) => `${name.charAt(0).toLowerCase()}${name.slice(1)}`;

/** A required string member: absent or empty is AWS's "Member must not be null" ValidationException. */
export function requireString(input: Record<string, unknown>, name: string): string {
  const value = input[name];
  if (typeof value !== 'string' || value.length === 0) {
    throw new AwsError('ValidationException', `1 validation error detected: Value null at '${memberPath(name)}' failed to satisfy constraint: Member must not be null`);
  }
  return value;
}

/** A required object member, likewise. */
export function requireObject(input: Record<string, unknown>, name: string): Record<string, unknown> {
  const value = input[name];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AwsError('ValidationException', `1 validation error detected: Value null at '${memberPath(name)}' failed to satisfy constraint: Member must not be null`);
  }
  return value as Record<string, unknown>;
}

/** An optional string member; another type is `errorCode` ("<name> must be a string"). */
export function optionalString(input: Record<string, unknown>, name: string, errorCode = 'ValidationException'): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new AwsError(errorCode, `${name} must be a string`);
  return value;
}

export interface PageLimits {
  /** Page size when the request names none. */
  defaultMax: number;
  /** Largest page size the service accepts. */
  maxMax: number;
  /**
   * How the service refuses a MaxResults out of range or a NextToken it did not issue. Without
   * it the page size is clamped into range and an unknown token starts from the first item.
   */
  invalid?: (message: string) => AwsError;
}

/** The page a List* request asks for: its MaxResults and NextToken members (or query parameters). */
export interface PageRequest {
  maxResults?: unknown;
  nextToken?: unknown;
}

/** Offset pagination behind an opaque token, as the AWS List* operations expose it. */
export function paginate<T>(items: readonly T[], request: PageRequest, limits: PageLimits): { page: T[]; nextToken?: string } {
  const { maxResults, nextToken } = request;
  let max = limits.defaultMax;
  if (maxResults !== undefined && maxResults !== null) {
    if (limits.invalid) {
      if (typeof maxResults !== 'number' || !Number.isInteger(maxResults) || maxResults < 1 || maxResults > limits.maxMax) {
        throw limits.invalid(`MaxResults must be an integer between 1 and ${limits.maxMax}`);
      }
      max = maxResults;
    } else {
      const asked = Number(maxResults);
      if (Number.isInteger(asked) && asked >= 1) max = Math.min(asked, limits.maxMax);
    }
  }
  let offset = 0;
  if (nextToken !== undefined && nextToken !== null) {
    const decoded = typeof nextToken === 'string' ? /^p(\d+)$/.exec(Buffer.from(nextToken, 'base64url').toString('utf8')) : null;
    if (decoded) offset = Number(decoded[1]);
    else if (limits.invalid) throw limits.invalid('The NextToken is not valid.');
  }
  const page = items.slice(offset, offset + max);
  const next = offset + max < items.length ? Buffer.from(`p${offset + max}`).toString('base64url') : undefined;
  return next ? { page, nextToken: next } : { page };
}

/** A List* answer: one page of `items` under `member`, and the token of the next page while more remain. */
export function pageAnswer<T>(member: string, items: readonly T[], request: PageRequest, limits: PageLimits, tokenMember = 'NextToken'): Record<string, unknown> {
  const { page, nextToken } = paginate(items, request, limits);
  return { [member]: page, ...(nextToken ? { [tokenMember]: nextToken } : {}) };
}
