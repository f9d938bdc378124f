/** Request access: what policy lets the caller ask for, searchable, with the rule's bounds and approval shown before sending. */
import type { JSX } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiProblem } from '../api.ts';
import { useEligibility } from '../actions.tsx';
import { DurationInput, ErrorSummary, TextField, describedBy } from '../components.tsx';
import { useApp } from '../context.ts';
import { humanDuration, statusLabel } from '../format.ts';
import { navigate } from '../router.tsx';
import { Screen } from '../screen.tsx';
import type { EligibilityEntry, GrantRequest, Target } from '../types.ts';

/** One thing to pick: a target of the first rule that offers it (the rule the API will apply too). */
interface Choice {
  key: string;
  target: Target;
  entry: EligibilityEntry;
  label: string;
  search: string;
}

interface Draft {
  choice: string;
  duration: string;
  justification: string;
  ticket: string;
  startsAt: string;
  search: string;
}

/** The draft survives a sign-in round trip (and a reload) in this tab: nothing typed is lost to a lapsed session. */
const DRAFT_KEY = 'icjit.request-draft';
const EMPTY: Draft = { choice: '', duration: '', justification: '', ticket: '', startsAt: '', search: '' };
/** Enough rows to scan; organisations with hundreds of accounts narrow with the search box. */
const MAX_SHOWN = 50;

function loadDraft(): Draft {
  try {
    return { ...EMPTY, ...(JSON.parse(sessionStorage.getItem(DRAFT_KEY) ?? '{}') as Partial<Draft>) };
  } catch {
    return EMPTY;
  }
}

