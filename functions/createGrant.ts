/** POST /grants: request access. Honours Idempotency-Key. */
import { apiHandler } from '../lib/http/api-handler.ts';
import type { z } from 'zod';
import type { createGrantBodySchema } from '../lib/http/schemas.ts';
import { getRuntime } from '../lib/composition/runtime.ts';

getRuntime(); // validate env and policy at cold start

export const handler = apiHandler<z.infer<typeof createGrantBodySchema>>('createGrant', getRuntime, async ({ caller, body, idempotencyKey, service }) => {
  const { grant, replayed } = await service.request(caller, body, idempotencyKey);
  return { status: replayed ? 200 : 201, body: grant, headers: { location: `/grants/${grant.id}` } };
});
