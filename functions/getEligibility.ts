/** GET /eligibility: what the caller may request, with bounds and approval needs. */
import { apiHandler } from '../lib/http/api-handler.ts';
import { getRuntime } from '../lib/composition/runtime.ts';

getRuntime(); // validate env and policy at cold start

export const handler = apiHandler('getEligibility', getRuntime, async ({ caller, service }) => ({
  body: { items: await service.eligibility(caller) },
}));
