/**
 * Grant responses say what happens to the role sessions the grant issued once it ends: the
 * session terms of its account and permission set and, when the sessions are not cut,
 * `sessionsValidUntil` (expiresAt + SessionDuration). Applied to a grant or a page of grants.
 */
import type { Grant } from '../domain/grant.ts';
import { sessionsValidUntil } from '../domain/session-cut.ts';
import type { GrantService } from '../service/grants.ts';

const isGrant = (v: unknown): v is Grant => typeof v === 'object' && v !== null && 'target' in v && 'status' in v && 'principal' in v;

async function withTerms(service: GrantService, grant: Grant): Promise<Grant> {
  // The terms inform; a lookup that fails (Identity Center throttling) leaves them out rather than fail the answer.
  const session = await service.sessionTermsOf(grant.target).catch(() => undefined);
  if (!session) return grant;
  const until = sessionsValidUntil(session, grant.expiresAt);
  return { ...grant, session, ...(until ? { sessionsValidUntil: until } : {}) } as Grant;
}

export async function withSessionTerms(service: GrantService, body: unknown): Promise<unknown> {
  if (isGrant(body)) return withTerms(service, body);
  const page = body as { items?: unknown[] } | undefined;
  if (page && Array.isArray(page.items) && page.items.every(isGrant)) return { ...page, items: await Promise.all(page.items.map((g) => withTerms(service, g as Grant))) };
  return body;
}
