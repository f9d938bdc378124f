/**
 * GET /grants?view=mine|approvals|active|all&status=&limit=&cursor=
 *
 * The service pages with positions only the server should see (DynamoDB keys); here they
 * leave sealed as cursors bound to the caller, the view and the status filter, and come
 * back opened and checked before anything reads the table (lib/http/cursor.ts).
 */
import type { z } from 'zod';
import { requireSetting } from '../lib/config.ts';
import { apiHandler } from '../lib/http/api-handler.ts';
import type { CursorScope } from '../lib/http/cursor.ts';
import type { listQuerySchema } from '../lib/http/schemas.ts';
import { getRuntime } from '../lib/composition/runtime.ts';

// Validate env and policy at cold start; this function cannot page without its cursor key.
requireSetting(getRuntime().config, 'CURSOR_KEY_SECRET_ARN');

export const handler = apiHandler<undefined, z.infer<typeof listQuerySchema>>('listGrants', getRuntime, async ({ caller, query, service, cursors }) => {
  const scope: CursorScope = { userId: caller.userId, view: query.view, status: query.status };
  const { cursor, ...rest } = query;
  const position = cursor === undefined ? undefined : (await cursors()).open(cursor, scope);
  const page = await service.list(caller, { ...rest, ...(position !== undefined ? { cursor: position } : {}) });
  if (page.cursor === undefined) return { body: { items: page.items } };
  return { body: { items: page.items, cursor: (await cursors()).seal(page.cursor, scope) } };
});
