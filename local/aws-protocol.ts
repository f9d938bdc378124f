/**
 * The contract between the local edge endpoint (one port serving every AWS API
 * the project calls) and each local service.
 *
 * JSON-protocol services (awsJson1_0 / awsJson1_1: DynamoDB, Step Functions,
 * sso-admin, identitystore, organizations, SSM) are routed by the X-Amz-Target
 * header `<prefix>.<Operation>`. REST services (EventBridge Scheduler) are routed by the
 * signing service name in the Authorization header's credential scope.
 */

/** An error as AWS sends it: `{"__type": code, "message": ...}` with the given HTTP status. */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
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

/** A service speaking restJson1 (EventBridge Scheduler). */
export interface RestService {
  /** Signing name in the credential scope, e.g. `scheduler`. */
  signingName: string;
  handle(req: RestRequest, ctx: JsonServiceContext): Promise<RestResponse>;
}

export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_REGION = 'us-east-1';
