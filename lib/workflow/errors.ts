/**
 * Errors the workflow tasks throw on purpose, and the error names the state machines
 * (statemachines/*.asl.json) match on the Lambda tasks.
 *
 * Step Functions matches a Lambda error on its errorType, which the Node.js runtime
 * takes from the thrown error's `name`. The deployed bundles are minified, so every
 * name here is a string literal, never a class's own name.
 */

/** The assignment's last holder is deleting it: wait until the deletion finished, then create it anew. */
export class HolderBusy extends Error {
  override readonly name = 'HolderBusy';
}

/** A revocation came due while the grant's activation is still under way: it waits for the activation to finish. */
export class ActivationInProgress extends Error {
  override readonly name = 'ActivationInProgress';
}

/** All slots for async assignment operations are leased (the quota is 10 outstanding). Raised in-process only (the reconciler). */
export class SlotsBusy extends Error {
  override readonly name = 'SlotsBusy';
}

/**
 * Every error name a Lambda task may raise that a later attempt may not hit, as
 * Step Functions sees it (the SDK's exceptions keep the service's error code as `name`).
 */
export const RETRYABLE_TASK_ERRORS = [
  'HolderBusy', // above
  'ActivationInProgress', // above
  'ConflictError', // lib/errors.ts: a conditional write kept losing races after the in-process retries
  'ConflictException', // SSO Admin, Identity Store, Scheduler: an earlier change has not propagated yet
  'ThrottlingException', // SSO Admin, Identity Store, Scheduler, Step Functions, DynamoDB: still throttled after the SDK's retries
  'InternalServerException', // SSO Admin, Identity Store, Scheduler
  'InternalServerError', // DynamoDB
  'ProvisionedThroughputExceededException', // DynamoDB
  'RequestLimitExceeded', // DynamoDB (the account's throughput)
] as const;

export type RetryableTaskError = (typeof RETRYABLE_TASK_ERRORS)[number];

/** The Lambda task states of both state machines. */
export type LambdaTaskState = 'PrepareActivation' | 'CompleteActivation' | 'BeginRevocation' | 'CutSessions';

/**
 * Which retryable errors each Lambda task can raise, from what its code calls; each task's
 * Retry in the ASL names exactly these (test/workflow/task-errors.test.ts holds them together).
 *
 *  PrepareActivation  DynamoDB (grant, holder, slots), SSO Admin ListInstances / ListAccountAssignments,
 *                     Identity Store GetGroupMembershipId; HolderBusy while the last holder deletes.
 *  CompleteActivation DynamoDB, Scheduler Create/UpdateSchedule, Step Functions StartExecution, and after
 *                     a failed create SSO Admin Delete/ListAccountAssignments and Identity Store DeleteGroupMembership
 *                     (ConflictException after the adapter's retries); the plan it makes for a waiter it hands
 *                     its slot to looks at that grant's holder (HolderBusy, caught there, so a waiter plans alone).
 *  PrepareActivation  also Scheduler Create/UpdateSchedule and Step Functions StartExecution: the
 *                     revocation is scheduled before any access is created.
 *  BeginRevocation    DynamoDB, SSO Admin ListInstances, Identity Store GetGroupMembershipId, Scheduler
 *                     DeleteSchedule (ConflictException while a schedule changes); ActivationInProgress
 *                     when the expiry comes while the grant is still ACTIVATING; HolderBusy as CompleteActivation
 *                     (a slot it gives back is handed over with a plan).
 *  CutSessions        nothing: a cut it cannot make is left to the sweeper.
 */
/** What every task's calls can raise transiently: its own ConflictError, AWS throttling and internal errors. */
const TRANSIENT_TASK_ERRORS = ['ConflictError', 'ThrottlingException', 'InternalServerException', 'InternalServerError', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded'] as const satisfies readonly RetryableTaskError[];

export const TASK_RETRYABLE_ERRORS: Record<LambdaTaskState, readonly RetryableTaskError[]> = {
  PrepareActivation: ['HolderBusy', 'ConflictException', ...TRANSIENT_TASK_ERRORS],
  CompleteActivation: ['HolderBusy', 'ConflictException', ...TRANSIENT_TASK_ERRORS],
  BeginRevocation: ['HolderBusy', 'ActivationInProgress', 'ConflictException', ...TRANSIENT_TASK_ERRORS],
  // What it cannot finish (Organizations still throttling after the adapter's retries) it records
  // for the sweeper, which retries it; its Catch records a cut the task did not reach.
  CutSessions: [],
};

/** The Lambda service errors AWS recommends retrying on every Lambda task (Step Functions' names). */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
] as const;

/** A Lambda function that ran out of its timeout, as Step Functions reports it. */
export const LAMBDA_TIMEOUT = 'Sandbox.Timedout';

/** A runtime that ended without an errorType (a timeout on older runtimes, out of memory): retried with the timeout. */
export const LAMBDA_UNKNOWN = 'Lambda.Unknown';
