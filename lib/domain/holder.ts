/**
 * The holder (lease) on one Identity Center assignment or membership, and its rules.
 * Several grants may hold it; the system deletes the access only when the last holder
 * leaves and `managed` is true (the system created it).
 */
import type { Target } from './grant.ts';

export type HolderState = 'PRESENT' | 'DELETING';

export interface Holder {
  key: string;
  target: Target;
  principalId: string;
  grantIds: string[];
  /** True when this system created the access; false when it pre-existed. */
  managed: boolean;
  /** PRESENT while access is held; DELETING once the last holder left a managed assignment. */
  state: HolderState;
  /** Group membership id, needed to delete it. */
  membershipId?: string;
  version: number;
}

/** A grant may join only while the access is held, not while its deletion is under way. */
export const canJoin = (holder: Holder): boolean => holder.state === 'PRESENT';

/**
 * Whether taking this holder needs Identity Center's answer: no holder yet (does the access
 * pre-exist?), or a managed one whose create may still be in flight. An unmanaged holder is joined without asking.
 */
export const joinNeedsCheck = (holder: Holder | undefined): boolean => !holder || holder.managed;

/**
 * The holder after `grantId` leaves: the grants that remain and its state (the last one leaving
 * managed access → DELETING); undefined when the holder is forgotten (the last one leaving
 * access that pre-existed: it stays, invariant 3).
 */
export function afterLeaving(holder: Holder, grantId: string): { grantIds: string[]; state: HolderState } | undefined {
  const grantIds = holder.grantIds.filter((g) => g !== grantId);
  if (grantIds.length > 0) return { grantIds, state: 'PRESENT' };
  return holder.managed ? { grantIds, state: 'DELETING' } : undefined;
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
 * What a holder that a grant no longer holds (it just left, or had left in an earlier run)
 * means for the access: DELETING → delete it (again: deleting twice is harmless, leaving
 * access in place is not); otherwise others still hold it.
 */
export const outcomeOfLeft = (holder: Holder): LeaveOutcome => (holder.state === 'DELETING' ? { kind: 'delete', holder } : { kind: 'others-remain', holder });
