/**
 * The sweeper (every minute): whatever the schedules and workflows should have
 * done and did not, it does, through the same workflows. Every read is a Query on
 * the by-status index ordered by deadline; nothing is scanned. It first lists the
 * workflows' RUNNING executions, so a grant whose workflow is alive (if slow, or
 * waiting its turn for Identity Center) is left to it, and one whose workflow died
 * is taken up within a minute or so, not after a long grace:
 *
 *   ACTIVE past expiresAt + grace (20 s)   start a revoke (lost schedule, failed target, DLQ),
 *                                          unless a revoke of the grant is running
 *   REVOKING, no revoke running (10 s)     start a revoke again (the execution failed or died)
 *   PENDING_APPROVAL past pendingExpiresAt APPROVAL_EXPIRED (GrantService.expirePending)
 *   APPROVED / SCHEDULED past due          start the grant workflow (its canonical name, or a
 *                                          retry name when that execution already closed);
 *                                          past a longer limit → FAILED with a reason
 *   ACTIVATING, no grant workflow running  start the grant workflow again under a retry name
 *   (20 s)                                 (prepare resumes from ACTIVATING); alert when a grant
 *                                          stays ACTIVATING for an hour, running or not
 *
 * So a lost schedule or a dead revocation costs at most a grace + one sweep interval
 * (+ the deletion) after expiresAt: about 80 s with the defaults. The graces only cover
 * the moments around the listing (an execution starting or ending just then), since a
 * running workflow is never second-guessed.
 *
 * Revoke execution names: `revoke-<id>-sweep-<window>` where window is the start (epoch
 * seconds) of the current attempt window (default 1 min). Two sweeps in one window
 * pick the same name, so Step Functions runs one execution; the next window gets a
 * fresh name, so an execution that FAILED (its name is taken for 90 days) never blocks
 * a later attempt. Grant retries are named `grant-<id>-retry-<window>` the same way.
 * Executions that do overlap (window boundary, a late scheduled fire)
 * have one effect: the revoke workflow's REVOKING write is conditional on status and
 * version, and the holder is left by a conditional write that only one run can make.
 *
 * Bounded: pages of `pageSize`, at most `maxActions` starts/writes per run, and it
 * stops before `timeLeftMs()` runs out; the next run continues (work is idempotent).
 */
import { SYSTEM_ACTORS, type Grant, type GrantStatus } from '../domain/grant.ts';
import { ConflictError } from '../errors.ts';
import { BEGIN_AT_ONCE, type BackstopLog, type Clock, type CreateSlots, type ExecutionStarter, type GrantStore, type RunningExecutions, type SlotRepairReport } from '../ports/index.ts';
import { liftDueEntries, retryPendingCuts, type SessionCutDeps } from '../workflow/session-cut.ts';

export interface SweeperSettings {
  /** ACTIVE grants are swept this long after expiresAt (a healthy scheduled revoke has deleted the access by then). */
  activeGraceMs: number;
  /** REVOKING grants with no revoke execution running are restarted after this long in REVOKING. */
  revokingGraceMs: number;
  /** APPROVED (since approval) and SCHEDULED (since startsAt) grants get their grant workflow started after this. */
  startGraceMs: number;
  /** ... and are FAILED after this (the workflow did not start or died before ACTIVATING). */
  startGiveUpMs: number;
  /** ACTIVATING for longer than this with no grant workflow running: it died, so it is started again under a retry name. */
  activatingRestartMs: number;
  /** ACTIVATING for longer than this is also reported as stuck. */
  activatingAlertMs: number;
  /** Revoke attempts started by sweeps in one window share one execution name. */
  attemptWindowMs: number;
  pageSize: number;
  /** Upper bound on workflow starts and writes per run. */
  maxActions: number;
}

export const DEFAULT_SWEEPER_SETTINGS: SweeperSettings = {
  activeGraceMs: 20_000,
  revokingGraceMs: 10_000,
  startGraceMs: 5 * 60_000,
  // The grant workflow may wait up to about an hour for a free Identity Center slot in a storm.
  startGiveUpMs: 2 * 3600_000,
  activatingRestartMs: 20_000,
  activatingAlertMs: 60 * 60_000,
  attemptWindowMs: 60_000,
  pageSize: 25,
  maxActions: 500,
};

export interface SweeperDeps {
  store: GrantStore;
  executions: ExecutionStarter;
  /** The slots and their line of waiters, mended on every run (CreateSlots.repair). */
  slots?: CreateSlots;
  /** GrantService.expirePending: PENDING_APPROVAL → APPROVAL_EXPIRED with its history entry and notification. */
  expirePending(grant: Grant): Promise<Grant>;
  /** Session revocation (sessionRevocation=scp): the cuts to retry and the entries to lift, on every run. */
  sessions?: SessionCutDeps;
  clock: Clock;
  log: BackstopLog;
}

