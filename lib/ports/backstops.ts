/**
 * Ports of the backstops (lib/backstops: sweeper, reconciler) beyond the grant and
 * workflow ports. SDK adapters: lib/adapters/execution-starter.ts, lib/adapters/access-inventory.ts.
 */

/** The revoke workflow's input (statemachines/revoke.asl.json reads all three fields). */
export interface RevokeExecutionInput {
  grantId: string;
  expiresAt: string;
  mode: 'sweep';
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

/**
 * One page per call, so the caller can pace every Identity Center request
 * (the 20 TPS quota is shared by the whole system).
 */
export interface AccessInventory {
  /** ListAccountAssignments for one account × permission set. */
  listAssignments(accountId: string, permissionSetArn: string, nextToken?: string): Promise<ListPage<AssignmentRow>>;
  /** ListGroupMemberships for one group. */
  listMemberships(groupId: string, nextToken?: string): Promise<ListPage<MembershipRow>>;
}

/** Where structured log lines go (Powertools Logger fits). */
export interface BackstopLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}
