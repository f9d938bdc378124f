/** Grant workflow task 1: APPROVED → ACTIVATING, holder taken; says what Identity Center must create (the state machine leases the slot). */
import { prepareActivation, type ActivationInput } from '../lib/workflow/activation.ts';
import { workflowDeps } from '../lib/workflow/runtime.ts';
import { getRuntime } from '../lib/runtime.ts';

getRuntime(); // validate env and policy at cold start

export const handler = (event: ActivationInput) => prepareActivation(workflowDeps(getRuntime()), event);
