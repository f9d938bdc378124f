/** Admin: every active grant (or every grant in a status), filtered by user, account and permission set; revoke with a reason. */
import { useState } from 'preact/hooks';
import { ErrorSummary, useNow } from '../components.tsx';
import { statusLabel } from '../format.ts';
import { GrantCard, LoadMore, Screen, replaceGrant, usePolledGrants } from '../screen.tsx';
import type { Grant, GrantStatus } from '../types.ts';

const STATUSES: GrantStatus[] = ['ACTIVE', 'ACTIVATING', 'PENDING_APPROVAL', 'APPROVED', 'SCHEDULED', 'REVOKING', 'EXPIRED', 'REVOKED', 'DENIED', 'CANCELLED', 'APPROVAL_EXPIRED', 'FAILED'];

interface Filters {
  user: string;
  account: string;
  permissionSet: string;
  status: GrantStatus | '';
}

function has(haystack: (string | undefined)[], needle: string): boolean {
  const n = needle.trim().toLowerCase();
  return !n || haystack.some((h) => h?.toLowerCase().includes(n));
}

function keep(g: Grant, f: Filters): boolean {
  const t = g.target;
  return (
    has([g.principal.userName, g.principal.email], f.user) &&
    has(t.type === 'account' ? [t.accountId, t.accountName] : [], f.account) &&
    has(t.type === 'account' ? [t.permissionSet] : [t.group], f.permissionSet)
  );
}

export function AdminScreen() {
  const [filters, setFilters] = useState<Filters>({ user: '', account: '', permissionSet: '', status: '' });
  // `active` lists every active grant for an admin; a status reads every grant in it (admins and auditors).
  const list = usePolledGrants(filters.status ? 'all' : 'active', { limit: 100, ...(filters.status ? { status: filters.status } : {}) });
  const { grants, setGrants, error } = list;
  const now = useNow();
  const set = (patch: Partial<Filters>) => setFilters((f) => ({ ...f, ...patch }));
  const shown = grants?.filter((g) => keep(g, filters));
  return (
    <Screen title="Admin" intro="All active grants; filter them, or pick a status to see every grant in it.">
      <form class="filters" role="search" aria-label="Filter grants" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="filter-user">User</label>
          <input id="filter-user" type="search" value={filters.user} onInput={(e) => set({ user: e.currentTarget.value })} />
        </div>
        <div class="field">
          <label for="filter-account">Account</label>
          <input id="filter-account" type="search" value={filters.account} onInput={(e) => set({ account: e.currentTarget.value })} />
        </div>
        <div class="field">
          <label for="filter-permission-set">Permission set or group</label>
          <input id="filter-permission-set" type="search" value={filters.permissionSet} onInput={(e) => set({ permissionSet: e.currentTarget.value })} />
        </div>
        <div class="field">
          <label for="filter-status">Status</label>
          <select id="filter-status" value={filters.status} onChange={(e) => set({ status: e.currentTarget.value as GrantStatus | '' })}>
            <option value="">All active</option>
            {STATUSES.map((s) => (
              <option value={s}>{statusLabel(s)}</option>
            ))}
          </select>
        </div>
      </form>
      <ErrorSummary error={error} />
      {!shown ? (
        <p aria-busy="true">Loading grants…</p>
      ) : (
        <>
          <p role="status">
            {shown.length} grant{shown.length === 1 ? '' : 's'} shown{grants && shown.length !== grants.length ? ` of ${grants.length} loaded` : ''}.
          </p>
          {shown.map((g) => (
            <GrantCard grant={g} now={now} onUpdated={(u) => setGrants((list) => (list ? replaceGrant(list, u) : list))} />
          ))}
          <LoadMore list={list} />
        </>
      )}
    </Screen>
  );
}
