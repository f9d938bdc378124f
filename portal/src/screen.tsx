import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { Link } from './router.tsx';
import { GrantActions } from './actions.tsx';
import { GrantFacts, QuorumProgress, StatusBadge, Timeline } from './components.tsx';
import { POLL_INTERVAL_MS, useApp, usePolling } from './context.ts';
import type { ListView } from './api.ts';
import { grantTitle, statusLabel } from './format.ts';
import type { Grant, GrantStatus } from './types.ts';

/** A screen's heading and the document title; the heading takes focus when the route changes (see app.tsx). */
export function Screen(props: { title: string; intro?: ComponentChildren; children: ComponentChildren }) {
  useEffect(() => {
    document.title = `${props.title} · Identity Center JIT`;
  }, [props.title]);
  return (
    <>
      <h1 tabIndex={-1}>{props.title}</h1>
      {props.intro ? <p class="intro">{props.intro}</p> : null}
      {props.children}
    </>
  );
}

/** One grant in a list: what, whose, where it stands, what can be done, and its history on demand. */
export function GrantCard(props: { grant: Grant; now: number; onUpdated(g: Grant): void; decide?: boolean }) {
  const g = props.grant;
  return (
    <article class="card" aria-labelledby={`grant-${g.id}-title`}>
      <header class="card-head">
        <h2 id={`grant-${g.id}-title`}>
          <Link href={`/grants/${g.id}`}>{grantTitle(g)}</Link>
        </h2>
        <StatusBadge status={g.status} />
      </header>
      <GrantFacts grant={g} now={props.now} />
      {g.status === 'PENDING_APPROVAL' ? <QuorumProgress grant={g} /> : null}
      <GrantActions grant={g} onUpdated={props.onUpdated} {...(props.decide ? { decide: true } : {})} />
      <details class="history">
        <summary>History ({g.history.length})</summary>
        <Timeline grant={g} />
      </details>
    </article>
  );
}

/** Tells screen-reader users when a grant they are looking at changes status (polling brings the news). */
export function useStatusAnnouncements(grants: Grant[] | undefined): void {
  const { announce } = useApp();
  const seen = useRef(new Map<string, string>());
  useEffect(() => {
    if (!grants) return;
    const changes: string[] = [];
    for (const g of grants) {
      const before = seen.current.get(g.id);
      if (before !== undefined && before !== g.status) changes.push(`${grantTitle(g)} is now ${statusLabel(g.status)}.`);
      seen.current.set(g.id, g.status);
    }
    if (changes.length) announce(changes.join(' '));
  }, [grants]);
}

/** Replaces one grant in a list with its newer version. */
export function replaceGrant(list: Grant[], updated: Grant): Grant[] {
  return list.map((g) => (g.id === updated.id ? updated : g));
}

/**
 * A list of grants kept fresh by polling, announcing status changes; `setGrants` applies an
 * action's result at once. `more()` appends the next page; once it has, polling stops
 * (refreshing every loaded page would re-read the table every few seconds).
 */
export function usePolledGrants(view: ListView, opts: { status?: GrantStatus; limit?: number } = {}) {
  const { api } = useApp();
  const [grants, setGrants] = useState<Grant[] | undefined>(undefined);
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const extraPages = useRef(false);
  // Declared before the polling so a new view's first poll already sees the reset.
  useEffect(() => {
    extraPages.current = false;
  }, [view, opts.status]);
  const page = (from?: string) => api.listGrants(view, { limit: opts.limit ?? 50, ...(opts.status ? { status: opts.status } : {}), ...(from ? { cursor: from } : {}) });
  usePolling(
    async () => {
      if (extraPages.current) return;
      try {
        const first = await page();
        setGrants(first.items);
        setCursor(first.cursor);
        setError(undefined);
      } catch (err) {
        setError(err);
      }
    },
    POLL_INTERVAL_MS,
    [view, opts.status],
  );
  useStatusAnnouncements(grants);
  const more = async () => {
    if (!cursor) return;
    extraPages.current = true;
    try {
      const next = await page(cursor);
      setGrants((list) => [...(list ?? []), ...next.items]);
      setCursor(next.cursor);
    } catch (err) {
      setError(err);
    }
  };
  return { grants, setGrants, error, hasMore: cursor !== undefined, more };
}

/** The button that reads the next page of a list. */
export function LoadMore(props: { list: { hasMore: boolean; more(): Promise<void> } }) {
  return props.list.hasMore ? (
    <button type="button" onClick={() => void props.list.more()}>
      Load more
    </button>
  ) : null;
}
