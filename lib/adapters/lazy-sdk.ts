/**
 * Load on first use: the SDK client modules most invocations never call.
 *
 * Every function imports the composition root (lib/composition/runtime.ts), so whatever it
 * loads at module load counts against every cold start. Loading a client module
 * costs 5–15 ms each (measured in bench/api.ts), so Step Functions, Scheduler,
 * SSO Admin, Organizations and STS (and SSM, for the Slack secrets read on the
 * first request, and Secrets Manager, for the cursor key read on the first list that
 * pages) are imported when a call first needs them.
 * DynamoDB and Identity Store (the caller lookup on every API request) stay
 * eager. The bundles keep the SDK external, so these `import()`s remain real
 * lazy loads in Lambda.
 */

/** Runs `load` once, on the first call; concurrent callers share it. A failure is not kept: the next call tries again. */
export function lazy<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () =>
    (pending ??= load().catch((error: unknown) => {
      pending = undefined;
      throw error;
    }));
}

/** A client as it is (tests, scripts), or a provider that builds it on first use. */
export type ClientSource<C extends object> = C | (() => Promise<C>);

/** One way to reach a client from either form; a provider is called once (see `lazy`). */
export function clientProvider<C extends object>(source: ClientSource<C>): () => Promise<C> {
  if (typeof source === 'function') return lazy(source);
  const ready = Promise.resolve(source);
  return () => ready;
}

/** The lazily loaded SDK packages, each imported at most once per container. */
export const lazySdk = {
  sfn: lazy(() => import('@aws-sdk/client-sfn')),
  scheduler: lazy(() => import('@aws-sdk/client-scheduler')),
  ssoAdmin: lazy(() => import('@aws-sdk/client-sso-admin')),
  organizations: lazy(() => import('@aws-sdk/client-organizations')),
  sts: lazy(() => import('@aws-sdk/client-sts')),
  /** Slack functions only: the secrets are read on the first request, and the module is one of the largest (~40 ms). */
  ssm: lazy(() => import('@aws-sdk/client-ssm')),
  /** listGrants only: the key that seals pagination cursors, read when a list first pages. */
  secretsManager: lazy(() => import('@aws-sdk/client-secrets-manager')),
  /** publishGrantEvents only: loaded when a stream batch first has events to put. */
  eventBridge: lazy(() => import('@aws-sdk/client-eventbridge')),
};
