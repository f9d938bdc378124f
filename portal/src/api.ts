/**
 * The HTTP API as the portal calls it: the bearer token on every call, one
 * retry after a refresh when the token is refused, and problem+json answers
 * turned into an ApiProblem that keeps the API's own sentences per field.
 */
import { SignedOutError, type Auth } from './auth.ts';
import type { EligibilityEntry, Grant, GrantPage, GrantRequest, GrantStatus } from './types.ts';

export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    /** The API's message for each field it names, keyed by the field's path in the body (`duration`, `target.accountId`). */
    readonly fields: Record<string, string>,
  ) {
    super(detail);
    this.name = 'ApiProblem';
  }
}

interface ProblemBody {
  detail?: string;
  title?: string;
  errors?: { field: string; message: string }[];
  'invalid-params'?: { name: string; reason: string }[];
}

/** The API names fields by request part (`body.duration`); a form knows them by their name in the body. */
function fieldName(path: string): string {
  return path.replace(/^(body|query|path|header)\.?/, '') || path;
}

async function problemFrom(res: Response): Promise<ApiProblem> {
  const body = (await res.json().catch(() => ({}))) as ProblemBody;
  const fields: Record<string, string> = {};
  for (const e of body.errors ?? []) fields[fieldName(e.field)] ??= e.message;
  for (const p of body['invalid-params'] ?? []) fields[fieldName(p.name)] ??= p.reason;
  const detail = body.detail ?? body.title ?? `the request failed (HTTP ${res.status})`;
  return new ApiProblem(res.status, detail, fields);
}

export type ListView = 'mine' | 'approvals' | 'active' | 'all';

export class Api {
  constructor(
    private readonly baseUrl: string,
    private readonly auth: Auth,
  ) {}

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const send = async (token: string) =>
      fetch(`${this.baseUrl.replace(/\/+$/, '')}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    let res = await send(await this.auth.accessToken());
    if (res.status === 401) {
      // The token may have lapsed between the check and the call: renew once, then give up.
      const renewed = await this.auth.refresh().catch((err: unknown) => {
        throw err instanceof SignedOutError ? err : this.auth.signedOut('the API no longer accepts your sign-in');
      });
      res = await send(renewed.accessToken);
      if (res.status === 401) throw this.auth.signedOut('the API no longer accepts your sign-in');
    }
    if (!res.ok) throw await problemFrom(res);
    return (await res.json()) as T;
  }

  async eligibility(): Promise<EligibilityEntry[]> {
    return (await this.call<{ items: EligibilityEntry[] }>('GET', '/eligibility')).items;
  }

  listGrants(view: ListView, opts: { status?: GrantStatus; cursor?: string; limit?: number } = {}): Promise<GrantPage> {
    const q = new URLSearchParams({ view });
    if (opts.status) q.set('status', opts.status);
    if (opts.cursor) q.set('cursor', opts.cursor);
    if (opts.limit) q.set('limit', String(opts.limit));
    return this.call('GET', `/grants?${q.toString()}`);
  }

  getGrant(id: string): Promise<Grant> {
    return this.call('GET', `/grants/${encodeURIComponent(id)}`);
  }

  /** The idempotency key makes a resubmitted form (a double click, a retry after a network error) one grant. */
  createGrant(request: GrantRequest, idempotencyKey: string): Promise<Grant> {
    return this.call('POST', '/grants', request, { 'idempotency-key': idempotencyKey });
  }

  approve(id: string, comment?: string): Promise<Grant> {
    return this.call('POST', `/grants/${encodeURIComponent(id)}/approve`, comment ? { comment } : {});
  }

  deny(id: string, comment?: string): Promise<Grant> {
    return this.call('POST', `/grants/${encodeURIComponent(id)}/deny`, comment ? { comment } : {});
  }

  revoke(id: string, reason: string): Promise<Grant> {
    return this.call('POST', `/grants/${encodeURIComponent(id)}/revoke`, { reason });
  }

  extend(id: string, duration: string): Promise<Grant> {
    return this.call('POST', `/grants/${encodeURIComponent(id)}/extend`, { duration });
  }

  cancel(id: string): Promise<Grant> {
    return this.call('POST', `/grants/${encodeURIComponent(id)}/cancel`, {});
  }
}
