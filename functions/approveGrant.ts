/** POST /grants/{id}/approve {comment?} */
import { apiHandler } from '../lib/http/api-handler.ts';
import { getRuntime } from '../lib/composition/runtime.ts';

getRuntime(); // validate env and policy at cold start

export const handler = apiHandler<{ comment?: string }, undefined, { id: string }>('approveGrant', getRuntime, async ({ caller, params, body, service }) => ({
  body: await service.approve(caller, params.id, body.comment),
}));
