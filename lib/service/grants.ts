/**
 * The grants application service: every use case the HTTP API and Slack offer.
 * Business rules live here and in lib/domain + lib/policy; handlers only parse
 * input and call these methods.
 */
import { createHash } from 'node:crypto';
import { ulid } from 'ulid';
import {
  describeTarget,
  SYSTEM_ACTORS,
  type Actor,
  type Grant,
  type GrantStatus,
  type Target,
  type TargetRequest,
} from '../domain/grant.ts';
import { addDuration, durationMs, formatDuration } from '../domain/duration.ts';
import { ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError, UnprocessableError } from '../errors.ts';
import type { SessionTerms } from '../domain/session-cut.ts';
import type { Clock, Directory, GrantStore, Page, Workflows } from '../ports/index.ts';
import type { SessionTermsSource } from '../ports/sessions.ts';
import { GrantAuthorization } from '../policy/authorization.ts';
import type { Caller, EligibilityEntry, PolicyEngine } from '../policy/engine.ts';

export type { Caller };

export interface GrantRequestInput {
  target: TargetRequest;
  duration: string;
  justification: string;
  ticket?: string;
  startsAt?: string;
}

export type ListView = 'mine' | 'approvals' | 'active' | 'all';

export interface ListQuery {
  view: ListView;
  status?: GrantStatus;
  limit: number;
  cursor?: string;
}

export interface GrantServiceDeps {
  store: GrantStore;
  directory: Directory;
  policy: PolicyEngine;
  workflows: Workflows;
  clock: Clock;
  /** How far ahead a future start may be. */
  maxStartAheadMs: number;
  /** What happens to a grant's role sessions when it ends (SessionDuration, revocation); absent, nothing is said. */
  sessionTerms?: SessionTermsSource;
}

const OPEN_STATUSES: readonly GrantStatus[] = ['PENDING_APPROVAL', 'APPROVED', 'SCHEDULED'];

function actorOf(caller: Caller): Actor {
  return { id: caller.userId, name: caller.email || caller.userName };
}

/** Hash of the request body that identifies a retry under one Idempotency-Key. */
export function requestFingerprint(input: GrantRequestInput): string {
  const canonical = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>)
            .filter(([, x]) => x !== undefined)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([k, x]) => [k, canonical(x)]),
        )
      : v;
  return createHash('sha256').update(JSON.stringify(canonical(input))).digest('hex');
}

export class GrantService {
  private readonly authorization: GrantAuthorization;

  constructor(private readonly deps: GrantServiceDeps) {
    this.authorization = new GrantAuthorization(deps.policy);
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }

  // ---- identity -------------------------------------------------------------

  /** Maps an authenticated identity (JWT claim or Slack profile email) to the Identity Store user. */
  async callerFor(identity: { email?: string; userName?: string }): Promise<Caller> {
    const { email, userName } = identity;
    if (!email && !userName) throw new UnauthenticatedError('the token carries no identity claim');
    const user = email
      ? await this.deps.directory.findUserByEmail(email)
      : await this.deps.directory.findUserByUserName(userName as string);
    if (!user) {
      throw new ForbiddenError(`no IAM Identity Center user matches ${email ? `email ${email}` : `user name ${userName}`}`);
    }
    return this.deps.policy.callerFromUser(user);
  }

  callerForEmail(email: string): Promise<Caller> {
    return this.callerFor({ email });
  }

  // ---- queries --------------------------------------------------------------

  private async mustGet(id: string): Promise<Grant> {
    const grant = await this.deps.store.get(id);
    if (!grant) throw new NotFoundError(`grant ${id} does not exist`);
    return grant;
  }

  async get(caller: Caller, id: string): Promise<Grant> {
    const grant = await this.mustGet(id);
    await this.authorization.authorize(caller, 'see', grant);
    return grant;
  }

  async list(caller: Caller, q: ListQuery): Promise<Page<Grant>> {
    const page = { limit: q.limit, ...(q.cursor ? { cursor: q.cursor } : {}) };
    const { store } = this.deps;
    switch (q.view) {
      case 'mine':
        return store.listByPrincipal(caller.userId, page, q.status);
      case 'active':
        if ((await this.authorization.may(caller, 'list-all')).allowed) return store.listByStatus('ACTIVE', page);
        return store.listByPrincipal(caller.userId, page, 'ACTIVE');
      case 'all':
        await this.authorization.authorize(caller, 'list-all');
        return q.status ? store.listByStatus(q.status, page) : store.listAll(page);
      case 'approvals':
        return this.listApprovals(caller, q.limit, q.cursor);
    }
  }