export type SweepAction =
  | 'revoke-started'
  | 'revoke-already-attempted'
  | 'revoke-restarted'
  | 'approval-expired'
  | 'activation-started'
  | 'activation-restarted'
  | 'activation-failed'
  | 'activation-stuck'
  | 'conflict'
  | 'error';

export interface SweepItem {
  grantId: string;
  status: GrantStatus;
  action: SweepAction;
  detail?: string;
}

export interface SweepReport {
  startedAt: string;
  finishedAt: string;
  /** False when the run stopped early (time or action budget); the next run carries on. */
  complete: boolean;
  counts: Record<SweepAction, number>;
  items: SweepItem[];
  /** What the slots needed: slots taken back from dead workflows, handed over, waiters woken or removed. */
  slots?: SlotRepairReport;
  /** Session revocation: pending cuts retried (and how many are still pending), entries lifted. */
  sessions?: SessionSweepReport;
}

export interface SessionSweepReport {
  retried: number;
  stillPending: number;
  lifted: number;
  liftFailedAccounts: string[];
}

/** A pending cut is retried once it is this old (the revoke workflow's own attempt has ended by then). */
const PENDING_CUT_GRACE_MS = 60_000;

export interface SweepRunOptions {
  /** Milliseconds left before the function must return (Lambda context minus a margin). */
  timeLeftMs?: () => number;
}

/** Name of a sweep's revoke attempt; stable within one attempt window. At most 80 characters (50 with a ULID). */
export function sweepRevokeExecutionName(grantId: string, now: Date, attemptWindowMs: number): string {
  return `revoke-${grantId}-sweep-${windowStart(now, attemptWindowMs)}`;
}

/** Name of a sweep's retry of a grant workflow whose canonical `grant-<id>` execution closed. */
export function grantRetryExecutionName(grantId: string, now: Date, attemptWindowMs: number): string {
  return `grant-${grantId}-retry-${windowStart(now, attemptWindowMs)}`;
}

function windowStart(now: Date, attemptWindowMs: number): number {
  return Math.floor(now.getTime() / attemptWindowMs) * Math.floor(attemptWindowMs / 1000);
}

/** When the grant entered its current status: the last history entry (every transition appends one). */
export function statusSince(grant: Grant): number {
  for (let i = grant.history.length - 1; i >= 0; i--) {
    const entry = grant.history[i]!;
    if (entry.to === grant.status && entry.from !== grant.status) return Date.parse(entry.at);
  }
  return Date.parse(grant.requestedAt);
}

/** Revoke executions of a grant: `revoke-<id>-<expiry>`, `revoke-<id>-early`, `revoke-<id>-sweep-<window>`. */
function revokeRunning(running: RunningExecutions, grantId: string): boolean {
  const prefix = `revoke-${grantId}-`;
  for (const name of running.revoke) if (name.startsWith(prefix)) return true;
  return false;
}

/** Grant executions of a grant: `grant-<id>` and `grant-<id>-retry-<window>`. */
function grantWorkflowRunning(running: RunningExecutions, grantId: string): boolean {
  if (running.grant.has(`grant-${grantId}`)) return true;
  const prefix = `grant-${grantId}-retry-`;
  for (const name of running.grant) if (name.startsWith(prefix)) return true;
  return false;
}

/** Whether a slot owner (`activate#<grantId>`, `revoke#<grantId>`) still has a workflow running; other owners hold leases that lapse. */
function ownerAlive(running: RunningExecutions, owner: string): boolean {
  const [kind, grantId] = owner.split('#', 2);
  if (!grantId) return true;
  if (kind === 'activate') return grantWorkflowRunning(running, grantId);
  if (kind === 'revoke') return revokeRunning(running, grantId);
  return true;
}

class OutOfBudget extends Error {
  override readonly name = 'OutOfBudget';
}

export class Sweeper {
  readonly settings: SweeperSettings;

  constructor(
    private readonly deps: SweeperDeps,
    settings: Partial<SweeperSettings> = {},
  ) {
    this.settings = { ...DEFAULT_SWEEPER_SETTINGS, ...settings };
  }

