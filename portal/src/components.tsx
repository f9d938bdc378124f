/** Pieces every screen shares: labelled fields with the API's messages, durations, status, history. */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiProblem } from './api.ts';
import { SignedOutError } from './auth.ts';
import { humanDuration, humanMs, parseDuration, statusLabel, when } from './format.ts';
import type { Grant, GrantStatus } from './types.ts';

/** The ids a control points to with aria-describedby: its hint and, when there is one, its error. */
export function describedBy(id: string, opts: { hint?: boolean; error?: string | undefined }): string | undefined {
  const ids = [opts.hint ? `${id}-hint` : '', opts.error ? `${id}-error` : ''].filter(Boolean);
  return ids.length ? ids.join(' ') : undefined;
}

/** A label, the control, a hint and the API's sentence about this field. */
export function Field(props: { id: string; label: string; hint?: ComponentChildren; error?: string | undefined; children: ComponentChildren; optional?: boolean }) {
  return (
    <div class={props.error ? 'field field-invalid' : 'field'}>
      <label for={props.id}>
        {props.label}
        {props.optional ? <span class="optional"> (optional)</span> : null}
      </label>
      {props.hint ? (
        <p class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      ) : null}
      {props.children}
      <FieldError id={props.id} error={props.error} />
    </div>
  );
}

/** A text input or (with `rows`) a text area in a Field, pointing at its hint and error for screen readers. */
export function TextField(props: {
  id: string;
  label: string;
  value: string;
  onInput(value: string): void;
  error?: string | undefined;
  hint?: string;
  optional?: boolean;
  rows?: number;
  type?: 'text' | 'datetime-local';
}) {
  const common = {
    id: props.id,
    value: props.value,
    'aria-describedby': describedBy(props.id, { hint: Boolean(props.hint), error: props.error }),
    'aria-invalid': props.error ? ('true' as const) : undefined,
  };
  return (
    <Field id={props.id} label={props.label} hint={props.hint} error={props.error} {...(props.optional ? { optional: true } : {})}>
      {props.rows ? (
        <textarea {...common} rows={props.rows} onInput={(e) => props.onInput(e.currentTarget.value)} />
      ) : (
        <input {...common} type={props.type ?? 'text'} onInput={(e) => props.onInput(e.currentTarget.value)} />
      )}
    </Field>
  );
}

export function FieldError(props: { id: string; error?: string | undefined }) {
  return props.error ? (
    <p class="field-error" id={`${props.id}-error`}>
      {props.error}
    </p>
  ) : null;
}

/** A failed call as the user should read it: the API's detail, or what happened to the connection. */
export function errorText(err: unknown): string {
  if (err instanceof ApiProblem) return err.detail;
  if (err instanceof SignedOutError) return `You are signed out: ${err.message}.`;
  if (err instanceof TypeError) return 'The API could not be reached; check your connection and try again.';
  return err instanceof Error ? err.message : String(err);
}

/** The summary at the top of a form that failed: focused, so keyboard and screen-reader users land on it. */
export function ErrorSummary(props: { error: unknown }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => ref.current?.focus(), [props.error]);
  if (!props.error) return null;
  // The shell's banner already says so, with the button to sign in again.
  if (props.error instanceof SignedOutError) return <p class="muted">Sign in again to continue; nothing you typed is lost.</p>;
  return (
    <div class="error-summary" role="alert" tabIndex={-1} ref={ref}>
      <p>{errorText(props.error)}</p>
    </div>
  );
}

const UNITS = [
  { code: 'D', label: 'days', ms: 86_400_000 },
  { code: 'H', label: 'hours', ms: 3_600_000 },
  { code: 'M', label: 'minutes', ms: 60_000 },
  { code: 'S', label: 'seconds', ms: 1000 },
] as const;
type Unit = (typeof UNITS)[number]['code'];

function splitDuration(iso: string): { amount: string; unit: Unit } {
  const ms = parseDuration(iso) ?? 3_600_000;
  const unit = UNITS.find((u) => ms % u.ms === 0 && ms >= u.ms) ?? UNITS[3];
  return { amount: String(ms / unit.ms), unit: unit.code };
}

function joinDuration(amount: string, unit: Unit): string {
  const n = amount.trim();
  return unit === 'D' ? `P${n}D` : `PT${n}${unit}`;
}

/**
 * A duration as a number and a unit, with the rule's bounds said beside it. The API judges
 * the value (the same check whichever client sends it) and its sentence appears here.
 */
