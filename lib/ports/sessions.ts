/**
 * Ports of session revocation (lib/workflow/session-cut.ts): the service control policies this
 * system owns, the cut entries and per-account leases in the grants table, and the Identity
 * Center reads a cut needs. Adapters: lib/adapters/organizations-scp.ts, lib/adapters/session-cut-store.ts.
 */
import type { HistoryEntry } from '../domain/grant.ts';
import type { SessionCutEntry, SessionTerms } from '../domain/session-cut.ts';

/** A service control policy this system created (tagged with its owner), attached to the account. */
export interface OwnedScp {
  policyId: string;
  name: string;
  content: string;
}

export interface ServiceControlPolicies {
  /** The SCPs attached to the account: how many in all (FullAWSAccess included) and those this system owns. */
  attachedTo(accountId: string): Promise<{ total: number; owned: OwnedScp[] }>;
  /** Creates a system-owned (tagged) SCP with this content and attaches it to the account. */
  createAttached(accountId: string, name: string, content: string): Promise<string>;
  update(policyId: string, content: string): Promise<void>;
  /** Detaches a system-owned SCP from the account and deletes it. */
  detachAndDelete(accountId: string, policyId: string): Promise<void>;
}

/** A cut that could not be made yet: the sweeper tries it again with the same cutoff. */
export interface PendingCut {
  grantId: string;
  cutoff: string;
  /** When the cut was first tried (ISO). */
  since: string;
}

export interface SessionCutStore {
  /**
   * Runs `work` holding the account's lease (a conditional write on one item per account),
   * so two writers of one account's SCPs never lose each other's update.
   */
  withAccountLease<T>(accountId: string, owner: string, work: () => Promise<T>): Promise<T>;
  /** The account's cut entries (a Query on its partition). */
  entries(accountId: string): Promise<SessionCutEntry[]>;
  putEntries(entries: readonly SessionCutEntry[]): Promise<void>;
  removeEntries(entries: readonly SessionCutEntry[]): Promise<void>;
  /** Entries whose lift time is at or before `now`, earliest first (a Query on the lift index). */
  dueForLift(now: string, limit: number): Promise<SessionCutEntry[]>;
  /** Records the cut as pending unless it is already; returns the pending record (its cutoff is the first one). */
  markPending(cut: PendingCut): Promise<PendingCut>;
  clearPending(grantId: string): Promise<void>;
  /** Pending cuts first tried before `before`, oldest first. */
  pendingSince(before: string, limit: number): Promise<PendingCut[]>;
  /** Appends an entry to a grant's history (an ended grant: status unchanged, version bumped). */
  appendHistory(grantId: string, entry: Omit<HistoryEntry, 'from' | 'to'>): Promise<void>;
}

/** One account where a group holds an assignment, with the permission set it holds there. */
export interface GroupAssignment {
  accountId: string;
  permissionSetArn: string;
}

/** The Identity Center and Organizations reads of a cut. */
export interface SessionAccess {
  /** The accounts (and permission sets) where the group holds assignments (ListAccountAssignmentsForPrincipal, paged). */
  groupAssignments(groupId: string): Promise<GroupAssignment[]>;
  /** The permission set's SessionDuration (ISO 8601, e.g. PT1H); cached. */
  sessionDuration(permissionSetArn: string): Promise<string | undefined>;
  managementAccountId(): Promise<string | undefined>;
}

/** The session terms of an account × permission set (SessionDuration resolved and cached by the adapter). */
export interface SessionTermsSource {
  termsFor(accountId: string, permissionSetArn: string): Promise<SessionTerms>;
}