  async run(options: SweepRunOptions = {}): Promise<SweepReport> {
    const timeLeft = options.timeLeftMs ?? (() => Number.POSITIVE_INFINITY);
    const now = this.deps.clock.now();
    const nowMs = now.getTime();
    const s = this.settings;
    const counts = Object.fromEntries(
      (['revoke-started', 'revoke-already-attempted', 'revoke-restarted', 'approval-expired', 'activation-started', 'activation-failed', 'activation-stuck', 'conflict', 'error'] as const).map((a) => [a, 0]),
    ) as Record<SweepAction, number>;
    const items: SweepItem[] = [];
    let actions = 0;
    const record = (grant: Grant, action: SweepAction, detail?: string) => {
      counts[action]++;
      items.push({ grantId: grant.id, status: grant.status, action, ...(detail ? { detail } : {}) });
    };
    const spend = () => {
      if (actions >= s.maxActions || timeLeft() <= 0) throw new OutOfBudget();
      actions++;
    };

    /** Pages through one status partition (deadline-ordered), handling each grant; errors are counted, not fatal. */
    const sweep = async (status: GrantStatus, deadlineBefore: string | undefined, handle: (grant: Grant) => Promise<void>) => {
      let cursor: string | undefined;
      do {
        if (timeLeft() <= 0) throw new OutOfBudget();
        const page = await this.deps.store.listByStatus(status, { limit: s.pageSize, ...(cursor ? { cursor } : {}) }, deadlineBefore);
        for (const grant of page.items) {
          try {
            await handle(grant);
          } catch (err) {
            if (err instanceof OutOfBudget) throw err;
            if (err instanceof ConflictError) {
              record(grant, 'conflict', 'the grant changed while the sweep looked at it; the next sweep sees it as it is now');
              continue;
            }
            const message = err instanceof Error ? err.message : String(err);
            record(grant, 'error', message);
            this.deps.log.error('sweep could not handle a grant', { grantId: grant.id, status: grant.status, error: message });
          }
        }
        cursor = page.cursor;
      } while (cursor);
    };

    const iso = (ms: number) => new Date(ms).toISOString();
    // Listed before any grant is read: an execution that ends after the listing has written its
    // grant's status by then, and one that starts after it is a duplicate the workflows absorb.
    const running = await this.deps.executions.runningExecutionNames();
    const revokeInput = (grant: Grant) => ({ grantId: grant.id, expiresAt: grant.expiresAt ?? now.toISOString(), mode: 'sweep' as const, beginAt: BEGIN_AT_ONCE });
    let complete = true;
    let slots: SlotRepairReport | undefined;
    let sessions: SessionSweepReport | undefined;
    try {
      // A slot held by a dead workflow, or a wake-up lost with a crashed releaser, stalls every waiter: mend those first.
      if (this.deps.slots) {
        slots = await this.deps.slots.repair((owner) => ownerAlive(running, owner));
        if (slots.reclaimed || slots.handedOver || slots.woken || slots.waitersRemoved) {
          this.deps.log.warn('slots mended by the sweeper', { ...slots, metric: 'SlotsMended' });
        }
      }

      // Invariant 1 first: access past its expiry.
      await sweep('ACTIVE', iso(nowMs - s.activeGraceMs), async (grant) => {
        if (revokeRunning(running, grant.id)) return;
        spend();
        const name = sweepRevokeExecutionName(grant.id, now, s.attemptWindowMs);
        const outcome = await this.deps.executions.startRevoke(name, revokeInput(grant));
        if (outcome === 'started') {
          record(grant, 'revoke-started', name);
          this.deps.log.warn('expired grant was still ACTIVE: revoke started by the sweeper', { grantId: grant.id, expiresAt: grant.expiresAt, execution: name, metric: 'SweptExpiredGrant' });
        } else {
          record(grant, 'revoke-already-attempted', `${name} already ran in this attempt window; the next window tries again`);
        }
      });

      // REVOKING is ordered by expiresAt, which says nothing about when the revoke began
      // (an early revoke's expiresAt is in the future): read the partition, filter by history.
      await sweep('REVOKING', undefined, async (grant) => {
        if (nowMs - statusSince(grant) < s.revokingGraceMs || revokeRunning(running, grant.id)) return;
        spend();
        const name = sweepRevokeExecutionName(grant.id, now, s.attemptWindowMs);
        const outcome = await this.deps.executions.startRevoke(name, revokeInput(grant));
        if (outcome === 'started') {
          record(grant, 'revoke-restarted', name);
          this.deps.log.warn('grant stuck in REVOKING: revoke started again by the sweeper', { grantId: grant.id, since: iso(statusSince(grant)), execution: name, metric: 'SweptStuckRevocation' });
        } else {
          record(grant, 'revoke-already-attempted', `${name} already ran in this attempt window; the next window tries again`);
        }
      });

      await sweep('PENDING_APPROVAL', now.toISOString(), async (grant) => {
        if (!grant.pendingExpiresAt || Date.parse(grant.pendingExpiresAt) > nowMs) return;
        spend();
        await this.deps.expirePending(grant);
        record(grant, 'approval-expired', `no decision by ${grant.pendingExpiresAt}`);
      });

      // APPROVED is ordered by requestedAt (≤ the approval time): a prefilter, the history decides.
      await sweep('APPROVED', iso(nowMs - s.startGraceMs), (grant) => this.startOrFail(grant, statusSince(grant), 'approved', nowMs, spend, record));
      await sweep('SCHEDULED', iso(nowMs - s.startGraceMs), (grant) =>
        this.startOrFail(grant, grant.startsAt ? Date.parse(grant.startsAt) : statusSince(grant), 'due to start', nowMs, spend, record),
      );

      // ACTIVATING is ordered by requestedAt (≤ when activation began): a prefilter, the history decides.
      await sweep('ACTIVATING', iso(nowMs - s.activatingRestartMs), async (grant) => {
        const since = statusSince(grant);
        if (nowMs - since < s.activatingRestartMs) return;
        const alive = grantWorkflowRunning(running, grant.id);
        if (!alive) {
          spend();
          const name = grantRetryExecutionName(grant.id, now, s.attemptWindowMs);
          const outcome = await this.deps.executions.startGrant(name, grant.id);
          if (outcome === 'started') {
            record(grant, 'activation-restarted', name);
            this.deps.log.warn('grant workflow of an ACTIVATING grant was not running: started again by the sweeper', { grantId: grant.id, since: iso(since), execution: name, metric: 'SweptStuckActivation' });
          }
        }
        if (nowMs - since >= s.activatingAlertMs) {
          record(grant, 'activation-stuck', `ACTIVATING since ${iso(since)}`);
          this.deps.log.error('grant stuck in ACTIVATING: its grant workflow neither finished nor failed', { grantId: grant.id, since: iso(since), metric: 'StuckActivation', value: 1 });
        }
      });

      // Session revocation: cuts that failed are tried again (each failure alerts), and the deny
      // entries whose sessions have all ended are lifted (an SCP left empty is deleted).
      if (this.deps.sessions) {
        if (timeLeft() <= 0) throw new OutOfBudget();
        const retried = await retryPendingCuts(this.deps.sessions, { graceMs: PENDING_CUT_GRACE_MS, limit: s.pageSize });
        if (timeLeft() <= 0) throw new OutOfBudget();
        const lift = await liftDueEntries(this.deps.sessions, { limit: s.maxActions });
        sessions = { retried: retried.length, stillPending: retried.filter((r) => r.outcome === 'pending').length, lifted: lift.lifted, liftFailedAccounts: lift.failedAccounts };
      }
    } catch (err) {
      if (!(err instanceof OutOfBudget)) throw err;
      complete = false;
    }

    return { startedAt: now.toISOString(), finishedAt: this.deps.clock.now().toISOString(), complete, counts, items, ...(slots ? { slots } : {}), ...(sessions ? { sessions } : {}) };
  }

