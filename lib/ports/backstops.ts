/**
 * Ports of the backstops (lib/backstops: sweeper, reconciler) beyond the grant and
 * workflow ports. SDK adapters: lib/adapters/execution-starter.ts, lib/adapters/access-inventory.ts.
 */

/**
 * The `beginAt` of a revocation that begins at once (an early revoke, a sweep): an instant long
 * past, the same on every start, so a repeated start carries the identical input and stays a no-op.
 */
export const BEGIN_AT_ONCE = new Date(0).toISOString();

/** The revoke workflow's input (statemachines/revoke.asl.json reads every field). */
export interface RevokeExecutionInput {
  grantId: string;
  expiresAt: string;
  mode: 'sweep';
  /** When the workflow begins: a sweep's is BEGIN_AT_ONCE. */
  beginAt: string;
}

/**
 * Starts grant and revoke executions under names the sweeper chooses. The Workflows
 * port derives one name per grant (and expiry); a sweep must be able to try again
 * after an execution of that name FAILED, which Step Functions keeps for 90 days.
 * Both answer 'started' when a new execution runs (or the one of that name, same
 * input, still runs) and 'exists' when a closed execution already holds the name.
 */
export interface ExecutionStarter {
  startRevoke(name: string, input: RevokeExecutionInput): Promise<'started' | 'exists'>;
  startGrant(name: string, grantId: string): Promise<'started' | 'exists'>;
  /**
   * Names of the executions running now, per workflow (ListExecutions with the RUNNING filter,
   * a few pages even in a storm): how the sweeper tells a grant whose workflow is alive, if
   * slow, from one whose workflow died.
   */
  runningExecutionNames(): Promise<RunningExecutions>;
}

export interface RunningExecutions {
  grant: ReadonlySet<string>;
  revoke: ReadonlySet<string>;
}

export interface AssignmentRow {
  principalType: 'USER' | 'GROUP';
  principalId: string;
}

export interface MembershipRow {
  /** Absent for members that are not users (Identity Store only has users today). */
  userId?: string;
  membershipId: string;
}

export interface ListPage<T> {
  items: T[];
  nextToken?: string;
}


/** Where structured log lines go (Powertools Logger fits). */
export interface BackstopLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** One account assignment of a principal (ListAccountAssignmentsForPrincipal). */
export interface PrincipalAssignmentRow {
  accountId: string;
  permissionSetArn: string;
}

export interface DirectoryUserRow {
  userId: string;
  userName: string;
}

/** An identity provider's id for a group it provisions by SCIM. */
export interface ExternalId {
  issuer: string;
  id: string;
}

export interface DirectoryGroupRow {
  groupId: string;
  displayName: string;
  /** Present (non-empty) on groups an identity provider provisions by SCIM. */
  externalIds: ExternalId[];
}

/**
 * The reconciler's reads of Identity Center, one page per call, so the caller can pace every
 * request (the 20 TPS quota is shared by the whole system).
 */
export interface AccessInventory {
  /** ListAccountAssignments for one account × permission set. */
  listAssignments(accountId: string, permissionSetArn: string, nextToken?: string): Promise<ListPage<AssignmentRow>>;
  /** ListGroupMemberships for one group. */
  listMemberships(groupId: string, nextToken?: string): Promise<ListPage<MembershipRow>>;
  /** ListPermissionSetsProvisionedToAccount: the only permission sets that can have assignments there. */
  listProvisionedPermissionSets(accountId: string, nextToken?: string): Promise<ListPage<string>>;
  /** ListAccountAssignmentsForPrincipal: every assignment of one user or group. */
  listAssignmentsForPrincipal(principalType: 'USER' | 'GROUP', principalId: string, nextToken?: string): Promise<ListPage<PrincipalAssignmentRow>>;
  listUsers(nextToken?: string): Promise<ListPage<DirectoryUserRow>>;
  /** DescribeGroup: its name and, for a group an identity provider provisions by SCIM, the IdP's ids. */
  describeGroup(groupId: string): Promise<DirectoryGroupRow>;
  listGroups(nextToken?: string): Promise<ListPage<DirectoryGroupRow>>;
}

/** How a pass lists what exists: account by account (provisioned pairs), or principal by principal. */
export type ReconcileStrategy = 'per-account' | 'per-principal';

/** Access the reconciler saw in Identity Center, as the inventory keeps it. */
export type InventoryEntry =
  | { kind: 'assignment'; accountId: string; permissionSetArn: string; principalType: 'USER' | 'GROUP'; principalId: string; passId: string; lastSeen: string }
  | { kind: 'membership'; groupId: string; userId: string; /** The IdP that provisions the group by SCIM. */ scimIssuer?: string; passId: string; lastSeen: string };

/** What a pass has done so far (the cursor) or did (a finished pass). */
export interface PassProgress {
  passId: string;
  strategy: ReconcileStrategy;
  startedAt: string;
  /** Runs (invocations) the pass has taken. */
  runs: number;
  /** Identity Center calls made by the pass. */
  calls: number;
  /** Units of work done (an account, a principal or a group's members) and how many the pass has. */
  unitsDone: number;
  unitsTotal: number;
  accessSeen: number;
  /** Drift found: orphans removed, ACTIVE grants missing their access, unmanaged access (reported or removed). */
  drift: number;
  errors: number;
}

export interface ReconcileCursor extends PassProgress {
  /** The key of the last unit done; the next run carries on after it. */
  after?: string;
}

export interface ReconcilePass extends PassProgress {
  finishedAt: string;
  /** Inventory entries no longer seen, removed at the end of the pass (0 when listing errors kept them). */
  removed: number;
  /** What the pass counted to choose the next pass's strategy. */
  estimate: { accounts: number; principals: number; provisionedPairs?: number };
}

export interface InventoryFilter {
  accountId?: string;
  principalId?: string;
  permissionSetArn?: string;
  groupId?: string;
}

/** The reconciler's cursor, its finished passes and the access inventory, in the grants table. */
export interface InventoryStore {
  cursor(): Promise<ReconcileCursor | undefined>;
  saveCursor(cursor: ReconcileCursor): Promise<void>;
  /** Records the finished pass and drops the cursor, so the next run starts a new pass. */
  finishPass(pass: ReconcilePass): Promise<void>;
  lastPass(): Promise<ReconcilePass | undefined>;
  saveSeen(entries: InventoryEntry[]): Promise<void>;
  /** Removes every entry a pass other than `passId` saw last; answers how many. */
  removeUnseen(passId: string): Promise<number>;
  /** Entries matching every field given (Query on the narrowest partition, never a Scan). */
  find(filter: InventoryFilter): Promise<InventoryEntry[]>;
}
