import type { Target } from './grant.ts';

/** `https://<start-url>/#/console?account_id=…&role_name=…` opens the console in that role; a group grant gets the access portal itself. */
export function consoleLink(startUrl: string | undefined, grant: { target: Target }): string | undefined {
  if (!startUrl) return undefined;
  const base = (/^https?:\/\//.test(startUrl) ? startUrl : `https://${startUrl}`).replace(/\/+$/, '');
  if (grant.target.type !== 'account') return base;
  const q = new URLSearchParams({ account_id: grant.target.accountId, role_name: grant.target.permissionSet });
  return `${base}/#/console?${q.toString()}`;
}
