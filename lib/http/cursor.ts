/**
 * Pagination cursors the HTTP API hands out: opaque to callers, tamper-proof, and
 * bound to the caller and the list they were issued for.
 *
 *   cursor  = base64url(payload) "." base64url(HMAC-SHA256(key, base64url(payload)))
 *   payload = {"v":1,"u":<caller's user id>,"w":<view>,"s":<status filter or null>,"p":<position>,"t":<issued, epoch s>}
 *
 * `position` is whatever the service needs to resume (the store's LastEvaluatedKey, or the
 * approvals view's rule index plus that rule's key); it reaches the store only after the MAC,
 * the caller, the view and the age have been checked, so a forged or borrowed cursor never
 * becomes a DynamoDB ExclusiveStartKey.
 *
 * Why HMAC and not AES-GCM: nothing in a cursor is secret from the caller it was issued to
 * (their own user id and the keys of items they were just shown); what matters is that
 * it cannot be altered or used by someone else. HMAC is deterministic, needs no nonce,
 * and keeps the cursor short. The MAC covers the encoded payload text, so any
 * re-encoding (padding, '+' and '/', other whitespace) fails the check like a bit flip.
 *
 * The key comes from the deployment (a Secrets Manager secret generated at deploy time;
 * lib/adapters/cursor-key.ts), never from code.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { invalidCursorError } from '../errors.ts';

/** What a cursor is bound to: who asked, and for which list. */
export interface CursorScope {
  userId: string;
  view: string;
  status?: string | undefined;
}

export interface CursorCodecOptions {
  /** How long a cursor stays usable (default 24 h): a page left open overnight starts again. */
  maxAgeMs?: number;
  now?: () => number;
}

/** Longer than any cursor this codec issues; the query schema caps the parameter at the same length. */
export const MAX_CURSOR_LENGTH = 4096;
const VERSION = 1;
const MAC_LENGTH = 43; // base64url of 32 bytes, unpadded
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const DEFAULT_MAX_AGE_MS = 24 * 3600_000;
/** Clock skew tolerated between the container that issued a cursor and the one reading it. */
const FUTURE_SKEW_S = 300;
/** The key the deployment generates is 64 characters; anything much shorter is a misconfiguration. */
export const MIN_KEY_BYTES = 32;

interface Payload {
  v: number;
  u: string;
  w: string;
  s: string | null;
  p: string;
  t: number;
}

export class CursorCodec {
  private readonly key: Buffer;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(secret: Buffer | string, options: CursorCodecOptions = {}) {
    const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
    if (bytes.length < MIN_KEY_BYTES) throw new Error(`the cursor key must be at least ${MIN_KEY_BYTES} bytes`);
    // A key of its own for cursors, so the deployment's secret could serve another purpose without sharing MACs.
    this.key = createHmac('sha256', bytes).update('identity-center-jit/cursor/v1').digest();
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    this.now = options.now ?? Date.now;
  }

  /** The cursor for `position`, usable only by `scope.userId` on the same view and filter. */
  seal(position: string, scope: CursorScope): string {
    const payload: Payload = { v: VERSION, u: scope.userId, w: scope.view, s: scope.status ?? null, p: position, t: Math.floor(this.now() / 1000) };
    const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
    return `${body}.${this.mac(body)}`;
  }

  /** The position a cursor carries; a ValidationError (400, field `cursor`) for anything this codec did not issue to this scope. */
  open(cursor: string, scope: CursorScope): string {
    if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH) throw invalidCursorError('not a cursor this API issued');
    const dot = cursor.indexOf('.');
    const body = dot < 0 ? '' : cursor.slice(0, dot);
    const mac = dot < 0 ? '' : cursor.slice(dot + 1);
    if (!BASE64URL.test(body) || mac.length !== MAC_LENGTH || !BASE64URL.test(mac)) throw invalidCursorError('not a cursor this API issued');
    // Constant time over equal lengths (both are MAC_LENGTH ASCII characters here).
    if (!timingSafeEqual(Buffer.from(this.mac(body), 'ascii'), Buffer.from(mac, 'ascii'))) {
      throw invalidCursorError('not a cursor this API issued, or it was altered');
    }
    const payload = parsePayload(body);
    if (!payload) throw invalidCursorError('not a cursor this API issued');
    if (payload.u !== scope.userId) throw invalidCursorError('issued to another caller');
    if (payload.w !== scope.view || payload.s !== (scope.status ?? null)) throw invalidCursorError('issued for another view or status filter');
    const nowS = this.now() / 1000;
    if (payload.t > nowS + FUTURE_SKEW_S || (nowS - payload.t) * 1000 > this.maxAgeMs) throw invalidCursorError('expired');
    return payload.p;
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body, 'ascii').digest('base64url');
  }
}

/** The payload of an authenticated cursor; undefined when its shape is not this version's (a key reused across versions). */
function parsePayload(body: string): Payload | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const p = value as Record<string, unknown>;
  const ok =
    p.v === VERSION &&
    typeof p.u === 'string' &&
    typeof p.w === 'string' &&
    (p.s === null || typeof p.s === 'string') &&
    typeof p.p === 'string' &&
    p.p !== '' &&
    typeof p.t === 'number' &&
    Number.isFinite(p.t);
  return ok ? (p as unknown as Payload) : undefined;
}
