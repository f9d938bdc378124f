/**
 * The audit export: every history entry in a time range, newest first, for admins and
 * auditors (lib/policy/authorization.ts, action `audit`). The range defaults to the last
 * 30 days up to now; a page's position carries the range it was resolved to, so the next
 * page reads the same range even when the request left its ends to the defaults.
 */
import type { GrantEvent } from '../events/grant-event.ts';
import { invalidCursorError, ValidationError } from '../errors.ts';
import type { GrantAuthorization } from '../policy/authorization.ts';
import type { AuditTrail, Clock } from '../ports/index.ts';
import type { Caller } from './grants.ts';

const DEFAULT_RANGE_MS = 30 * 86_400_000;
/** How far ahead of this container's clock another container may have written an entry. */
const CLOCK_SKEW_MS = 5 * 60_000;

export interface AuditPageRequest {
  /** ISO 8601 instants: from inclusive, to exclusive. */
  from?: string;
  to?: string;
  user?: string;
  account?: string;
  limit: number;
  /** The position a previous page returned. */
  cursor?: string;
}

export interface AuditPage {
  items: GrantEvent[];
  cursor?: string;
}

interface Position {
  from: string;
  to: string;
  p?: string;
}

export interface AuditServiceDeps {
  trail: AuditTrail;
  authorization: Pick<GrantAuthorization, 'authorize'>;
  clock: Clock;
}

const iso = (ms: number) => new Date(ms).toISOString();

export class AuditService {
  constructor(private readonly deps: AuditServiceDeps) {}

  async page(caller: Caller, request: AuditPageRequest): Promise<AuditPage> {
    await this.deps.authorization.authorize(caller, 'audit');
    const { from, to, p } = request.cursor !== undefined ? openPosition(request.cursor) : this.range(request);
    const query = { from, to, ...(request.user !== undefined ? { user: request.user } : {}), ...(request.account !== undefined ? { account: request.account } : {}) };
    const page = await this.deps.trail.page(query, { limit: request.limit, ...(p !== undefined ? { cursor: p } : {}) });
    return page.cursor === undefined ? { items: page.items } : { items: page.items, cursor: sealPosition({ from, to, p: page.cursor }) };
  }

  /**
   * The range a first page reads: both ends normalised to UTC milliseconds, `to` defaulting to now
   * and `from` to 30 days before `to`. No entry is later than now, so a `to` beyond it (give or take
   * clock skew) is read as now: the pages do not walk through months that cannot hold anything.
   */
  private range(request: Pick<AuditPageRequest, 'from' | 'to'>): Position {
    const now = this.deps.clock.now().getTime();
    const toMs = request.to !== undefined ? Math.min(Date.parse(request.to), now + CLOCK_SKEW_MS) : now;
    const fromMs = request.from !== undefined ? Date.parse(request.from) : toMs - DEFAULT_RANGE_MS;
    if (!(fromMs < toMs)) {
      throw new ValidationError('from must be before to', [{ field: 'query.from', message: `${iso(fromMs)} is not before to (${iso(toMs)})` }]);
    }
    return { from: iso(fromMs), to: iso(toMs) };
  }
}

function sealPosition(position: Position): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

function openPosition(cursor: string): Position {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<Position>;
    const instant = (s: unknown) => typeof s === 'string' && !Number.isNaN(Date.parse(s));
    if (instant(value.from) && instant(value.to) && (value.p === undefined || typeof value.p === 'string')) return value as Position;
  } catch {
    // fall through
  }
  throw invalidCursorError('not a cursor this API issued');
}
