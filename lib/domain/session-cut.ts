/**
 * Session revocation through a service control policy: the deny statements that refuse the
 * role sessions a user was issued before their access was removed, as the content of the
 * SCPs this system owns on one account. Pure: the adapters read and write the policies.
 *
 * One statement per cutoff (users that share a cutoff are merged), so a later grant's
 * sessions (issued after the cutoff) work at once. An SCP holds at most 5,120 characters
 * (minified JSON); what does not fit spills into the next system-owned SCP.
 */

/** Organizations' limit on a service control policy's content, in characters. */
export const SCP_MAX_CHARACTERS = 5_120;
/** Organizations' limit on SCPs attached to one target, FullAWSAccess and others included. */
export const SCP_MAX_PER_TARGET = 5;

/** One user's sessions on one account that are refused if issued before `cutoff`, until `liftAt`. */
export interface SessionCutEntry {
  accountId: string;
  /** Identity Store user id (the `identitystore:userId` condition key). */
  userId: string;
  /** ISO instant, whole second: sessions issued before it are refused. */
  cutoff: string;
  /** ISO instant after which no session issued before the cutoff can still be valid (cutoff + SessionDuration). */
  liftAt: string;
  /** The grant whose access ended: each cut and lift is a history entry on it. */
  grantId: string;
}

export interface DenyStatement {
  Sid: string;
  Effect: 'Deny';
  Action: '*';
  Resource: '*';
  Condition: {
    StringEquals: { 'identitystore:userId': string[] };
    DateLessThan: { 'aws:TokenIssueTime': string };
  };
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: DenyStatement[];
}

/** The cutoff rounded up to the whole second (ISO, no milliseconds), so near-simultaneous cuts share a statement. */
export function cutoffSecond(at: Date | string): string {
  const ms = typeof at === 'string' ? Date.parse(at) : at.getTime();
  return new Date(Math.ceil(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** SessionDuration (ISO 8601, `PT1H`, `PT12H`, `PT90M`) in milliseconds; Identity Center's default is one hour. */
export function sessionDurationMs(duration: string | undefined): number {
  if (!duration) return 3_600_000;
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(duration);
  if (!m || (!m[1] && !m[2] && !m[3])) throw new Error(`not a SessionDuration: ${duration}`);
  return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000;
}

const statementSid = (cutoff: string) => `SessionsIssuedBefore${cutoff.replace(/[^0-9]/g, '')}`;

function statement(cutoff: string, userIds: string[]): DenyStatement {
  return {
    Sid: statementSid(cutoff),
    Effect: 'Deny',
    Action: '*',
    Resource: '*',
    Condition: { StringEquals: { 'identitystore:userId': userIds }, DateLessThan: { 'aws:TokenIssueTime': cutoff } },
  };
}

const minified = (doc: PolicyDocument) => JSON.stringify(doc);
const document = (Statement: DenyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement });

/**
 * The deny statements for `entries` (one account's), one per cutoff with its users sorted,
 * oldest cutoff first; a user listed twice under one cutoff appears once.
 */
export function denyStatements(entries: readonly Pick<SessionCutEntry, 'userId' | 'cutoff'>[]): DenyStatement[] {
  const byCutoff = new Map<string, Set<string>>();
  for (const e of entries) {
    const users = byCutoff.get(e.cutoff) ?? new Set<string>();
    users.add(e.userId);
    byCutoff.set(e.cutoff, users);
  }
  return [...byCutoff.keys()].sort().map((cutoff) => statement(cutoff, [...byCutoff.get(cutoff)!].sort()));
}

/**
 * The contents (minified JSON) of the system-owned SCPs that hold `entries`: as few as fit in
 * `maxCharacters` each. A statement too large for one policy is split by users. Empty → no policy.
 */
export function scpContents(entries: readonly Pick<SessionCutEntry, 'userId' | 'cutoff'>[], maxCharacters = SCP_MAX_CHARACTERS): string[] {
  const out: string[] = [];
  let current: DenyStatement[] = [];
  const fits = (statements: DenyStatement[]) => minified(document(statements)).length <= maxCharacters;
  const flush = () => {
    if (current.length) out.push(minified(document(current)));
    current = [];
  };
  for (const whole of denyStatements(entries)) {
    let pending = whole.Condition.StringEquals['identitystore:userId'];
    const cutoff = whole.Condition.DateLessThan['aws:TokenIssueTime'];
    while (pending.length) {
      // As many of this cutoff's users as fit beside what the current policy already holds.
      let take = pending.length;
      while (take > 0 && !fits([...current, statement(cutoff, pending.slice(0, take))])) take--;
      if (take === 0) {
        if (!current.length) throw new Error(`a single deny statement does not fit in ${maxCharacters} characters`);
        flush();
        continue;
      }
      current.push(statement(cutoff, pending.slice(0, take)));
      pending = pending.slice(take);
      if (pending.length) flush();
    }
  }
  flush();
  return out;
}

/** The entries whose lift time has come by `now`. */
export function dueForLift(entries: readonly SessionCutEntry[], now: Date): SessionCutEntry[] {
  return entries.filter((e) => Date.parse(e.liftAt) <= now.getTime());
}

export type SessionRevocationMode = 'off' | 'scp';

/** What happens to the role sessions a grant issued once it ends, as shown to people. */
export interface SessionTerms {
  /** The permission set's SessionDuration (ISO 8601): how long a session issued under the grant lasts. */
  duration: string;
  revocation: 'scp' | 'off' | 'not-applicable-management-account';
  /** A plain sentence. */
  note: string;
}

const hours = (ms: number) => {
  const h = ms / 3_600_000;
  return Number.isInteger(h) ? `${h} hour${h === 1 ? '' : 's'}` : `${Math.round(ms / 60_000)} minutes`;
};

/** The terms for one account and permission set. */
export function sessionTerms(mode: SessionRevocationMode, duration: string | undefined, managementAccount: boolean): SessionTerms {
  const d = duration ?? 'PT1H';
  const length = hours(sessionDurationMs(d));
  if (managementAccount) {
    return {
      duration: d,
      revocation: 'not-applicable-management-account',
      note: `This is the organization's management account, where service control policies do not apply: a session started during the grant stays valid for up to ${length} after it ends.`,
    };
  }
  if (mode === 'scp') {
    return { duration: d, revocation: 'scp', note: `Sessions started during the grant are refused within seconds after it ends (they would otherwise last up to ${length}).` };
  }
  return { duration: d, revocation: 'off', note: `Session revocation is off: a session started during the grant stays valid for up to ${length} after it ends.` };
}

/** Until when sessions issued under a grant may still work: expiry + SessionDuration, unless they are cut. */
export function sessionsValidUntil(terms: SessionTerms, expiresAt: string | undefined): string | undefined {
  if (!expiresAt || terms.revocation === 'scp') return undefined;
  return new Date(Date.parse(expiresAt) + sessionDurationMs(terms.duration)).toISOString();
}
