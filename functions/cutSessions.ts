/**
 * Revoke workflow task, reached only with sessionRevocation=scp, after the access was removed
 * and the grant ended: refuses the sessions the grant's principal was issued before the cutoff.
 */
import { cutSessionsTask } from '../lib/composition/sessions.ts';
import type { CutSessionsInput } from '../lib/workflow/session-cut.ts';

const run = cutSessionsTask(); // env and policy validated at cold start

export const handler = (event: CutSessionsInput) => run(event);
