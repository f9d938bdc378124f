/** POST /grants/{id}/extend {duration} */
import { apiHandler } from '../lib/http/api-handler.ts';
import { getRuntime } from '../lib/composition/runtime.ts';

getRuntime(); // validate env and policy at cold start

export const handler = apiHandler<{ duration: string }, undefined, { id: string }>('extendGrant', getRuntime, async ({ caller, params, body, service }) => ({
  body: await service.extend(caller, params.id, body.duration),
}));
