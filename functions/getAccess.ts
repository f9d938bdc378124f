/** GET /access?account=&user=&permissionSet=&group=: who holds what now, and why (admins and auditors). */
import type { z } from 'zod';
import { accessService } from '../lib/composition/access.ts';
import { getRuntime } from '../lib/composition/runtime.ts';
import { apiHandler } from '../lib/http/api-handler.ts';
import type { accessQuerySchema } from '../lib/http/schemas.ts';

const access = accessService(getRuntime()); // validates env and policy at cold start

export const handler = apiHandler<undefined, z.infer<typeof accessQuerySchema>>('getAccess', getRuntime, async ({ caller, query }) => ({
  body: await access.access(caller, query),
}));
