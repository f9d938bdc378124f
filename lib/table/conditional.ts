/** A conditional write whose condition does not hold is an answer, not a fault. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/** Also by name: an error from another copy of the SDK is not an instance of this one's class. */
export function isConditionFailure(err: unknown): boolean {
  return err instanceof ConditionalCheckFailedException || (err as { name?: unknown } | undefined)?.name === 'ConditionalCheckFailedException';
}

/** Sends a conditional write: true when it was made, false when its condition did not hold; other errors are thrown. */
export async function ifConditionHolds(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}
