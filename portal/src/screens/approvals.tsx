/** Approvals: the requests the caller may decide, with everything needed to decide on a phone. */
import { ErrorSummary, useNow } from '../components.tsx';
import { GrantCard, Screen, usePolledGrants } from '../screen.tsx';
import type { Grant } from '../types.ts';

export function ApprovalsScreen() {
  const { grants, setGrants, error } = usePolledGrants('approvals');
  const now = useNow();
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
