/**
 * Ports of the grant service and the policy: the grants table, the directory
 * (Identity Center and Organizations reads), the workflows, the clock.
 */
import type { Actor, Grant, GrantStatus } from '../domain/grant.ts';
import type { Holder } from '../domain/holder.ts';
import type { TransitionRequest } from '../domain/transition.ts';

export interface Page<T> {
  items: T[];
  /** Opaque cursor for the next page, absent on the last page. */
  cursor?: string;
}

export interface PageRequest {
  limit: number;
  cursor?: string;
}

export interface IdempotencyRecord {
  key: string;
  principalId: string;
  bodyHash: string;
  grantId: string;
}

export interface GrantStore {
  /** Writes a new grant; fails if the id exists. */
  create(grant: Grant): Promise<void>;
  get(id: string): Promise<Grant | undefined>;
  /** Conditional on (status, version); appends the history entry in the same write. Throws ConflictError when it loses. */
  transition(req: TransitionRequest): Promise<Grant>;
  listByPrincipal(userId: string, page: PageRequest, status?: GrantStatus): Promise<Page<Grant>>;
  /** Ordered by deadline: expiresAt (ACTIVE), pendingExpiresAt (PENDING_APPROVAL), startsAt (SCHEDULED), else requestedAt. */
  listByStatus(status: GrantStatus, page: PageRequest, deadlineBefore?: string): Promise<Page<Grant>>;
  /** Pending requests admitted by one policy rule, oldest first. */
  listPendingForRule(ruleId: string, page: PageRequest): Promise<Page<Grant>>;
  listAll(page: PageRequest): Promise<Page<Grant>>;
  /** Claims an idempotency key; returns the existing record when the key was used before. */
  claimIdempotencyKey(record: IdempotencyRecord): Promise<IdempotencyRecord | undefined>;
  /** Gives a claimed key back, only while the claim still names this grant: a key whose grant was never written must not point at nothing. */
  releaseIdempotencyKey(principalId: string, key: string, grantId: string): Promise<void>;
}

export interface HolderStore {
  getHolder(key: string): Promise<Holder | undefined>;
  /** Creates the holder for the first grant. Throws ConflictError if one exists. */
  createHolder(holder: Omit<Holder, 'version'>): Promise<Holder>;
  /** Adds a grant to `holder` as it was read (PRESENT). Throws ConflictError if it changed since, or is DELETING. */
  joinHolder(holder: Holder, grantId: string): Promise<Holder>;
  /**
   * Removes a grant from `holder` as it was read; when none is left: managed → DELETING,
   * unmanaged → item removed. Returns the new state (undefined = removed). Throws ConflictError if it changed since.
   */
  leaveHolder(holder: Holder, grantId: string): Promise<Holder | undefined>;
  /** Deletes a DELETING holder once the access is gone. */
  removeDeletedHolder(key: string): Promise<void>;
  setMembershipId(key: string, membershipId: string, expectedVersion: number): Promise<Holder>;
  listHolders(page: PageRequest): Promise<Page<Holder>>;
}

export interface IdentityUser {
  userId: string;
  userName: string;
  email: string;
  displayName?: string;
}

export interface AccountInfo {
  id: string;
  name: string;
  /** OU ids from the account's parent up to (excluding) the root. */
  ouPath: string[];
  tags: Record<string, string>;
}

/** Read side of Identity Center and Organizations that policy and eligibility need. */
export interface Directory {
  findUserByEmail(email: string): Promise<IdentityUser | undefined>;
  findUserByUserName(userName: string): Promise<IdentityUser | undefined>;
  describeUser(userId: string): Promise<IdentityUser | undefined>;
  /**
   * Group ids the user is a member of. Answers may come from a short per-container
   * cache (Identity Center's 20 TPS quota is shared by every caller); pass
   * `maxAgeMs: 0` where a decision must see membership as it is now (approvals).
   */
  groupIdsOfUser(userId: string, options?: { maxAgeMs?: number }): Promise<string[]>;
  findGroupId(displayName: string): Promise<string | undefined>;
  findPermissionSetArn(name: string): Promise<string | undefined>;
  describeAccount(accountId: string): Promise<AccountInfo | undefined>;
  listAccounts(): Promise<AccountInfo[]>;
  /** The organization's management account id (assignments there are refused from a delegated admin). */
  managementAccountId(): Promise<string | undefined>;
}

/** Starts the Step Functions workflows. Execution names derive from the grant id: a repeat start is a no-op. */
export interface Workflows {
  /** Starts the grant workflow now (execution name `grant-<id>`). */
  startGrant(grant: Grant): Promise<void>;
  /** Future start: a one-time schedule starts the grant workflow at grant.startsAt. */
  scheduleActivation(grant: Grant): Promise<void>;
  /** Starts the revoke workflow: `early` skips the wait for expiresAt. (The sweeper names its own retries.) */
  startRevoke(grant: Grant, mode: 'expiry' | 'early'): Promise<void>;
  /** Creates or moves the revocation schedule to grant.expiresAt (after activation or an extension). */
  scheduleRevocation(grant: Grant): Promise<void>;
  /** Removes a grant's schedules that can no longer do anything useful (cancelled, revoked). */
  deleteSchedules(grant: Grant): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export type { Actor, Holder, TransitionRequest };
