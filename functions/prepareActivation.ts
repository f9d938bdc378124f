/** Grant workflow task 1: APPROVED → ACTIVATING with the expiry fixed, holder taken, a slot taken or a place in the line; says what Identity Center must create. */
import { prepareActivationTask } from '../lib/composition/workflow.ts';
import type { ActivationInput } from '../lib/workflow/activation.ts';

const run = prepareActivationTask(); // env and policy validated at cold start

export const handler = (event: ActivationInput) => run(event);
