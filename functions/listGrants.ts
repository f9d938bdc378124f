/** GET /grants?view=mine|approvals|active|all&status=&limit=&cursor= */
import type { z } from 'zod';
import { apiHandler } from '../lib/http/api-handler.ts';
import type { listQuerySchema } from '../lib/http/schemas.ts';
import { getRuntime } from '../lib/runtime.ts';

getRuntime(); // validate env and policy at cold start

export const handler = apiHandler<undefined, z.infer<typeof listQuerySchema>>('listGrants', getRuntime, async ({ caller, query, runtime }) => ({
  body: await runtime.service.list(caller, query),
}));
