/** Grant workflow task 2: gives the slot back (to the next waiter), then ACTIVE + revocation schedule, or FAILED with a readable reason. */
import { completeActivationTask } from '../lib/composition/workflow.ts';
import type { CompleteActivationInput } from '../lib/workflow/activation.ts';

const run = completeActivationTask(); // env and policy validated at cold start

export const handler = (event: CompleteActivationInput) => run(event);