  /** Pending requests the caller may decide, across every rule they approve for. The cursor carries the rule position. */
  private async listApprovals(caller: Caller, limit: number, cursor?: string): Promise<Page<Grant>> {
    const rules = (await this.authorization.rulesToDecide(caller)).sort();
    let ruleIndex = 0;
    let inner: string | undefined;
    if (cursor) {
      const sep = cursor.indexOf('.');
      ruleIndex = Number(cursor.slice(0, sep));
      inner = cursor.slice(sep + 1) || undefined;
      if (sep < 0 || !Number.isInteger(ruleIndex) || ruleIndex < 0) {
        throw new UnprocessableError('cursor is not valid: pass the cursor from the previous page unchanged');
      }
    }
    const items: Grant[] = [];
    while (ruleIndex < rules.length && items.length < limit) {
      const res = await this.deps.store.listPendingForRule(rules[ruleIndex] as string, {
        limit: limit - items.length,
        ...(inner ? { cursor: inner } : {}),
      });
      items.push(...res.items.filter((g) => this.authorization.inApprovalQueue(caller, g)));
      if (res.cursor) {
        inner = res.cursor;
        break;
      }
      inner = undefined;
      ruleIndex++;
    }
    return ruleIndex < rules.length ? { items, cursor: `${ruleIndex}.${inner ?? ''}` } : { items };
  }

  /** What the caller may request; each account target says what happens to its sessions after the grant ends. */
  async eligibility(caller: Caller): Promise<EligibilityEntry[]> {
    const entries = await this.deps.policy.eligibility(caller);
    if (!this.deps.sessionTerms) return entries;
    return Promise.all(
      entries.map(async (entry) => ({
        ...entry,
        targets: await Promise.all(entry.targets.map(async (t) => (t.type === 'account' ? { ...t, session: await this.sessionTermsOf(t) } : t))),
      })),
    );
  }

  /** The session terms of an account target (undefined for a group, or when not configured). */
  async sessionTermsOf(target: Target): Promise<SessionTerms | undefined> {
    if (target.type !== 'account' || !this.deps.sessionTerms) return undefined;
    return this.deps.sessionTerms.termsFor(target.accountId, target.permissionSetArn);
  }

  // ---- commands -------------------------------------------------------------

  async request(
    caller: Caller,
    input: GrantRequestInput,
    idempotencyKey?: string,
  ): Promise<{ grant: Grant; replayed: boolean }> {
    const now = this.deps.clock.now();
    if (input.startsAt !== undefined) {
      const start = Date.parse(input.startsAt);
      if (start < now.getTime() - 60_000) throw new UnprocessableError(`startsAt ${input.startsAt} is in the past`);
      if (start > now.getTime() + this.deps.maxStartAheadMs) {
        throw new UnprocessableError(`startsAt may be at most ${formatDuration(this.deps.maxStartAheadMs)} ahead`);
      }
    }
    const { rule, target } = await this.deps.policy.matchRequest(caller, input.target, input.duration);

    let id = ulid(now.getTime());
    if (idempotencyKey) {
      const bodyHash = requestFingerprint(input);
      const previous = await this.deps.store.claimIdempotencyKey({ key: idempotencyKey, principalId: caller.userId, bodyHash, grantId: id });
      if (previous) {
        if (previous.bodyHash !== bodyHash) {
          throw new UnprocessableError('Idempotency-Key was already used with a different request body; use a new key');
        }
        const existing = await this.deps.store.get(previous.grantId);
        if (existing) return this.replay(existing);
        // The first attempt claimed the key but has not written the grant (it died, or is still running).
        id = previous.grantId;
      }
    }

    const at = now.toISOString();
    const approval = this.deps.policy.approvalFor(rule);
    const requester = actorOf(caller);
    const futureStart = input.startsAt !== undefined && Date.parse(input.startsAt) > now.getTime();
    const grant: Grant = {
      id,
      principal: { userId: caller.userId, userName: caller.userName, email: caller.email },
      target,
      justification: input.justification,
      ...(input.ticket ? { ticket: input.ticket } : {}),
      ruleId: rule.id,
      requestedAt: at,
      ...(input.startsAt ? { startsAt: new Date(input.startsAt).toISOString() } : {}),
      duration: input.duration,
      status: 'PENDING_APPROVAL',
      quorum: approval.quorum,
      approvals: [],
      history: [{ at, actor: requester, action: 'requested', from: null, to: 'PENDING_APPROVAL', detail: `${describeTarget(target)} for ${input.duration}: ${input.justification}` }],
      version: 1,
    };
    if (approval.quorum === 0) {
      const to: GrantStatus = futureStart ? 'SCHEDULED' : 'APPROVED';
      grant.status = to;
      grant.history.push({ at, actor: requester, action: 'auto-approved', from: 'PENDING_APPROVAL', to, detail: `rule ${rule.id} approves automatically` });
    } else {
      grant.pendingExpiresAt = addDuration(at, this.deps.policy.pendingExpiryFor(rule));
    }

    try {
      await this.deps.store.create(grant);
    } catch (err) {
      const winner = idempotencyKey ? await this.settleFailedCreate(err, caller, idempotencyKey, id) : undefined;
      if (winner) return this.replay(winner);
      throw err;
    }
    await this.afterApproval(grant);
    return { grant, replayed: false };
  }

