/**
 * The holder protocol, shared by activation and revocation. A holder is the
 * lease several grants take on one Identity Center assignment or membership;
 * every change is conditional on the holder's version, so a lost race is a
 * ConflictError that the caller answers by reading again.
 */
import { ConflictError } from '../errors.ts';
import type { Holder } from '../ports.ts';
import type { WorkflowDeps } from './ports.ts';

const MAX_RACES = 8;

/** Runs `attempt` again when it lost a race (ConflictError), with a short jittered pause. */
export async function onConflictRetry<T>(deps: Pick<WorkflowDeps, 'sleep' | 'random'>, attempt: () => Promise<T>): Promise<T> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = deps.random ?? Math.random;
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      // After a few lost races, let Step Functions' Retry (with its own backoff) take over.
      if (!(err instanceof ConflictError) || i + 1 >= MAX_RACES) throw err;
      await sleep(Math.floor(random() * 25 * 2 ** i));
    }
  }
}

export type LeaveOutcome =
  /** Other grants still hold the access: nothing to delete (invariant 2). */
  | { kind: 'others-remain'; holder: Holder }
  /** This was the last holder of access the system created: it must be deleted. */
  | { kind: 'delete'; holder: Holder }
  /** The access pre-existed (unmanaged): the holder is gone, the access stays (invariant 3). */
  | { kind: 'keep-unmanaged' }
  /** No holder at all: nothing is held, nothing to delete. */
  | { kind: 'none' };

/**
 * Removes `grantId` from the holder. Idempotent: when a previous run already left,
 * the outcome is read from the holder's current state (DELETING → delete again;
 * deleting an assignment twice is harmless, leaving it in place is not).
 */
export function leaveHolder(deps: WorkflowDeps, key: string, grantId: string): Promise<LeaveOutcome> {
  return onConflictRetry(deps, async () => {
    const holder = await deps.store.getHolder(key);
    if (!holder) return { kind: 'none' };
    if (!holder.grantIds.includes(grantId)) {
      if (holder.state === 'DELETING') return { kind: 'delete', holder };
      return { kind: 'others-remain', holder };
    }
    const next = await deps.store.leaveHolder(key, grantId, holder.version);
    if (!next) return { kind: 'keep-unmanaged' };
    if (next.state === 'DELETING') return { kind: 'delete', holder: next };
    return { kind: 'others-remain', holder: next };
  });
}