export function DurationInput(props: { id: string; label: string; value: string; onChange(iso: string): void; min?: string; max?: string; error?: string | undefined; extraHint?: string }) {
  const [parts, setParts] = useState(() => splitDuration(props.value));
  useEffect(() => {
    if (joinDuration(parts.amount, parts.unit) !== props.value) setParts(splitDuration(props.value));
  }, [props.value]);
  const units = UNITS.filter((u) => u.code !== 'S' || (props.min !== undefined && (parseDuration(props.min) ?? 0) < 60_000) || parts.unit === 'S');
  const update = (next: { amount: string; unit: Unit }) => {
    setParts(next);
    props.onChange(joinDuration(next.amount, next.unit));
  };
  const hint = [props.min && props.max ? `Between ${humanDuration(props.min)} and ${humanDuration(props.max)}.` : '', props.extraHint ?? ''].filter(Boolean).join(' ');
  const describe = describedBy(props.id, { hint: Boolean(hint), error: props.error });
  return (
    <fieldset class={props.error ? 'field field-invalid duration' : 'field duration'} aria-describedby={describe}>
      <legend>{props.label}</legend>
      {hint ? (
        <p class="hint" id={`${props.id}-hint`}>
          {hint}
        </p>
      ) : null}
      <div class="duration-row">
        <label class="visually-hidden" for={props.id}>
          {props.label}: amount
        </label>
        <input
          id={props.id}
          name={props.id}
          type="number"
          inputMode="numeric"
          min="1"
          step="1"
          value={parts.amount}
          aria-invalid={props.error ? 'true' : undefined}
          aria-describedby={describe}
          onInput={(e) => update({ ...parts, amount: e.currentTarget.value })}
        />
        <label class="visually-hidden" for={`${props.id}-unit`}>
          {props.label}: unit
        </label>
        <select id={`${props.id}-unit`} value={parts.unit} onChange={(e) => update({ ...parts, unit: e.currentTarget.value as Unit })}>
          {units.map((u) => (
            <option value={u.code}>{u.label}</option>
          ))}
        </select>
      </div>
      <FieldError id={props.id} error={props.error} />
    </fieldset>
  );
}

const STATUS_TONE: Partial<Record<GrantStatus, string>> = {
  ACTIVE: 'ok',
  ACTIVATING: 'busy',
  APPROVED: 'busy',
  SCHEDULED: 'busy',
  REVOKING: 'busy',
  PENDING_APPROVAL: 'wait',
  DENIED: 'bad',
  FAILED: 'bad',
};

export function StatusBadge(props: { status: GrantStatus }) {
  return <span class={`status status-${STATUS_TONE[props.status] ?? 'done'}`}>{statusLabel(props.status)}</span>;
}

/** The grant's history, oldest first: who did what, when, and why. */
export function Timeline(props: { grant: Grant }) {
  return (
    <ol class="timeline">
      {props.grant.history.map((h) => (
        <li>
          <time dateTime={h.at}>{when(h.at)}</time> <strong>{h.from === null ? 'Requested' : statusLabel(h.to)}</strong> — {h.action} by {h.actor.name}
          {h.detail ? <span class="detail">: {h.detail}</span> : null}
        </li>
      ))}
    </ol>
  );
}

/** Approvals so far against the quorum, and who gave them. */
export function QuorumProgress(props: { grant: Grant }) {
  const { grant } = props;
  if (grant.quorum === 0) return <p>Auto-approved by policy.</p>;
  return (
    <div class="quorum">
      <p>
        <strong>
          {grant.approvals.length} of {grant.quorum}
        </strong>{' '}
        approval{grant.quorum === 1 ? '' : 's'}
      </p>
      {grant.approvals.length ? (
        <ul>
          {grant.approvals.map((a) => (
            <li>
              {a.by.name} approved {when(a.at)}
              {a.comment ? `: “${a.comment}”` : ''}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** The facts of a grant as a definition list. */
export function GrantFacts(props: { grant: Grant; now: number }) {
  const g = props.grant;
  const left = g.status === 'ACTIVE' && g.expiresAt ? humanMs(Date.parse(g.expiresAt) - props.now) : undefined;
  return (
    <dl class="facts">
      <dt>Requester</dt>
      <dd>
        {g.principal.userName} ({g.principal.email})
      </dd>
      <dt>Duration</dt>
      <dd>{humanDuration(g.duration)}</dd>
      <dt>Justification</dt>
      <dd class="prose">{g.justification}</dd>
      {g.ticket ? (
        <>
          <dt>Ticket</dt>
          <dd>{g.ticket}</dd>
        </>
      ) : null}
      <dt>Requested</dt>
      <dd>{when(g.requestedAt)}</dd>
      {g.startsAt ? (
        <>
          <dt>Starts</dt>
          <dd>{when(g.startsAt)}</dd>
        </>
      ) : null}
      {g.expiresAt ? (
        <>
          <dt>{g.status === 'ACTIVE' ? 'Ends' : 'Ended or ends'}</dt>
          <dd>
            {when(g.expiresAt)}
            {left ? <span class="time-left"> ({left} left)</span> : null}
          </dd>
        </>
      ) : null}
      {g.sessionsValidUntil ? (
        <>
          <dt>Sessions valid until</dt>
          <dd>{when(g.sessionsValidUntil)} (console and CLI sessions already open last until then)</dd>
        </>
      ) : null}
      {g.failureReason ? (
        <>
          <dt>Why it failed</dt>
          <dd>{g.failureReason}</dd>
        </>
      ) : null}
      {g.revokeReason ? (
        <>
          <dt>Revoked because</dt>
          <dd>{g.revokeReason}</dd>
        </>
      ) : null}
    </dl>
  );
}

/** A clock for "time left" that ticks once a second. */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs]);
  return now;
}
