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
  /** Starts a deletion now, its transient errors retried at short pauses for at most `withinMs`; undefined when it did not start (the state machine deletes then). */
  startDeletionPromptly(ref: AccessRef, withinMs: number): Promise<{ requestId: string; status: string } | undefined>;
  waitForAssignment(kind: 'create' | 'delete', requestId: string): Promise<{ status: string; failureReason?: string }>;
  removeMembership(membershipId: string): Promise<boolean>;
}

/** A lease on one of the N slots that bound outstanding async assignment operations across the whole system. */
export interface SlotLease {
  slot: number;
  owner: string;
}

/**
 * The lease a slot is taken or handed over with: the owner (`activate#<grantId>` or
 * `revoke#<grantId>`) and the ISO instant it lapses, after which anyone may take the slot.
 */
export interface SlotLeaseRequest {
  owner: string;
  expiresAt: string;
}

/** Who waits for a slot, in the order waiters are served: deletions first, then by place (an ISO instant). */
export interface SlotQueuePlace {
  kind: 'revoke' | 'activate';
  place: string;
}

export type SlotAdmission = { lease: SlotLease } | { queued: { sk: string } };

/**
 * The counting semaphore of leases (Identity Center bounds the outstanding async
 * assignment operations per instance; lib/table/keys.ts SLOT_COUNT), with a line of
 * waiters that costs nothing while it waits: whoever gives a slot back hands it to the
 * first waiter and wakes it (Step Functions' task token). The revoke state machine
 * releases its slot with the same writes (ReleaseSlot … WakeWaiter).
 */
export interface CreateSlots {
  /** Takes a free (or lapsed, or already owned) slot; undefined when all are busy. */
  tryAcquire(owner: string, leaseMs: number): Promise<SlotLease | undefined>;
  /**
   * A slot now, or a place in the line. Joins the line first and then looks once more, so a slot
   * given back between the first look and joining is taken, never missed by both sides.
   */
  acquireOrQueue(owner: string, place: SlotQueuePlace, leaseMs: number): Promise<SlotAdmission>;
  /** Gives the slot back if `owner` still holds it, and hands it to the first waiter. */
  release(lease: SlotLease): Promise<void>;
  /** Gives back every slot `owner` holds (an execution that failed before it could release its own). */
  releaseOwnedBy(owner: string): Promise<void>;
  /**
   * What the sweeper mends: slots held by owners whose workflow is gone (or whose lease lapsed)
   * are taken back and handed on; free slots while waiters wait are handed to them (a wake-up
   * lost with a crashed releaser); waiters whose workflow is gone leave the line; an owner that
   * holds a slot and still waits for one is woken again.
   */
  repair(isAlive: (owner: string) => boolean): Promise<SlotRepairReport>;
}

export interface SlotRepairReport {
  reclaimed: number;
  handedOver: number;
  woken: number;
  waitersRemoved: number;
  waiting: number;
}

/** Wakes a waiter with what it is told on waking (Step Functions SendTaskSuccess's output); 'gone' when its task no longer waits. */
export interface SlotWaker {
  wake(token: string, output: object): Promise<'woken' | 'gone'>;
}

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
