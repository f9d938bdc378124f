/** GET /grants/{id}: one grant with its history. */
import { apiHandler } from '../lib/http/api-handler.ts';
import { getRuntime } from '../lib/composition/runtime.ts';

getRuntime(); // validate env and policy at cold start

export const handler = apiHandler<undefined, undefined, { id: string }>('getGrant', getRuntime, async ({ caller, params, service }) => ({
  body: await service.get(caller, params.id),
}));
