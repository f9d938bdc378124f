/** Approvals: the requests the caller may decide, with everything needed to decide on a phone. */
import { useState } from 'preact/hooks';
import { ErrorSummary, useNow } from '../components.tsx';
import { POLL_INTERVAL_MS, useApp, usePolling } from '../context.ts';
import { GrantCard, Screen, useStatusAnnouncements } from '../screen.tsx';
import type { Grant } from '../types.ts';

export function ApprovalsScreen() {
  const { api } = useApp();
  const [grants, setGrants] = useState<Grant[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const now = useNow();
  usePolling(
    async () => {
      try {
        setGrants((await api.listGrants('approvals', { limit: 50 })).items);
        setError(undefined);
      } catch (err) {
        setError(err);
      }
    },
    POLL_INTERVAL_MS,
    [],
  );
  useStatusAnnouncements(grants);
  // A decided request leaves the inbox at once; the next poll agrees.
  const decided = (g: Grant) =>
    setGrants((list) => (g.status === 'PENDING_APPROVAL' ? list?.map((x) => (x.id === g.id ? g : x)) : list?.filter((x) => x.id !== g.id)));
  return (
    <Screen title="Approvals" intro="Requests waiting for your decision.">
      <ErrorSummary error={error} />
      {!grants ? (
        <p aria-busy="true">Loading requests…</p>
      ) : grants.length === 0 ? (
        <p>Nothing waits for your decision.</p>
      ) : (
        grants.map((g) => <GrantCard grant={g} now={now} onUpdated={decided} decide />)
      )}
    </Screen>
  );
}
