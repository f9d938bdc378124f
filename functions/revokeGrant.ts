/** POST /grants/{id}/revoke {reason}: end active access now. */
import { apiHandler } from '../lib/http/api-handler.ts';
import { getRuntime } from '../lib/composition/runtime.ts';

getRuntime(); // validate env and policy at cold start

export const handler = apiHandler<{ reason: string }, undefined, { id: string }>('revokeGrant', getRuntime, async ({ caller, params, body, service }) => ({
  body: await service.revoke(caller, params.id, body.reason),
}));
