/** What a person can do to a grant from any screen: decide, extend, revoke, cancel. The API decides who may. */
import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { consoleLink } from '../../lib/domain/console-link.ts';
import { ApiProblem } from './api.ts';
import { DurationInput, ErrorSummary, TextField } from './components.tsx';
import { useApp } from './context.ts';
import { grantTitle, humanDuration, statusLabel } from './format.ts';
import type { EligibilityEntry, Grant } from './types.ts';

let eligibilityCache: { key: string; entries: Promise<EligibilityEntry[]> } | undefined;

/** The caller's eligibility, asked once per sign-in (rules change with deployments, not by the minute). */
export function useEligibility(): { entries: EligibilityEntry[] | undefined; error: unknown } {
  const { api, session } = useApp();
  const [state, setState] = useState<{ entries: EligibilityEntry[] | undefined; error: unknown }>({ entries: undefined, error: undefined });
  useEffect(() => {
    if (eligibilityCache?.key !== session.email) {
      eligibilityCache = { key: session.email, entries: api.eligibility() };
      eligibilityCache.entries.catch(() => (eligibilityCache = undefined));
    }
    eligibilityCache.entries.then(
      (entries) => setState({ entries, error: undefined }),
      (error: unknown) => setState({ entries: undefined, error }),
    );
  }, [session.email]);
  return state;
}

const CANCELLABLE = new Set(['PENDING_APPROVAL', 'APPROVED', 'SCHEDULED']);

function isMine(grant: Grant, email: string): boolean {
  return grant.principal.email.toLowerCase() === email.toLowerCase();
}

/** A form that calls the API, keeps what was typed when it fails and shows the API's sentence at its field. */
function useAction(onDone: (g: Grant) => void) {
  const { announce } = useApp();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const run = async (call: () => Promise<Grant>, said: (g: Grant) => string) => {
    setBusy(true);
    setError(undefined);
    try {
      const g = await call();
      announce(said(g));
      onDone(g);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const fieldError = (name: string) => (error instanceof ApiProblem ? error.fields[name] : undefined);
  return { busy, error, run, fieldError };
}

function ActionPanel(props: { summary: string; children: ComponentChildren; open?: boolean }) {
  return (
    <details class="action" open={props.open}>
      <summary>{props.summary}</summary>
      {props.children}
    </details>
  );
}

function submitHandler(fn: () => void) {
  return (e: JSX.TargetedEvent<HTMLFormElement>) => {
    e.preventDefault();
    fn();
  };
}

function DecideForm(props: { grant: Grant; onDone(g: Grant): void }) {
  const { api } = useApp();
  const [comment, setComment] = useState('');
  const { busy, error, run, fieldError } = useAction(props.onDone);
  const id = `comment-${props.grant.id}`;
  const decide = (how: 'approve' | 'deny') =>
    run(
      () => (how === 'approve' ? api.approve(props.grant.id, comment || undefined) : api.deny(props.grant.id, comment || undefined)),
      (g) => `${grantTitle(g)} for ${g.principal.userName}: ${how === 'approve' ? 'approved' : 'denied'}, now ${statusLabel(g.status)}.`,
    );
  return (
    <form class="decide" noValidate onSubmit={submitHandler(() => void decide('approve'))}>
      <ErrorSummary error={error} />
      <TextField id={id} label="Comment" optional rows={2} value={comment} onInput={setComment} error={fieldError('comment')} />
      <div class="buttons">
        <button type="submit" class="primary" disabled={busy}>
          Approve
        </button>
        <button type="button" class="danger" disabled={busy} onClick={() => void decide('deny')}>
          Deny
        </button>
      </div>
    </form>
  );
}

/** A one-button form in a disclosure panel: the API's answer or its refusal shows inside it. */
function ActionForm(props: { summary: string; submit: string; danger?: boolean; busy: boolean; error: unknown; onSubmit(): void; children?: ComponentChildren }) {
  return (
    <ActionPanel summary={props.summary}>
      <form noValidate onSubmit={submitHandler(props.onSubmit)}>
        <ErrorSummary error={props.error} />
        {props.children}
        <button type="submit" class={props.danger ? 'danger' : undefined} disabled={props.busy}>
          {props.submit}
        </button>
      </form>
    </ActionPanel>
  );
}

function ExtendForm(props: { grant: Grant; entry: EligibilityEntry | undefined; onDone(g: Grant): void }) {
  const { api } = useApp();
  const bounds = props.entry?.duration;
  const [duration, setDuration] = useState(bounds?.default ?? props.grant.duration);
  const { busy, error, run, fieldError } = useAction(props.onDone);
  const extend = () => void run(() => api.extend(props.grant.id, duration), (g) => `${grantTitle(g)} extended; it now ends ${new Date(g.expiresAt ?? '').toLocaleTimeString()}.`);
  return (
    <ActionForm summary="Extend" submit="Extend access" busy={busy} error={error} onSubmit={extend}>
      <DurationInput
        id={`extend-${props.grant.id}`}
        label="Extend by"
        value={duration}
        onChange={setDuration}
        error={fieldError('duration')}
        {...(bounds ? { extraHint: `In all at most ${humanDuration(bounds.maxTotal)} from activation.` } : {})}
      />
    </ActionForm>
  );
}

function RevokeForm(props: { grant: Grant; onDone(g: Grant): void }) {
  const { api } = useApp();
  const [reason, setReason] = useState('');
  const { busy, error, run, fieldError } = useAction(props.onDone);
  const revoke = () => void run(() => api.revoke(props.grant.id, reason), (g) => `${grantTitle(g)} for ${g.principal.userName}: revoking.`);
  return (
    <ActionForm summary="Revoke" submit="Revoke access" danger busy={busy} error={error} onSubmit={revoke}>
      <TextField id={`reason-${props.grant.id}`} label="Reason for revoking" rows={2} value={reason} onInput={setReason} error={fieldError('reason')} />
    </ActionForm>
  );
}

function CancelForm(props: { grant: Grant; onDone(g: Grant): void }) {
  const { api } = useApp();
  const { busy, error, run } = useAction(props.onDone);
  const cancel = () => void run(() => api.cancel(props.grant.id), (g) => `${grantTitle(g)}: request cancelled.`);
  return <ActionForm summary="Cancel" submit="Cancel request" busy={busy} error={error} onSubmit={cancel} />;
}

/** The actions that fit this grant's status and the caller's part in it. */
export function GrantActions(props: { grant: Grant; onUpdated(g: Grant): void; decide?: boolean }) {
  const { session, config } = useApp();
  const { entries } = useEligibility();
  const g = props.grant;
  const mine = isMine(g, session.email);
  const link = g.status === 'ACTIVE' && mine ? consoleLink(config.ssoStartUrl, g) : undefined;
  const entry = entries?.find((e) => e.ruleId === g.ruleId);
  return (
    <div class="actions">
      {link ? (
        <p>
          <a class="button primary" href={link} target="_blank" rel="noopener noreferrer">
            Open in the AWS access portal
          </a>
        </p>
      ) : null}
      {g.status === 'PENDING_APPROVAL' && (props.decide || !mine) ? <DecideForm grant={g} onDone={props.onUpdated} /> : null}
      {g.status === 'ACTIVE' && mine ? <ExtendForm grant={g} entry={entry} onDone={props.onUpdated} /> : null}
      {g.status === 'ACTIVE' ? <RevokeForm grant={g} onDone={props.onUpdated} /> : null}
      {CANCELLABLE.has(g.status) && mine ? <CancelForm grant={g} onDone={props.onUpdated} /> : null}
    </div>
  );
}
