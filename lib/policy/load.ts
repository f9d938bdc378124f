/**
 * Reads the policy YAML, validates it, and reports every problem with the
 * line and column of the node that is wrong, so a bad file fails start-up
 * with a message a person can act on.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { LineCounter, isCollection, isMap, isScalar, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { parseDuration } from '../domain/duration.ts';
import { ConfigError } from '../errors.ts';
import {
  BUILTIN_DEFAULTS,
  defaultsInputSchema,
  policyInputSchema,
  ruleInputSchema,
  type DefaultsInput,
  type DurationBounds,
  type PolicyDocument,
  type PolicyInput,
  type PolicyRule,
  type Principals,
  type RuleInput,
} from './schema.ts';

export interface PolicyProblem {
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** `rules[2].duration.max`; empty for a YAML syntax error or the document itself. */
  path: string;
  message: string;
}

export class PolicyError extends ConfigError {
  readonly source: string;
  readonly problems: PolicyProblem[];
  constructor(source: string, problems: PolicyProblem[]) {
    const lines = problems.map((p) => `  ${formatProblem(source, p)}`);
    super(`policy ${source} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`);
    this.name = 'PolicyError';
    this.source = source;
    this.problems = problems;
  }
}

export function formatProblem(source: string, p: PolicyProblem): string {
  return p.path ? `${source}:${p.line}:${p.column} ${p.path}: ${p.message}` : `${source}:${p.line}:${p.column}: ${p.message}`;
}

type Path = readonly PropertyKey[];

interface Issue {
  path: Path;
  message: string;
  /** For unknown keys: point at the key itself, not at the map holding it. */
  key?: string;
}

export function parsePolicy(text: string, source = 'policy.yaml'): PolicyDocument {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const toPosition = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  if (doc.errors.length > 0) {
    throw new PolicyError(
      source,
      doc.errors.map((e) => ({ ...toPosition(e.pos[0]), path: '', message: `YAML syntax: ${e.message}` })),
    );
  }

  const raw: unknown = doc.toJS();
  const issues: Issue[] = [];

  const parsed = policyInputSchema.safeParse(raw, { error: requiredMessage });
  if (!parsed.success) issues.push(...zodIssues(parsed.error.issues));
  issues.push(...crossFieldIssues(raw));

  if (issues.length > 0 || !parsed.success) {
    const problems = dedupe(issues.map((issue) => locate(doc, issue, toPosition)));
    problems.sort((a, b) => a.line - b.line || a.column - b.column);
    throw new PolicyError(source, problems);
  }
  return normalize(parsed.data);
}

export async function loadPolicyFile(path: string): Promise<PolicyDocument> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read policy file ${path}: ${(err as Error).message}`);
  }
  return parsePolicy(text, path);
}

/** For cold-start code that cannot await (e.g. module-level config). */
export function loadPolicyFileSync(path: string): PolicyDocument {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read policy file ${path}: ${(err as Error).message}`);
  }
  return parsePolicy(text, path);
}

export function formatPath(path: Path): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

// ---- zod issues → located problems ----

function requiredMessage(iss: { code?: string; input?: unknown }): string | undefined {
  return iss.code === 'invalid_type' && iss.input === undefined ? 'is required' : undefined;
}

function zodIssues(zodIssueList: readonly z.core.$ZodIssue[]): Issue[] {
  const out: Issue[] = [];
  for (const issue of zodIssueList) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: [...issue.path, key], key, message: `unknown field "${key}"` });
    } else if (issue.code === 'invalid_union') {
      out.push({ path: issue.path, message: issue.message === 'Invalid input' ? 'has the wrong type' : issue.message });
    } else {
      out.push({ path: issue.path, message: issue.message });
    }
  }
  return out;
}

interface Ranged {
  range?: [number, number, number] | null;
}

function locate(doc: Document, issue: Issue, toPosition: (offset: number) => { line: number; column: number }): PolicyProblem {
  const path = formatPath(issue.path);
  if (issue.key !== undefined) {
    const range = keyRange(doc, issue.path as unknown[]);
    if (range) return { ...toPosition(range[0]), path, message: issue.message };
  }
  // A missing field has no node: point at the nearest ancestor that exists.
  for (let n = issue.path.length; n >= 0; n--) {
    const prefix = issue.path.slice(0, n) as unknown[];
    const node = (n === 0 ? doc.contents : doc.getIn(prefix, true)) as Ranged | null | undefined;
    if (!node || typeof node !== 'object' || !node.range) continue;
    // A map or list is located by its key ("requesters:"), a scalar by its value.
    const offset = isCollection(node) && n > 0 ? (keyRange(doc, prefix) ?? node.range)[0] : node.range[0];
    return { ...toPosition(offset), path, message: issue.message };
  }
  return { line: 1, column: 1, path, message: issue.message };
}

function keyRange(doc: Document, path: unknown[]): [number, number, number] | undefined {
  const holder = doc.getIn(path.slice(0, -1), true);
  const last = path[path.length - 1];
  if (!isMap(holder)) return undefined;
  const pair = holder.items.find((p) => isScalar(p.key) && p.key.value === last);
  return (pair?.key as Ranged | undefined)?.range ?? undefined;
}

