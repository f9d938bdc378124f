/** My access: the caller's grants, live (polled), current first, with what each allows now. */
import { ErrorSummary, useNow } from '../components.tsx';
import { isTerminal } from '../format.ts';
import { Link } from '../router.tsx';
import { GrantCard, LoadMore, Screen, replaceGrant, usePolledGrants } from '../screen.tsx';
import type { Grant } from '../types.ts';

export function MineScreen() {
  const list = usePolledGrants('mine');
  const { grants, setGrants, error } = list;
  const now = useNow();
  const update = (g: Grant) => setGrants((list) => (list ? replaceGrant(list, g) : list));
  const current = grants?.filter((g) => !isTerminal(g.status)) ?? [];
  const past = grants?.filter((g) => isTerminal(g.status)) ?? [];
  return (
    <Screen title="My access" intro="Your requests and access, updated every few seconds.">
      <ErrorSummary error={error} />
      {!grants ? (
        <p aria-busy="true">Loading your grants…</p>
      ) : grants.length === 0 ? (
        <p>
          You have no requests yet. <Link href="/">Request access</Link>.
        </p>
      ) : (
        <>
          <section aria-labelledby="current-title">
            <h2 id="current-title" class="section-title">
              Current ({current.length})
            </h2>
            {current.length ? current.map((g) => <GrantCard grant={g} now={now} onUpdated={update} />) : <p>Nothing active or waiting.</p>}
          </section>
          <section aria-labelledby="past-title">
            <h2 id="past-title" class="section-title">
              Past ({past.length})
            </h2>
            {past.map((g) => (
              <GrantCard grant={g} now={now} onUpdated={update} />
            ))}
            <LoadMore list={list} />
          </section>
        </>
      )}
    </Screen>
  );
}
