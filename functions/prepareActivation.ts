/** Grant workflow task 1: APPROVED → ACTIVATING, holder taken, slot leased; says what Identity Center must create. */
import { prepareActivation, type ActivationInput } from '../lib/workflow/activation.ts';
import { workflowDeps } from '../lib/workflow/runtime.ts';
import { getRuntime } from '../lib/runtime.ts';

getRuntime(); // validate env and policy at cold start

export const handler = (event: ActivationInput) => prepareActivation(workflowDeps(getRuntime()), event);
