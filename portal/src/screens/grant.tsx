/** One grant at its own address (/grants/<id>): Slack messages and notifications link here. */
import { useState } from 'preact/hooks';
import { ApiProblem } from '../api.ts';
import { GrantActions } from '../actions.tsx';
import { ErrorSummary, GrantFacts, QuorumProgress, StatusBadge, Timeline, useNow } from '../components.tsx';
import { POLL_INTERVAL_MS, useApp, usePolling } from '../context.ts';
import { grantTitle, isTerminal, targetText } from '../format.ts';
import { Screen, useStatusAnnouncements } from '../screen.tsx';
import type { Grant } from '../types.ts';

export function GrantScreen(props: { id: string }) {
  const { api } = useApp();
  const [grant, setGrant] = useState<Grant | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const now = useNow();
  usePolling(
    async () => {
      // A grant that has ended changes no more: stop asking.
      if (grant && isTerminal(grant.status)) return;
      try {
        setGrant(await api.getGrant(props.id));
        setError(undefined);
      } catch (err) {
        setError(err);
      }
    },
    POLL_INTERVAL_MS,
    [props.id],
  );
  useStatusAnnouncements(grant ? [grant] : undefined);
  if (!grant) {
    const missing = error instanceof ApiProblem && (error.status === 404 || error.status === 403);
    return (
      <Screen title={missing ? 'Grant not available' : 'Grant'}>
        {error ? <ErrorSummary error={error} /> : <p aria-busy="true">Loading the grant…</p>}
      </Screen>
    );
  }
  return (
    <Screen title={grantTitle(grant)}>
      <ErrorSummary error={error} />
      <p class="status-line">
        <StatusBadge status={grant.status} /> <span class="muted">{targetText(grant.target)} · grant {grant.id}</span>
      </p>
      <GrantFacts grant={grant} now={now} />
      <section aria-labelledby="approvals-title">
        <h2 id="approvals-title">Approvals</h2>
        <QuorumProgress grant={grant} />
      </section>
      <section aria-labelledby="actions-title">
        <h2 id="actions-title">Actions</h2>
        <GrantActions grant={grant} onUpdated={setGrant} />
      </section>
      <section aria-labelledby="history-title">
        <h2 id="history-title">History</h2>
        <Timeline grant={grant} />
      </section>
    </Screen>
  );
}