function choicesOf(entries: EligibilityEntry[]): Choice[] {
  const seen = new Set<string>();
  const out: Choice[] = [];
  for (const entry of entries) {
    for (const target of entry.targets) {
      const key = target.type === 'account' ? `account:${target.accountId}:${target.permissionSet}` : `group:${target.group}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const label =
        target.type === 'account' ? `${target.accountName ?? target.accountId} (${target.accountId}) — ${target.permissionSet}` : `Membership of group ${target.group}`;
      out.push({ key, target, entry, label, search: label.toLowerCase() });
    }
  }
  return out;
}

function matches(choice: Choice, words: string[]): boolean {
  return words.every((w) => choice.search.includes(w));
}

/** `datetime-local` holds local wall time; the API wants an instant with its offset. */
function startsAtIso(local: string): string | undefined {
  if (!local) return undefined;
  const t = new Date(local);
  return Number.isNaN(t.getTime()) ? local : t.toISOString();
}

function requestBody(choice: Choice, draft: Draft): GrantRequest {
  const target: GrantRequest['target'] =
    choice.target.type === 'account' ? { type: 'account', accountId: choice.target.accountId, permissionSet: choice.target.permissionSet } : { type: 'group', group: choice.target.group };
  const body: GrantRequest = { target, duration: draft.duration || choice.entry.duration.default, justification: draft.justification };
  if (draft.ticket) body.ticket = draft.ticket;
  const startsAt = startsAtIso(draft.startsAt);
  if (startsAt) body.startsAt = startsAt;
  return body;
}

function approvalText(entry: EligibilityEntry, startsAt: string): string {
  if (!entry.approvalRequired) return `No approval needed: access starts ${startsAt ? 'at the start time you chose' : 'as soon as you send it'}.`;
  const count = entry.quorum === 1 ? 'one approval' : `${entry.quorum} approvals from different people`;
  const names = [...entry.approvers.users, ...entry.approvers.groups.map((g) => `the ${g} group`)];
  const from = names.length ? ` from ${names.join(' or ')}` : '';
  return `Needs ${count}${from} (rule “${entry.ruleId}”); access starts ${startsAt ? 'at the start time you chose, once approved' : 'once approved'}.`;
}

export function RequestScreen() {
  const { api, announce } = useApp();
  const { entries, error: loadError } = useEligibility();
  const [draft, setDraft] = useState<Draft>(loadDraft);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const lastSent = useRef<{ body: string; key: string } | undefined>(undefined);

  const choices = useMemo(() => (entries ? choicesOf(entries) : []), [entries]);
  const chosen = choices.find((c) => c.key === draft.choice);
  const words = draft.search.toLowerCase().split(/\s+/).filter(Boolean);
  const shown = choices.filter((c) => c.key === draft.choice || matches(c, words));
  const groups = new Map<EligibilityEntry, Choice[]>();
  for (const c of shown.slice(0, MAX_SHOWN)) groups.set(c.entry, [...(groups.get(c.entry) ?? []), c]);

  useEffect(() => sessionStorage.setItem(DRAFT_KEY, JSON.stringify(draft)), [draft]);
  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));

  const pick = (c: Choice) => {
    // A new rule brings its own bounds: start from its default unless the typed duration still fits.
    set({ choice: c.key, ...(c.entry !== chosen?.entry ? { duration: c.entry.duration.default } : {}) });
  };

  const fieldError = (...names: string[]) => {
    if (!(error instanceof ApiProblem)) return undefined;
    for (const n of names) {
      const hit = Object.entries(error.fields).find(([field]) => field === n || field.startsWith(`${n}.`));
      if (hit) return hit[1];
    }
    return undefined;
  };

  const submit = async (e: JSX.TargetedEvent<HTMLFormElement>) => {
    e.preventDefault();
    if (!chosen) {
      setError(new ApiProblem(400, 'Choose what you need access to.', { target: 'choose an account and permission set, or a group' }));
      return;
    }
    const body = requestBody(chosen, draft);
    const text = JSON.stringify(body);
    // The same body keeps its key, so a retry after a lost answer replays instead of asking twice.
    const key = lastSent.current?.body === text ? lastSent.current.key : crypto.randomUUID();
    lastSent.current = { body: text, key };
    setBusy(true);
    setError(undefined);
    try {
      const grant = await api.createGrant(body, key);
      sessionStorage.removeItem(DRAFT_KEY);
      lastSent.current = undefined;
      announce(`Request sent: ${statusLabel(grant.status)}.`);
      navigate(`/grants/${grant.id}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (loadError) return <Screen title="Request access"><ErrorSummary error={loadError} /></Screen>;
  if (!entries) return <Screen title="Request access"><p aria-busy="true">Loading what you may request…</p></Screen>;
  if (entries.length === 0) {
    return (
      <Screen title="Request access">
        <p>Policy lets you request nothing at the moment. Ask an administrator which rule should name you.</p>
      </Screen>
    );
  }

  const targetError = fieldError('target');
  return (
    <Screen title="Request access" intro="Pick what you need, for how long and why. Access ends on its own when the time is up.">
      <form class="request" noValidate onSubmit={(e) => void submit(e)}>
        <ErrorSummary error={error} />
        <fieldset class={targetError ? 'field field-invalid' : 'field'} aria-describedby={describedBy('target', { hint: true, error: targetError })}>
          <legend>What you need</legend>
          <p class="hint" id="target-hint">
            {choices.length} choice{choices.length === 1 ? '' : 's'}: accounts (by name or id) with a permission set, or a group.
          </p>
          <label for="search">Search accounts, ids, permission sets and groups</label>
          <input id="search" type="search" value={draft.search} autoComplete="off" onInput={(e) => set({ search: e.currentTarget.value })} />
          <p class="hint" role="status">
            {shown.length > MAX_SHOWN ? `Showing ${MAX_SHOWN} of ${shown.length} matches; type more to narrow.` : `${shown.length} match${shown.length === 1 ? '' : 'es'}.`}
          </p>
          <div class="choices">
            {[...groups].map(([entry, list]) => (
              <div class="choice-group" role="group" aria-labelledby={`group-${entry.ruleId}`}>
                <h2 class="group-label" id={`group-${entry.ruleId}`}>
                  {entry.description ?? `Rule ${entry.ruleId}`}
                </h2>
                {list.map((c) => (
                  <label class="choice">
                    <input type="radio" name="target" value={c.key} checked={c.key === draft.choice} onChange={() => pick(c)} />
                    <span>{c.label}</span>
                  </label>
                ))}
              </div>
            ))}
          </div>
          {targetError ? (
            <p class="field-error" id="target-error">
              {targetError}
            </p>
          ) : null}
        </fieldset>

        {chosen ? (
          <section class="what-happens" aria-labelledby="what-happens-title">
            <h2 id="what-happens-title">Before you send</h2>
            <p>{approvalText(chosen.entry, draft.startsAt)}</p>
            <p>
              Duration between {humanDuration(chosen.entry.duration.min)} and {humanDuration(chosen.entry.duration.max)}; with extensions at most{' '}
              {humanDuration(chosen.entry.duration.maxTotal)} in all.
            </p>
            {chosen.entry.session?.note ? <p class="caveat">{chosen.entry.session.note}</p> : null}
          </section>
        ) : null}

        <DurationInput
          id="duration"
          label="Duration"
          value={draft.duration || chosen?.entry.duration.default || 'PT1H'}
          onChange={(duration) => set({ duration })}
          error={fieldError('duration')}
          {...(chosen ? { min: chosen.entry.duration.min, max: chosen.entry.duration.max } : {})}
        />
        <TextField
          id="justification"
          label="Justification"
          hint="Why you need it; approvers and the audit trail see this."
          rows={3}
          value={draft.justification}
          onInput={(justification) => set({ justification })}
          error={fieldError('justification')}
        />
        <TextField id="ticket" label="Ticket" optional value={draft.ticket} onInput={(ticket) => set({ ticket })} error={fieldError('ticket')} />
        <TextField
          id="startsAt"
          label="Start later"
          optional
          type="datetime-local"
          hint="Leave empty to start as soon as it is approved."
          value={draft.startsAt}
          onInput={(startsAt) => set({ startsAt })}
          error={fieldError('startsAt')}
        />
        <div class="buttons">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Sending…' : 'Send request'}
          </button>
        </div>
      </form>
    </Screen>
  );
}

