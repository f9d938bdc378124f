/**
 * Ports of the workflow tasks (lib/workflow). Adapters: the IdentityCenterWriter
 * (lib/adapters/identity-center.ts) satisfies `IdentityCenterAccess` as it is;
 * `DynamoCreateSlots` (lib/adapters/dynamo-slots.ts) implements `CreateSlots`;
 * `DynamoRevocationWrites` (lib/adapters/revocation-writes.ts) implements `RevocationWrites`.
 */
import type { Clock, GrantStore, HolderStore, TransitionRequest, Workflows } from './grants.ts';

export interface AccessRef {
  principalId: string;
  accountId: string;
  permissionSetArn: string;
}

/** What the activation and revocation tasks ask Identity Center directly (the writes run in the state machines). */
export interface IdentityCenterAccess {
  instance(): Promise<{ instanceArn: string; identityStoreId: string }>;
  assignmentExists(principalId: string, accountId: string, permissionSetArn: string): Promise<boolean>;
  membershipId(groupId: string, userId: string): Promise<string | undefined>;
  /** Starts a deletion; undefined when the assignment does not exist. */
  deleteAssignment(ref: AccessRef): Promise<{ requestId: string; status: string } | undefined>;
  waitForAssignment(kind: 'create' | 'delete', requestId: string): Promise<{ status: string; failureReason?: string }>;
  removeMembership(membershipId: string): Promise<boolean>;
}

/** A lease on one of the N slots that bound outstanding async assignment operations across the whole system. */
export interface SlotLease {
  slot: number;
  owner: string;
}

/**
 * What a state machine's slot acquisition (AcquireCreateSlot, AcquireDeleteSlot) writes on
 * the random slot it tries: the owner (`activate#<grantId>` or `revoke#<grantId>`) and the
 * ISO instant the lease lapses, after which any acquirer may take the slot over.
 */
export interface SlotLeaseRequest {
  owner: string;
  expiresAt: string;
}

/**
 * The counting semaphore of leases (Identity Center bounds the outstanding async
 * assignment operations per instance; lib/table/keys.ts SLOT_COUNT). The state machines acquire and release
 * slots themselves (DynamoDB SDK tasks); in-process callers (the reconciler's
 * deletes) use this port. Both write the same item shape: owner, leaseExpiresAt.
 */
export interface CreateSlots {
  /** Takes a free (or expired, or already owned) slot; undefined when all are busy. For rare in-process deletes (the reconciler). */
  tryAcquire(owner: string, leaseMs: number): Promise<SlotLease | undefined>;
  /** Gives the slot back if `owner` still holds it. */
  release(lease: SlotLease): Promise<void>;
  /** Gives back every slot `owner` holds (an execution that failed before it could release its own). */
  releaseOwnedBy(owner: string): Promise<void>;
  /**
   * A place in the line of waiters: the instant from which this waiter should try for a slot. Turns are
   * `stepMs` apart and the line empties as time passes (nothing to give back), so a thousand waiters
   * try a few at a time instead of all at once.
   */
  reserveTurn(stepMs: number): Promise<Date>;
}

/** A DynamoDB write in low-level form (AttributeValues) that a state machine task sends as it is. */
export interface PreparedWrite {
  Key: Record<string, unknown>;
  UpdateExpression?: string;
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
}

/** The revoke state machine's last writes (RemoveHolder, FinishGrant), prepared by its task once the access is to be deleted. */
export interface RevocationWrites {
  /** The grant's terminal status change, as GrantStore.transition would write it. */
  finishGrant(request: TransitionRequest): PreparedWrite;
  /** The DELETING holder's removal, as HolderStore.removeDeletedHolder would write it. */
  removeHolder(assignmentKey: string): PreparedWrite;
}

export interface WorkflowDeps {
  store: GrantStore & HolderStore;
  identityCenter: IdentityCenterAccess;
  slots: CreateSlots;
  revocationWrites: RevocationWrites;
  workflows: Workflows;
  clock: Clock;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}