  /**
   * The grant write under a claimed Idempotency-Key failed. Attempts racing under one key
   * share one grant id, so a grant with that id means a racing attempt won (a conflict:
   * answer with its grant) or this write landed before its error; the claim stays either
   * way. Otherwise nothing was written and the claim is given back, so the key does not
   * name a grant that does not exist. A failed check or release leaves the claim: a retry
   * with the key reuses it (it writes the claimed id), and TTL removes it.
   */
  private async settleFailedCreate(err: unknown, caller: Caller, key: string, id: string): Promise<Grant | undefined> {
    let written: Grant | undefined;
    try {
      written = await this.deps.store.get(id);
    } catch {
      return undefined;
    }
    if (written) return err instanceof ConflictError ? written : undefined;
    await this.deps.store.releaseIdempotencyKey(caller.userId, key, id).catch(() => undefined);
    return undefined;
  }

  /**
   * A repeated request answers with the first one's grant, and makes sure its workflow
   * was started (the first attempt may have died between the write and the start;
   * starts are idempotent by execution name).
   */
  private async replay(grant: Grant): Promise<{ grant: Grant; replayed: boolean }> {
    await this.afterApproval(grant);
    return { grant, replayed: true };
  }

  /** Starts access for a grant that just became APPROVED or SCHEDULED. */
  private async afterApproval(grant: Grant): Promise<void> {
    if (grant.status === 'APPROVED') await this.deps.workflows.startGrant(grant);
    else if (grant.status === 'SCHEDULED') await this.deps.workflows.scheduleActivation(grant);
  }

  /** A pending request past its expiry is closed as APPROVAL_EXPIRED before anyone may act on it. */
  private async expireIfStale(grant: Grant): Promise<Grant> {
    if (grant.status !== 'PENDING_APPROVAL' || !grant.pendingExpiresAt) return grant;
    if (Date.parse(grant.pendingExpiresAt) > this.deps.clock.now().getTime()) return grant;
    return this.expirePending(grant);
  }

  async expirePending(grant: Grant): Promise<Grant> {
    const expired = await this.deps.store.transition({
      current: grant,
      to: 'APPROVAL_EXPIRED',
      set: { endedAt: this.now() },
      entry: { at: this.now(), actor: SYSTEM_ACTORS.expirer, action: 'approval expired', detail: `no decision by ${grant.pendingExpiresAt}` },
    });
    return expired;
  }

  private async mustBePending(id: string, action: string): Promise<Grant> {
    const grant = await this.mustGet(id);
    if (grant.status === 'PENDING_APPROVAL') {
      const fresh = await this.expireIfStale(grant);
      if (fresh.status === 'PENDING_APPROVAL') return fresh;
      throw new ConflictError(`grant ${id} expired unapproved at ${grant.pendingExpiresAt}; it can no longer be ${action}`);
    }
    throw new ConflictError(`grant ${id} is ${grant.status}; only a PENDING_APPROVAL request can be ${action}`);
  }

  async approve(caller: Caller, id: string, comment?: string): Promise<Grant> {
    const grant = await this.mustBePending(id, 'approved');
    await this.authorization.authorize(caller, 'approve', grant);
    const at = this.now();
    const approvals = [...grant.approvals, { by: actorOf(caller), at, ...(comment ? { comment } : {}) }];
    const reached = approvals.length >= grant.quorum;
    const futureStart = grant.startsAt !== undefined && Date.parse(grant.startsAt) > this.deps.clock.now().getTime();
    const to: GrantStatus = !reached ? 'PENDING_APPROVAL' : futureStart ? 'SCHEDULED' : 'APPROVED';
    const updated = await this.deps.store.transition({
      current: grant,
      to,
      set: { approvals, ...(reached ? { pendingExpiresAt: undefined } : {}) },
      entry: { at, actor: actorOf(caller), action: 'approved', detail: `${approvals.length}/${grant.quorum}${comment ? `: ${comment}` : ''}` },
    });
    await this.afterApproval(updated);
    return updated;
  }

