/**
 * GET /audit?from=&to=&user=&account=&limit=&cursor= — the audit trail for admins and auditors,
 * as JSON, or as CSV when the request accepts text/csv. Pages travel as sealed cursors bound
 * to the caller and to the filters as given (lib/http/cursor.ts).
 */
import type { z } from 'zod';
import { requireSetting } from '../lib/config.ts';
import { auditService } from '../lib/composition/events.ts';
import { getRuntime } from '../lib/composition/runtime.ts';
import { apiHandler } from '../lib/http/api-handler.ts';
import { auditCsv } from '../lib/http/audit-csv.ts';
import type { CursorScope } from '../lib/http/cursor.ts';
import type { auditQuerySchema } from '../lib/http/schemas.ts';

// Validate env and policy at cold start; this function cannot page without its cursor key.
requireSetting(getRuntime().config, 'CURSOR_KEY_SECRET_ARN');
const audit = auditService();

export const handler = apiHandler<undefined, z.infer<typeof auditQuerySchema>>('getAudit', getRuntime, async ({ caller, query, cursors, header }) => {
  const { cursor, limit, ...filters } = query;
  const scope: CursorScope = { userId: caller.userId, view: 'audit', status: JSON.stringify([filters.from, filters.to, filters.user, filters.account]) };
  const position = cursor === undefined ? undefined : (await cursors()).open(cursor, scope);
  const page = await audit.page(caller, { ...filters, limit, ...(position !== undefined ? { cursor: position } : {}) });
  const next = page.cursor === undefined ? undefined : (await cursors()).seal(page.cursor, scope);
  if (/\btext\/csv\b/i.test(header('accept') ?? '')) {
    // The next page's cursor rides in a header, as a CSV body has no place for it.
    return { body: undefined, text: auditCsv(page.items), headers: { 'content-type': 'text/csv; charset=utf-8', ...(next ? { 'x-next-cursor': next } : {}) } };
  }
  return { body: next ? { items: page.items, cursor: next } : { items: page.items } };
});
