/** POST /grants/{id}/deny {comment?} */
import { apiHandler } from '../lib/http/api-handler.ts';
import { getRuntime } from '../lib/composition/runtime.ts';

getRuntime(); // validate env and policy at cold start

export const handler = apiHandler<{ comment?: string }, undefined, { id: string }>('denyGrant', getRuntime, async ({ caller, params, body, service }) => ({
  body: await service.deny(caller, params.id, body.comment),
}));
