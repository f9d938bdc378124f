/**
 * Revoke workflow task (the only Lambda of a revocation): REVOKING, holder left, and
 * either the terminal write done here or prepared for the state machine to write once
 * Identity Center confirms the deletion.
 */
import { workflowTasks } from '../lib/composition/workflow.ts';
import type { RevocationInput } from '../lib/workflow/revocation.ts';

workflowTasks(); // validate env and policy at cold start

export const handler = (event: RevocationInput) => workflowTasks().beginRevocation(event);
