/**
 * Revoke workflow task (the only Lambda of a revocation): REVOKING, holder left, and
 * either the terminal write done here or prepared for the state machine to write once
 * Identity Center confirms the deletion.
 */
import { beginRevocation, type RevocationInput } from '../lib/workflow/revocation.ts';
import { workflowDeps } from '../lib/workflow/runtime.ts';
import { getRuntime } from '../lib/runtime.ts';

getRuntime(); // validate env and policy at cold start

export const handler = (event: RevocationInput) => beginRevocation(workflowDeps(getRuntime()), event);
