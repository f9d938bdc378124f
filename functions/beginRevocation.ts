/**
 * Revoke workflow task (the only Lambda of a revocation): REVOKING, holder left, and
 * either the terminal write done here or prepared (DynamoDB low-level form) for the
 * state machine to write once Identity Center confirms the deletion.
 */
import { prepareHolderRemoval, prepareTransitionUpdate } from '../lib/adapters/prepared-transition.ts';
import { beginRevocation, type RevocationInput } from '../lib/workflow/revocation.ts';
import { workflowDeps } from '../lib/workflow/runtime.ts';
import { getRuntime } from '../lib/runtime.ts';

getRuntime(); // validate env and policy at cold start

export const handler = async (event: RevocationInput) => {
  const runtime = getRuntime();
  const { finish, ...plan } = await beginRevocation(workflowDeps(runtime), event);
  return {
    ...plan,
    ...(finish
      ? {
          finishGrant: prepareTransitionUpdate(finish, runtime.config.CLOSED_GRANT_RETENTION_DAYS),
          removeHolder: prepareHolderRemoval(plan.holderKey),
        }
      : {}),
  };
};
