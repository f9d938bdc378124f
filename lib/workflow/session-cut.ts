/**
 * Session revocation (deploy parameter sessionRevocation: scp). Removing an assignment does not
 * end the role sessions already issued; an explicit Deny on the user's sessions issued before the
 * removal does. The revoke workflow's CutSessions task runs `cutSessions` once the deletion
 * SUCCEEDED and the grant ended; the sweeper retries pending cuts and lifts the entries whose
 * sessions can no longer be valid (cutoff + SessionDuration).
 *
 * The cut entries in the table are the truth; the SCPs are rendered from them, per account,
 * under the account's lease. Each cut and each lift is a history entry on the grant.
 */
import type { Grant } from '../domain/grant.ts';
import { SYSTEM_ACTORS } from '../domain/grant.ts';
import { cutoffSecond, SCP_MAX_PER_TARGET, scpContents, sessionDurationMs, type SessionCutEntry } from '../domain/session-cut.ts';
import type { BackstopLog, Clock, GrantStore } from '../ports/index.ts';
import type { PendingCut, ServiceControlPolicies, SessionAccess, SessionCutStore } from '../ports/sessions.ts';

export interface SessionCutDeps {
  store: Pick<GrantStore, 'get'>;
  cuts: SessionCutStore;
  scps: ServiceControlPolicies;
  access: SessionAccess;
  clock: Clock;
  log: BackstopLog;
  /** Names the system's SCPs: `<scpNamePrefix>-sessions-<account>-<n>`. */
  scpNamePrefix: string;
}

export interface CutSessionsInput {
  grantId: string;
  /** When the deletion was seen SUCCEEDED (the state's entered time); default now. */
  cutoff?: string;
}

export type CutOutcome = 'cut' | 'nothing-to-cut' | 'pending';

export interface CutSessionsResult {
  outcome: CutOutcome;
  accounts: string[];
  detail?: string;
}

/** More SCPs would be needed on the account than Organizations allows: an alert, never a silent skip. */
export class ScpLimitReached extends Error {
  override readonly name = 'ScpLimitReached';
}

/** The stable log message of an alert on session revocation (the metric filter and the runbook match it). */
export const SESSION_CUT_ALERT = 'sessions of an ended grant could not be cut';
export const SESSION_LIFT_ALERT = 'session cut entries could not be lifted';

const scpName = (deps: SessionCutDeps, accountId: string, n: number) => `${deps.scpNamePrefix}-sessions-${accountId}-${n}`;
const errorText = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

/** Which accounts' sessions the grant's access reached, and how long a session there lasts at most. */
async function reach(deps: SessionCutDeps, grant: Grant): Promise<Array<{ accountId: string; sessionMs: number }>> {
  const t = grant.target;
  const pairs = t.type === 'account' ? [{ accountId: t.accountId, permissionSetArn: t.permissionSetArn }] : await deps.access.groupAssignments(t.groupId);
  const byAccount = new Map<string, number>();
  for (const p of pairs) {
    const ms = sessionDurationMs(await deps.access.sessionDuration(p.permissionSetArn));
    byAccount.set(p.accountId, Math.max(byAccount.get(p.accountId) ?? 0, ms));
  }
  return [...byAccount].map(([accountId, sessionMs]) => ({ accountId, sessionMs }));
}

/**
 * Renders the account's entries into its system-owned SCPs: updates those that change, creates
 * (attached) those that are missing, detaches and deletes those left empty. Never more than
 * SCP_MAX_PER_TARGET on the account, whoever else attached the others.
 */
export async function renderAccount(deps: SessionCutDeps, accountId: string, entries: readonly SessionCutEntry[]): Promise<void> {
  const contents = scpContents(entries);
  const { total, owned } = await deps.scps.attachedTo(accountId);
  const sorted = [...owned].sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  const missing = Math.max(0, contents.length - sorted.length);
  if (total + missing > SCP_MAX_PER_TARGET) {
    throw new ScpLimitReached(
      `account ${accountId} would need ${total + missing} service control policies attached (${total} now, ${owned.length} of them this system's); Organizations allows ${SCP_MAX_PER_TARGET}`,
    );
  }
  const taken = new Set(sorted.map((p) => p.name));
  for (let i = 0; i < contents.length; i++) {
    const content = contents[i]!;
    const existing = sorted[i];
    if (existing) {
      if (existing.content !== content) await deps.scps.update(existing.policyId, content);
      continue;
    }
    let n = i + 1;
    while (taken.has(scpName(deps, accountId, n))) n++;
    taken.add(scpName(deps, accountId, n));
    await deps.scps.createAttached(accountId, scpName(deps, accountId, n), content);
  }
  for (const extra of sorted.slice(contents.length)) await deps.scps.detachAndDelete(accountId, extra.policyId);
}

const sameEntry = (a: SessionCutEntry, b: SessionCutEntry) => a.accountId === b.accountId && a.userId === b.userId && a.cutoff === b.cutoff && a.grantId === b.grantId;

/**
 * Cuts the sessions the ended grant's principal was issued before the cutoff, on every account
 * its access reached. Idempotent (the entries are keyed by grant). The adapters retry throttling
 * and concurrent modifications with backoff; what still fails is recorded (pending item, history
 * entry, alert) for the sweeper to retry, never thrown at the revoke workflow.
 */