  private async startOrFail(
    grant: Grant,
    dueAt: number,
    what: string,
    nowMs: number,
    spend: () => void,
    record: (grant: Grant, action: SweepAction, detail?: string) => void,
  ): Promise<void> {
    const s = this.settings;
    const late = nowMs - dueAt;
    if (late < s.startGraceMs) return;
    spend();
    if (late < s.startGiveUpMs) {
      // The canonical name `grant-<id>`: never started → starts; still running → no-op. A closed
      // execution keeps the name for 90 days, so a dead one is retried under a windowed name.
      let name = `grant-${grant.id}`;
      if ((await this.deps.executions.startGrant(name, grant.id)) === 'exists') {
        name = grantRetryExecutionName(grant.id, new Date(nowMs), s.attemptWindowMs);
        if ((await this.deps.executions.startGrant(name, grant.id)) === 'exists') return; // this window's retry already ran
      }
      record(grant, 'activation-started', `${what} at ${new Date(dueAt).toISOString()} (${name})`);
      this.deps.log.warn('grant workflow had not started: started by the sweeper', { grantId: grant.id, status: grant.status, dueAt: new Date(dueAt).toISOString(), metric: 'SweptActivation' });
      return;
    }
    const at = this.deps.clock.now().toISOString();
    const hours = Math.round((s.startGiveUpMs / 3600_000) * 10) / 10;
    const failureReason = `the access was ${what === 'approved' ? 'approved' : 'scheduled'} but could not be set up because the activation did not run within ${hours} hour(s), so nothing was granted; request again, and tell an administrator if it keeps happening`;
    await this.deps.store.transition({
      current: grant,
      to: 'FAILED',
      set: { failureReason, endedAt: at },
      entry: { at, actor: SYSTEM_ACTORS.sweeper, action: 'activation failed', detail: `${what} at ${new Date(dueAt).toISOString()}; the grant workflow never reached ACTIVATING` },
    });
    record(grant, 'activation-failed', failureReason);
    this.deps.log.error('grant workflow never ran: grant FAILED by the sweeper', { grantId: grant.id, status: grant.status, dueAt: new Date(dueAt).toISOString(), metric: 'AbandonedActivation', value: 1 });
  }
}
