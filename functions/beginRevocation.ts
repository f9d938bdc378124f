/**
 * Revoke workflow task (the only Lambda of a revocation): REVOKING, holder left, and
 * either the terminal write done here or prepared for the state machine to write once
 * Identity Center confirms the deletion.
 */
import { beginRevocationTask } from '../lib/composition/workflow.ts';
import type { RevocationInput } from '../lib/workflow/revocation.ts';

const run = beginRevocationTask(); // env and policy validated at cold start

export const handler = (event: RevocationInput) => run(event);
