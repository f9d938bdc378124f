/**
 * Errors the workflow tasks throw on purpose. Step Functions matches Retry/Catch
 * on a Lambda error's name, so each name here appears in statemachines/*.asl.json.
 */

/** The assignment's last holder is deleting it: wait until the deletion finished, then create it anew. */
export class HolderBusy extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HolderBusy';
  }
}

/** All slots for async assignment operations are leased: retry with backoff (the quota is 10 outstanding). */
export class SlotsBusy extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SlotsBusy';
  }
}

/** Error names the state machines retry on Lambda tasks (besides Lambda's own transient errors). */
export const RETRYABLE_TASK_ERRORS = ['HolderBusy', 'SlotsBusy', 'ConflictError', 'ThrottlingException', 'TooManyRequestsException', 'InternalServerException', 'ProvisionedThroughputExceededException'] as const;
