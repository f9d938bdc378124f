/** Grant workflow task 1: APPROVED → ACTIVATING, holder taken; says what Identity Center must create (the state machine leases the slot). */
import { workflowTasks } from '../lib/composition/workflow.ts';
import type { ActivationInput } from '../lib/workflow/activation.ts';

workflowTasks(); // validate env and policy at cold start

export const handler = (event: ActivationInput) => workflowTasks().prepareActivation(event);