  async deny(caller: Caller, id: string, comment?: string): Promise<Grant> {
    const grant = await this.mustBePending(id, 'denied');
    await this.authorization.authorize(caller, 'deny', grant);
    const at = this.now();
    const denied = await this.deps.store.transition({
      current: grant,
      to: 'DENIED',
      set: { endedAt: at, pendingExpiresAt: undefined },
      entry: { at, actor: actorOf(caller), action: 'denied', ...(comment ? { detail: comment } : {}) },
    });
    return denied;
  }

  async cancel(caller: Caller, id: string): Promise<Grant> {
    const grant = await this.mustGet(id);
    await this.authorization.authorize(caller, 'cancel', grant);
    if (!OPEN_STATUSES.includes(grant.status)) {
      throw new ConflictError(
        grant.status === 'ACTIVE' || grant.status === 'ACTIVATING'
          ? `grant ${id} is ${grant.status}; revoke it instead`
          : `grant ${id} is ${grant.status}; it can no longer be cancelled`,
      );
    }
    const at = this.now();
    const cancelled = await this.deps.store.transition({
      current: grant,
      to: 'CANCELLED',
      set: { endedAt: at, pendingExpiresAt: undefined },
      entry: { at, actor: actorOf(caller), action: 'cancelled' },
    });
    if (grant.status === 'SCHEDULED') await this.deps.workflows.deleteSchedules(cancelled);
    return cancelled;
  }

  /** Ends an ACTIVE grant before its expiry. */
  async revoke(caller: Caller, id: string, reason: string): Promise<Grant> {
    const grant = await this.mustGet(id);
    await this.authorization.authorize(caller, 'revoke', grant);
    if (grant.status === 'REVOKING') throw new ConflictError(`grant ${id} is already being revoked`);
    if (grant.status !== 'ACTIVE') {
      throw new ConflictError(
        OPEN_STATUSES.includes(grant.status)
          ? `grant ${id} is ${grant.status}; cancel it instead`
          : `grant ${id} is ${grant.status}; only an ACTIVE grant can be revoked`,
      );
    }
    const at = this.now();
    const revoking = await this.deps.store.transition({
      current: grant,
      to: 'REVOKING',
      set: { revokeReason: reason },
      entry: { at, actor: actorOf(caller), action: 'revoke requested', detail: reason },
    });
    await this.deps.workflows.startRevoke(revoking, 'early');
    return revoking;
  }

  /** Moves expiresAt later, within the rule's maximum total; the revocation schedule follows. */
  async extend(caller: Caller, id: string, duration: string): Promise<Grant> {
    const grant = await this.mustGet(id);
    await this.authorization.authorize(caller, 'extend', grant);
    if (grant.status !== 'ACTIVE' || !grant.expiresAt || !grant.activatedAt) {
      throw new ConflictError(`grant ${id} is ${grant.status}; only an ACTIVE grant can be extended`);
    }
    const nowMs = this.deps.clock.now().getTime();
    if (Date.parse(grant.expiresAt) <= nowMs) throw new ConflictError(`grant ${id} has already expired; request a new one`);
    // Policy is evaluated again: the caller must still be allowed to request this target.
    const { rule } = await this.deps.policy.matchRequest(caller, this.targetRequestOf(grant), duration);
    const expiresAt = addDuration(grant.expiresAt, duration);
    const total = Date.parse(expiresAt) - Date.parse(grant.activatedAt);
    const maxTotal = durationMs(this.deps.policy.maxTotalFor(rule));
    if (total > maxTotal) {
      throw new UnprocessableError(
        `extending by ${duration} would make the grant last ${formatDuration(total)}; rule ${rule.id} allows at most ${this.deps.policy.maxTotalFor(rule)} in total`,
      );
    }
    const at = this.now();
    const extended = await this.deps.store.transition({
      current: grant,
      to: 'ACTIVE',
      set: { expiresAt },
      entry: { at, actor: actorOf(caller), action: 'extended', detail: `by ${duration}, now until ${expiresAt}` },
    });
    await this.deps.workflows.scheduleRevocation(extended);
    return extended;
  }

  private targetRequestOf(grant: Grant): TargetRequest {
    return grant.target.type === 'account'
      ? { type: 'account', accountId: grant.target.accountId, permissionSet: grant.target.permissionSet }
      : { type: 'group', group: grant.target.group };
  }
}

