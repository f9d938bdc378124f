/** POST /grants/{id}/cancel: withdraw a request that is not active yet. */
import { apiHandler } from '../lib/http/api-handler.ts';
import { getRuntime } from '../lib/composition/runtime.ts';

getRuntime(); // validate env and policy at cold start

export const handler = apiHandler<undefined, undefined, { id: string }>('cancelGrant', getRuntime, async ({ caller, params, service }) => ({
  body: await service.cancel(caller, params.id),
}));
