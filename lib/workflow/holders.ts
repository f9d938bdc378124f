/**
 * The holder protocol's store calls, shared by activation, revocation and the reconciler
 * (the rules are lib/domain/holder.ts). Every change is conditional on the holder's
 * version, so a lost race is a ConflictError that the caller answers by reading again.
 */
import { outcomeOfLeft, type Holder, type LeaveOutcome } from '../domain/holder.ts';
import { ConflictError } from '../errors.ts';
import type { WorkflowDeps } from '../ports/index.ts';

export type { LeaveOutcome };

const MAX_RACES = 8;

/** The deps' sleep, or the timer's. */
export function sleeper(deps: Pick<WorkflowDeps, 'sleep'>): (ms: number) => Promise<void> {
  return deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
}

/** Runs `attempt` again when it lost a race (ConflictError), with a short jittered pause. */
export async function onConflictRetry<T>(deps: Pick<WorkflowDeps, 'sleep' | 'random'>, attempt: () => Promise<T>): Promise<T> {
  const sleep = sleeper(deps);
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

/**
 * Removes `grantId` from the holder. Idempotent: when a previous run already left,
 * the outcome is read from the holder's current state.
 */
export function leaveHolder(deps: WorkflowDeps, key: string, grantId: string, read?: Promise<Holder | undefined>): Promise<LeaveOutcome> {
  let first = read;
  return onConflictRetry(deps, async () => {
    // A read already under way (started beside an earlier write) serves the first attempt; a lost race reads again.
    const holder = await (first ?? deps.store.getHolder(key));
    first = undefined;
    if (!holder) return { kind: 'none' };
    if (!holder.grantIds.includes(grantId)) return outcomeOfLeft(holder);
    const next = await deps.store.leaveHolder(holder, grantId);
    return next ? outcomeOfLeft(next) : { kind: 'keep-unmanaged' };
  });
}
