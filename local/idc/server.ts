/**
 * The Identity Center services on an endpoint of their own: the edge endpoint with only
 * these awsJson services behind it, quiet. Used by the Identity Center tests and the
 * conformance suite, where the SDK clients must parse the errors into their modelled
 * exception classes exactly as they do against the local cloud.
 */
import type { JsonService } from '../protocol/aws.ts';
import { startEdge } from '../edge.ts';

export interface JsonEndpoint {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface ServeOptions {
  port?: number;
  /** Loopback only by default. */
  host?: string;
}

/** Serves the services on loopback; port 0 (default) picks a free port. */
export async function serveJsonServices(services: readonly JsonService[], options: ServeOptions = {}): Promise<JsonEndpoint> {
  const { url, port, close } = await startEdge({
    port: options.port ?? 0,
    ...(options.host ? { host: options.host } : {}),
    jsonServices: [...services],
    log: () => undefined,
  });
  return { url, port, close };
}