export async function cutSessions(deps: SessionCutDeps, input: CutSessionsInput): Promise<CutSessionsResult> {
  const grant = await deps.store.get(input.grantId);
  if (!grant) return { outcome: 'nothing-to-cut', accounts: [], detail: 'grant does not exist' };
  const now = deps.clock.now().toISOString();
  const pending = await deps.cuts.markPending({ grantId: grant.id, cutoff: cutoffSecond(input.cutoff ?? now), since: now });
  const cutoff = cutoffSecond(pending.cutoff);
  const actor = SYSTEM_ACTORS.revoker;
  try {
    const [reached, management] = await Promise.all([reach(deps, grant), deps.access.managementAccountId()]);
    const cut: string[] = [];
    for (const { accountId, sessionMs } of reached) {
      if (accountId === management) {
        const until = new Date(Date.parse(cutoff) + sessionMs).toISOString();
        await deps.cuts.appendHistory(grant.id, {
          at: deps.clock.now().toISOString(),
          actor,
          action: 'sessions not cut',
          detail: `account ${accountId} is the organization's management account, where service control policies do not apply: sessions issued before ${cutoff} stay valid until they end (at the latest ${until})`,
        });
        continue;
      }
      const entry: SessionCutEntry = { accountId, userId: grant.principal.userId, cutoff, liftAt: new Date(Date.parse(cutoff) + sessionMs).toISOString(), grantId: grant.id };
      // The entry first, then the account's SCPs rendered from every entry under its lease: in a storm
      // of expiries on one account, whoever holds the lease renders the entries of those waiting too,
      // and they then find nothing left to change.
      await deps.cuts.putEntries([entry]);
      await deps.cuts.withAccountLease(accountId, `cut#${grant.id}`, async () => renderAccount(deps, accountId, await deps.cuts.entries(accountId)));
      await deps.cuts.appendHistory(grant.id, {
        at: deps.clock.now().toISOString(),
        actor,
        action: 'sessions cut',
        detail: `sessions of ${grant.principal.userName} on account ${accountId} issued before ${cutoff} are refused (service control policy) until ${entry.liftAt}`,
      });
      cut.push(accountId);
    }
    await deps.cuts.clearPending(grant.id);
    return { outcome: cut.length ? 'cut' : 'nothing-to-cut', accounts: cut };
  } catch (err) {
    return recordFailure(deps, grant, pending, err);
  }
}

async function recordFailure(deps: SessionCutDeps, grant: Grant, pending: PendingCut, err: unknown): Promise<CutSessionsResult> {
  const detail = errorText(err);
  deps.log.error(SESSION_CUT_ALERT, { grantId: grant.id, cutoff: pending.cutoff, since: pending.since, error: detail, metric: 'SessionCutFailed', value: 1 });
  await deps.cuts.appendHistory(grant.id, {
    at: deps.clock.now().toISOString(),
    actor: SYSTEM_ACTORS.revoker,
    action: 'sessions not cut yet',
    detail: `${detail}; the sweeper tries again every minute (cutoff ${pending.cutoff})`,
  });
  return { outcome: 'pending', accounts: [], detail };
}

/** Retries the pending cuts first tried more than `graceMs` ago (the workflow's own attempt has ended by then). */
export async function retryPendingCuts(deps: SessionCutDeps, options: { graceMs: number; limit: number }): Promise<CutSessionsResult[]> {
  const before = new Date(deps.clock.now().getTime() - options.graceMs).toISOString();
  const pendings = await deps.cuts.pendingSince(before, options.limit);
  const results: CutSessionsResult[] = [];
  for (const p of pendings) results.push(await cutSessions(deps, { grantId: p.grantId, cutoff: p.cutoff }));
  return results;
}

/**
 * Lifts the entries whose sessions have all ended (liftAt passed): per account, under its lease,
 * the entries are removed and the SCPs rendered again (an SCP left empty is detached and deleted).
 */
export async function liftDueEntries(deps: SessionCutDeps, options: { limit: number }): Promise<{ lifted: number; failedAccounts: string[] }> {
  const now = deps.clock.now().toISOString();
  const due = await deps.cuts.dueForLift(now, options.limit);
  const byAccount = new Map<string, SessionCutEntry[]>();
  for (const e of due) byAccount.set(e.accountId, [...(byAccount.get(e.accountId) ?? []), e]);
  let lifted = 0;
  const failedAccounts: string[] = [];
  for (const [accountId, lifting] of byAccount) {
    try {
      await deps.cuts.withAccountLease(accountId, `lift#${now}`, async () => {
        const entries = await deps.cuts.entries(accountId);
        const remaining = entries.filter((e) => !lifting.some((l) => sameEntry(l, e)));
        await renderAccount(deps, accountId, remaining);
        await deps.cuts.removeEntries(lifting);
      });
    } catch (err) {
      failedAccounts.push(accountId);
      deps.log.error(SESSION_LIFT_ALERT, { accountId, entries: lifting.length, error: errorText(err), metric: 'SessionLiftFailed', value: 1 });
      continue;
    }
    lifted += lifting.length;
    for (const e of lifting) {
      await deps.cuts.appendHistory(e.grantId, {
        at: deps.clock.now().toISOString(),
        actor: SYSTEM_ACTORS.sweeper,
        action: 'sessions cut lifted',
        detail: `no session on account ${e.accountId} issued before ${e.cutoff} can still be valid; its deny entry was removed`,
      });
    }
  }
  return { lifted, failedAccounts };
}
