/** Admin: every active grant (or every grant in a status), filtered by user, account and permission set; revoke with a reason. */
import { useRef, useState } from 'preact/hooks';
import { ErrorSummary, useNow } from '../components.tsx';
import { POLL_INTERVAL_MS, useApp, usePolling } from '../context.ts';
import { statusLabel } from '../format.ts';
import { GrantCard, Screen, replaceGrant, useStatusAnnouncements } from '../screen.tsx';
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
  const { api } = useApp();
  const [filters, setFilters] = useState<Filters>({ user: '', account: '', permissionSet: '', status: '' });
  const [grants, setGrants] = useState<Grant[] | undefined>(undefined);
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const now = useNow();
  const morePages = useRef(false);
  const load = async (from?: string) => {
    // `active` lists every active grant for an admin; a status filter reads the whole table's index for that status.
    const page = filters.status ? await api.listGrants('all', { status: filters.status, limit: 100, ...(from ? { cursor: from } : {}) }) : await api.listGrants('active', { limit: 100, ...(from ? { cursor: from } : {}) });
    return page;
  };
  usePolling(
    async () => {
      // Pages fetched with "Load more" stay as they are; refreshing them all would re-read the table.
      if (morePages.current) return;
      try {
        const page = await load();
        setGrants(page.items);
        setCursor(page.cursor);
        setError(undefined);
      } catch (err) {
        setError(err);
      }
    },
    POLL_INTERVAL_MS * 2,
    [filters.status],
  );
  useStatusAnnouncements(grants);
  const more = async () => {
    morePages.current = true;
    try {
      const page = await load(cursor);
      setGrants((list) => [...(list ?? []), ...page.items]);
      setCursor(page.cursor);
    } catch (err) {
      setError(err);
    }
  };
  const set = (patch: Partial<Filters>) => {
    if (patch.status !== undefined) morePages.current = false;
    setFilters((f) => ({ ...f, ...patch }));
  };
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
            <option value="">Active (all active grants)</option>
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
          {cursor ? (
            <button type="button" onClick={() => void more()}>
              Load more
            </button>
          ) : null}
        </>
      )}
    </Screen>
  );
}
