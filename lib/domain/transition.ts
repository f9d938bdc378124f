/**
 * A status change of a grant as a value: the next Grant (status, version, history entry,
 * fields) computed from the one last read. Pure: the store encodes the result as one
 * conditional write (on the status and version of `current`).
 */
import { ConflictError } from '../errors.ts';
import { canTransition, type Grant, type GrantStatus, type HistoryEntry } from './grant.ts';

export interface TransitionRequest {
  /** The grant as last read: the write is conditional on its status and version. */
  current: Grant;
  to: GrantStatus;
  /** Fields to set alongside the status (an explicit `undefined` removes the field). */
  set?: Partial<Omit<Grant, 'id' | 'status' | 'version' | 'history' | 'principal' | 'target'>>;
  entry: Omit<HistoryEntry, 'from' | 'to'>;
}

export interface AppliedTransition {
  next: Grant;
  /** The history entry appended. */
  entry: HistoryEntry;
}

/** The grant after `request`; ConflictError when its status cannot become `to` (STATUS_EDGES). */
export function applyTransition(request: TransitionRequest): AppliedTransition {
  const { current, to } = request;
  if (!canTransition(current.status, to)) {
    throw new ConflictError(`grant ${current.id} is ${current.status}; it cannot become ${to}`);
  }
  const entry: HistoryEntry = { ...request.entry, from: current.status, to };
  const next: Grant = { ...current, status: to, version: current.version + 1, history: [...current.history, entry] };
  const fields = next as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(request.set ?? {})) {
    if (v === undefined) delete fields[k];
    else fields[k] = v;
  }
  return { next, entry };
}
