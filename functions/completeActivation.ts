/** Grant workflow task 2 (the state machine already gave the slot back): ACTIVE + revocation schedule, or FAILED with a readable reason. */
import { workflowTasks } from '../lib/composition/workflow.ts';
import type { CompleteActivationInput } from '../lib/workflow/activation.ts';

workflowTasks(); // validate env and policy at cold start

export const handler = (event: CompleteActivationInput) => workflowTasks().completeActivation(event);