function dedupe(problems: PolicyProblem[]): PolicyProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.line}:${p.column}:${p.path}:${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// ---- cross-field checks ----

type BoundName = keyof DurationBounds;
interface BoundValue {
  value: string;
  /** Where the value was written; undefined for a built-in default. */
  path?: Path;
  origin: 'here' | 'defaults' | 'built-in';
}

/**
 * Runs on the raw data so that a type error in one rule does not hide a
 * duplicate id or a bad duration order in another: each piece is checked when
 * it parses on its own.
 */
function crossFieldIssues(raw: unknown): Issue[] {
  if (!isRecord(raw)) return [];
  const issues: Issue[] = [];

  const defaultsParsed = defaultsInputSchema.safeParse(raw.defaults ?? {});
  const defaults: DefaultsInput | undefined = defaultsParsed.success ? defaultsParsed.data : undefined;
  if (defaults) {
    const bounds = mergeBounds(defaults.duration, undefined, ['defaults', 'duration']);
    issues.push(...orderIssues(bounds, ['defaults', 'duration']));
  }

  if (Array.isArray(raw.rules)) {
    const firstIndexOfId = new Map<string, number>();
    raw.rules.forEach((ruleRaw: unknown, i) => {
      if (isRecord(ruleRaw) && typeof ruleRaw.id === 'string') {
        const first = firstIndexOfId.get(ruleRaw.id);
        if (first === undefined) firstIndexOfId.set(ruleRaw.id, i);
        else issues.push({ path: ['rules', i, 'id'], message: `duplicate rule id "${ruleRaw.id}" (first used by rules[${first}])` });
      }
      const rule = ruleInputSchema.safeParse(ruleRaw);
      if (rule.success) issues.push(...ruleIssues(rule.data, i, defaults));
    });
  }
  return issues;
}

function ruleIssues(rule: RuleInput, i: number, defaults: DefaultsInput | undefined): Issue[] {
  const at = (...rest: PropertyKey[]): Path => ['rules', i, ...rest];
  const issues: Issue[] = [];

  if (rule.requesters.users.length === 0 && rule.requesters.groups.length === 0) {
    issues.push({ path: at('requesters'), message: 'must name at least one user or group' });
  }

  const t = rule.targets;
  if (t.groups !== undefined && (t.accounts !== undefined || t.permissionSets !== undefined)) {
    issues.push({ path: at('targets', 'groups'), message: 'a rule targets either accounts with permissionSets, or groups, not both' });
  } else if (t.groups !== undefined) {
    if (t.groups.length === 0) issues.push({ path: at('targets', 'groups'), message: 'must list at least one group' });
  } else if (t.accounts === undefined && t.permissionSets === undefined) {
    issues.push({ path: at('targets'), message: 'must give accounts with permissionSets, or groups' });
  } else {
    if (t.accounts === undefined) issues.push({ path: at('targets'), message: 'accounts is required with permissionSets' });
    else if (t.accounts.ids.length === 0 && t.accounts.ous.length === 0 && Object.keys(t.accounts.tags).length === 0) {
      issues.push({ path: at('targets', 'accounts'), message: 'needs at least one selector: ids, ous or tags' });
    }
    if (t.permissionSets === undefined) issues.push({ path: at('targets'), message: 'permissionSets is required with accounts' });
    else if (t.permissionSets.length === 0) issues.push({ path: at('targets', 'permissionSets'), message: 'must list at least one permission set' });
  }

  const bounds = mergeBounds(rule.duration, defaults, at('duration'));
  issues.push(...orderIssues(bounds, rule.duration ? at('duration') : at()));

  const a = rule.approval;
  const approvers = a.approvers ?? { users: [], groups: [] };
  if (!a.autoApprove) {
    if (approvers.users.length === 0 && approvers.groups.length === 0) {
      issues.push({
        path: a.approvers ? at('approval', 'approvers') : at('approval'),
        message: 'approvers (users or groups) are required unless autoApprove is true',
      });
    } else if (approvers.groups.length === 0) {
      const distinct = new Set(approvers.users.map((u) => u.toLowerCase())).size;
      if (a.quorum > distinct) {
        issues.push({
          path: at('approval', 'quorum'),
          message: `quorum ${a.quorum} can never be reached: only ${distinct} approver user${distinct === 1 ? '' : 's'} listed and no approver groups`,
        });
      }
    }
  }
  return issues;
}

/**
 * Bounds in effect for one scope. A rule inherits each missing field from
 * defaults (then built-ins). maxTotal falls back to the rule's own max when the
 * rule sets one, else to defaults' maxTotal, else to the max in effect.
 */
function mergeBounds(
  own: RuleInput['duration'] | undefined,
  defaults: DefaultsInput | undefined,
  ownPath: Path,
): Record<BoundName, BoundValue> {
  const pick = (name: Exclude<BoundName, 'maxTotal'>): BoundValue => {
    const mine = own?.[name];
    if (mine !== undefined) return { value: mine, path: [...ownPath, name], origin: 'here' };
    const fromDefaults = defaults?.duration?.[name];
    if (fromDefaults !== undefined) return { value: fromDefaults, path: ['defaults', 'duration', name], origin: 'defaults' };
    return { value: BUILTIN_DEFAULTS.duration[name], origin: 'built-in' };
  };
  const max = pick('max');
  let maxTotal: BoundValue;
  if (own?.maxTotal !== undefined) maxTotal = { value: own.maxTotal, path: [...ownPath, 'maxTotal'], origin: 'here' };
  else if (own?.max === undefined && defaults?.duration?.maxTotal !== undefined) {
    maxTotal = { value: defaults.duration.maxTotal, path: ['defaults', 'duration', 'maxTotal'], origin: 'defaults' };
  } else maxTotal = max;
  return { min: pick('min'), max, default: pick('default'), maxTotal };
}

function orderIssues(bounds: Record<BoundName, BoundValue>, scopePath: Path): Issue[] {
  const pairs: [BoundName, BoundName][] = [
    ['min', 'default'],
    ['default', 'max'],
    ['max', 'maxTotal'],
  ];
  const issues: Issue[] = [];
  for (const [lo, hi] of pairs) {
    const a = bounds[lo];
    const b = bounds[hi];
    if (durationMsOf(a.value) <= durationMsOf(b.value)) continue;
    // Point at the field written in this scope: the one the author can change here.
    const path = a.origin === 'here' ? a.path : b.origin === 'here' ? b.path : undefined;
    issues.push({
      path: path ?? scopePath,
      message: `${lo} ${a.value}${originNote(a)} must not be above ${hi} ${b.value}${originNote(b)}`,
    });
  }
  return issues;
}

function originNote(v: BoundValue): string {
  return v.origin === 'defaults' ? ' (from defaults)' : v.origin === 'built-in' ? ' (built-in default)' : '';
}

function durationMsOf(text: string): number {
  return parseDuration(text) ?? Number.NaN;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---- normalization ----

function normalize(input: PolicyInput): PolicyDocument {
  const d = input.defaults;
  const defaultBounds: DurationBounds = {
    min: d?.duration?.min ?? BUILTIN_DEFAULTS.duration.min,
    max: d?.duration?.max ?? BUILTIN_DEFAULTS.duration.max,
    default: d?.duration?.default ?? BUILTIN_DEFAULTS.duration.default,
    maxTotal: d?.duration?.maxTotal ?? d?.duration?.max ?? BUILTIN_DEFAULTS.duration.max,
  };
  const defaults: PolicyDocument['defaults'] = {
    pendingExpiry: d?.pendingExpiry ?? BUILTIN_DEFAULTS.pendingExpiry,
    duration: defaultBounds,
    ...(d?.slack ? { slack: { channel: d.slack.channel } } : {}),
  };
  return {
    version: 1,
    admins: principals(input.admins),
    auditors: principals(input.auditors),
    defaults,
    reconcile: { removeUnmanaged: input.reconcile?.removeUnmanaged ?? false },
    rules: input.rules.map((r) => normalizeRule(r, defaults)),
  };
}

function normalizeRule(r: RuleInput, defaults: PolicyDocument['defaults']): PolicyRule {
  const max = r.duration?.max ?? defaults.duration.max;
  const maxTotal = r.duration?.maxTotal ?? (r.duration?.max !== undefined ? r.duration.max : defaults.duration.maxTotal);
  const rule: PolicyRule = {
    id: r.id,
    requesters: principals(r.requesters),
    targets:
      r.targets.groups !== undefined
        ? { type: 'group', groups: [...r.targets.groups] }
        : {
            type: 'account',
            accounts: {
              ids: [...(r.targets.accounts?.ids ?? [])],
              ous: [...(r.targets.accounts?.ous ?? [])],
              tags: Object.fromEntries(
                Object.entries(r.targets.accounts?.tags ?? {}).map(([k, v]) => [k, Array.isArray(v) ? [...v] : [v]]),
              ),
            },
            permissionSets: [...(r.targets.permissionSets ?? [])],
          },
    duration: {
      min: r.duration?.min ?? defaults.duration.min,
      max,
      default: r.duration?.default ?? defaults.duration.default,
      maxTotal,
    },
    approval: {
      autoApprove: r.approval.autoApprove,
      approvers: principals(r.approval.approvers),
      quorum: r.approval.quorum,
      allowSelfApproval: r.approval.allowSelfApproval,
    },
    pendingExpiry: r.pendingExpiry ?? defaults.pendingExpiry,
  };
  if (r.description !== undefined) rule.description = r.description;
  const slack = r.slack ?? defaults.slack;
  if (slack) rule.slack = { channel: slack.channel };
  return rule;
}

function principals(p: Partial<Principals> | undefined): Principals {
  return { users: [...(p?.users ?? [])], groups: [...(p?.groups ?? [])] };
}
