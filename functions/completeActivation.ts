/** Grant workflow task 2 (the state machine already gave the slot back): ACTIVE + revocation schedule, or FAILED with a readable reason. */
import { completeActivation, type CompleteActivationInput } from '../lib/workflow/activation.ts';
import { workflowDeps } from '../lib/workflow/runtime.ts';
import { getRuntime } from '../lib/runtime.ts';

getRuntime(); // validate env and policy at cold start

export const handler = (event: CompleteActivationInput) => completeActivation(workflowDeps(getRuntime()), event);
