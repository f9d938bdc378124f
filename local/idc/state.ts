/**
 * What the three local services (sso-admin, identitystore, organizations) share: the
 * organization and directory from the fixture, the assignments, memberships and async
 * operations, the quotas (the collective token bucket over sso-admin + identitystore and the
 * outstanding-operations limit), fault injection, counters, and the gate every call passes.
 *
 * Time is read from an injectable clock and operations settle lazily (on the next call), so
 * there are no timers: tests drive time with a manual clock.
 */
import { AwsError, pageAnswer, type JsonService } from '../protocol/aws.ts';
import type { OrgFixture } from './fixture.ts';
import { DEFAULT_KNOBS, parseKnobs, type IdcKnobs, type IdcKnobsInput } from './knobs.ts';
import { OrganizationPolicies, type PoliciesSnapshot } from './organization-policies.ts';
import type { RoleSession } from './role-sessions.ts';

export interface EmulatorClock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export type PrincipalType = 'USER' | 'GROUP';
export type OperationKind = 'CREATE' | 'DELETE';
type OperationStatus = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';

export interface AssignmentView {
  accountId: string;
  permissionSetArn: string;
  principalType: PrincipalType;
  principalId: string;
  /** From the fixture: permanent access the JIT system must never remove. */
  preExisting: boolean;
}

export interface MembershipView {
  membershipId: string;
  groupId: string;
  userId: string;
  preExisting: boolean;
}

export interface OperationView {
  requestId: string;
  kind: OperationKind;
  status: OperationStatus;
  failureReason?: string;
  accountId: string;
  permissionSetArn: string;
  principalType: PrincipalType;
  principalId: string;
  /** Epoch ms. */
  createdAt: number;
  completesAt: number;
  /** What the operation will end as (decided when it was accepted). */
  outcome: 'SUCCEEDED' | 'FAILED';
  outcomeReason?: string;
}

export interface IdcSnapshot {
  version: 1;
  instanceArn: string;
  assignments: AssignmentView[];
  memberships: MembershipView[];
  operations: OperationView[];
  /** Service control policies, their attachments and Organizations tags (absent: as seeded). */
  organizationPolicies?: PoliciesSnapshot;
  /** Role sessions the access portal issued (absent: none). */
  roleSessions?: RoleSession[];
  /** `<account>|<permission set ARN>` pairs provisioned (absent in snapshots written before it was kept). */
  provisioned?: string[];
}

export interface IdcStats {
  calls: Record<string, number>;
  /** Calls into the throttle bucket per second (epoch second → count), the last CALL_WINDOWS_KEPT seconds: how fast callers really went. */
  callsPerSecond: Record<number, number>;
  throttled: number;
  quotaRejected: number;
  injected: number;
}

export interface IdcStateOptions {
  fixture: OrgFixture;
  knobs?: IdcKnobsInput;
  clock?: EmulatorClock;
  /** Source of randomness for delays and fault rates, [0, 1). */
  random?: () => number;
  snapshot?: IdcSnapshot;
  /** Called after every state change. */
  onChange?: () => void;
}

/** One operation's handler: the input as sent, the output to answer. */
export type Operations = Record<string, (input: Record<string, unknown>) => unknown>;

export function assignmentKey(a: { accountId: string; permissionSetArn: string; principalType: string; principalId: string }): string {
  return `${a.accountId}|${a.permissionSetArn}|${a.principalType}|${a.principalId}`;
}

/** An account × permission set pair as the provisioned set keys it. */
export function provisionedKey(accountId: string, permissionSetArn: string): string {
  return `${accountId}|${permissionSetArn}`;
}

export function validation(message: string): AwsError {
  return new AwsError('ValidationException', message);
}

/** A page of a List* answer as sso-admin and identitystore page: MaxResults 1..100 (default 100), a bad one or a bad NextToken is ValidationException. */
export function identityCenterPage(member: string, items: readonly unknown[], input: Record<string, unknown>): Record<string, unknown> {
  return pageAnswer(member, items, { maxResults: input.MaxResults, nextToken: input.NextToken }, { defaultMax: 100, maxMax: 100, invalid: validation });
}

/** What a fault rule may match a call on. */
interface CallFacts {
  operation: string;
  accountId?: string;
  principalId?: string;
  permissionSetArn?: string;
  groupId?: string;
}

function factsOf(operation: string, input: Record<string, unknown>): CallFacts {
  const member = input.MemberId as { UserId?: unknown } | undefined;
  const pick = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const facts: CallFacts = { operation };
  const accountId = pick(input.TargetId) ?? pick(input.AccountId);
  const principalId = pick(input.PrincipalId) ?? pick(member?.UserId);
  const permissionSetArn = pick(input.PermissionSetArn);
  const groupId = pick(input.GroupId);
  if (accountId) facts.accountId = accountId;
  if (principalId) facts.principalId = principalId;
  if (permissionSetArn) facts.permissionSetArn = permissionSetArn;
  if (groupId) facts.groupId = groupId;
  return facts;
}

const INJECTED_ERRORS: Record<string, { message: string; status: number }> = {
  ThrottlingException: { message: 'Rate exceeded', status: 400 },
  ConflictException: { message: 'Operation on this resource is in progress. Retry later.', status: 400 },
  InternalServerException: { message: 'An unexpected error occurred. Retry the request.', status: 500 },
  AccessDeniedException: { message: 'You do not have sufficient access to perform this action.', status: 400 },
  ResourceNotFoundException: { message: 'The requested resource was not found.', status: 400 },
  ValidationException: { message: 'Injected validation failure.', status: 400 },
  ServiceQuotaExceededException: { message: 'Service quota exceeded.', status: 400 },
  TooManyRequestsException: { message: 'You have sent too many requests in too short a period of time. Try again later.', status: 400 },
  ConcurrentModificationException: { message: 'The target of the operation is currently being modified by a different request. Try again later.', status: 400 },
};

/** Seconds of per-second call counts kept. */
const CALL_WINDOWS_KEPT = 600;

const systemClock: EmulatorClock = { now: () => Date.now() };

export class IdcState {
  readonly fixture: OrgFixture;
  readonly clock: EmulatorClock;
  readonly random: () => number;
  readonly stats: IdcStats = { calls: {}, callsPerSecond: {}, throttled: 0, quotaRejected: 0, injected: 0 };
  readonly usersById: Map<string, OrgFixture['users'][number]>;
  readonly groupsById: Map<string, OrgFixture['groups'][number]>;
  readonly accountsById: Map<string, OrgFixture['accounts'][number]>;
  readonly ousById: Map<string, OrgFixture['ous'][number]>;
  readonly permissionSetsByArn: Map<string, OrgFixture['permissionSets'][number]>;
  assignments = new Map<string, AssignmentView>();
  memberships = new Map<string, MembershipView>();
  operations = new Map<string, OperationView>();
  readonly organizationPolicies: OrganizationPolicies;
  /** Role sessions by access key id. */
  roleSessions = new Map<string, RoleSession>();
  /** Permission sets provisioned to accounts: by the fixture, and by every assignment created (deleting it leaves the set provisioned, as in AWS). */
  provisioned = new Set<string>();
  private currentKnobs: IdcKnobs;
  private faultFired: number[];
  private readonly bucket = { tokens: 0, last: 0 };
  private readonly onChange: (() => void) | undefined;

  constructor(options: IdcStateOptions) {
    this.fixture = options.fixture;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.onChange = options.onChange;
    this.currentKnobs = options.knobs ? parseKnobs(options.knobs) : DEFAULT_KNOBS;
    this.faultFired = this.currentKnobs.faults.map(() => 0);
    this.refillBucket();
    const f = this.fixture;
    this.usersById = new Map(f.users.map((u) => [u.id, u]));
    this.groupsById = new Map(f.groups.map((g) => [g.id, g]));
    this.accountsById = new Map(f.accounts.map((a) => [a.id, a]));
    this.ousById = new Map(f.ous.map((o) => [o.id, o]));
    this.permissionSetsByArn = new Map(f.permissionSets.map((p) => [p.arn, p]));
    this.assignments = new Map(f.assignments.map((a) => [assignmentKey(a), { ...a, preExisting: true }]));
    this.memberships = new Map(f.memberships.map((m) => [m.membershipId, { ...m, preExisting: true }]));
    this.organizationPolicies = new OrganizationPolicies(f, () => this.clock.now(), () => this.currentKnobs.scpPropagationSeconds * 1000);
    this.provisioned = new Set([...f.assignments, ...f.provisioned].map((a) => provisionedKey(a.accountId, a.permissionSetArn)));
    if (options.snapshot) this.restore(options.snapshot);
  }

  get knobs(): IdcKnobs {
    return this.currentKnobs;
  }

  /** Shallow-merges into the current knobs, re-arms the fault rules and refills the throttle bucket. */
  setKnobs(patch: Partial<IdcKnobsInput>): void {
    this.currentKnobs = parseKnobs({ ...this.currentKnobs, ...patch }, 'setKnobs');
    this.faultFired = this.currentKnobs.faults.map(() => 0);
    this.refillBucket();
  }

  changed(): void {
    this.onChange?.();
  }

  /** Applies every operation whose delay has passed, oldest completion first. */
  settle(): void {
    const now = this.clock.now();
    const due = [...this.operations.values()].filter((o) => o.status === 'IN_PROGRESS' && o.completesAt <= now).sort((a, b) => a.completesAt - b.completesAt);
    for (const op of due) {
      op.status = op.outcome;
      if (op.outcome === 'FAILED') {
        op.failureReason = op.outcomeReason ?? 'Internal failure';
        continue;
      }
      const key = assignmentKey(op);
      if (op.kind === 'CREATE') {
        this.provisioned.add(provisionedKey(op.accountId, op.permissionSetArn));
        if (!this.assignments.has(key)) {
          this.assignments.set(key, {
            accountId: op.accountId,
            permissionSetArn: op.permissionSetArn,
            principalType: op.principalType,
            principalId: op.principalId,
            preExisting: false,
          });
        }
      } else {
        this.assignments.delete(key);
      }
    }
    if (due.length > 0) this.changed();
  }

  /** Ends every IN_PROGRESS operation now, as if its delay had passed. */
  flush(): void {
    const now = this.clock.now();
    for (const op of this.operations.values()) if (op.status === 'IN_PROGRESS') op.completesAt = Math.min(op.completesAt, now);
    this.settle();
  }

  /** The quota on async assignment operations: more than the limit IN_PROGRESS is ThrottlingException. */
  checkOutstandingQuota(): void {
    const limit = this.currentKnobs.maxOutstandingAsync;
    const outstanding = [...this.operations.values()].filter((o) => o.status === 'IN_PROGRESS').length;
    if (limit > 0 && outstanding >= limit) {
      this.stats.quotaRejected++;
      throw new AwsError('ThrottlingException', `Too many outstanding account assignment operations (limit ${limit}). Wait for some to complete and retry.`);
    }
  }

  /** The reason an accepted async operation will FAIL with, when a `fail` fault rule fires for it. */
  injectedFailure(operation: string, input: Record<string, unknown>): string | undefined {
    const effect = this.matchFault(factsOf(operation, input), 'fail');
    return effect?.type === 'fail' ? effect.reason : undefined;
  }

  /** One of the services, behind the gate every call passes: count, settle, throttle (Identity Center only), injected errors. */
  service(prefix: string, operations: Operations, throttled: boolean): JsonService {
    return {
      targetPrefixes: [prefix],
      handle: async (operation, input) => {
        const op = operations[operation];
        if (!op) throw new AwsError('UnknownOperationException', `Operation ${operation} is not supported by the local ${prefix} emulator.`);
        this.enter(operation, input ?? {}, throttled);
        return op(input ?? {});
      },
    };
  }

  snapshot(): IdcSnapshot {
    this.settle();
    return {
      version: 1,
      instanceArn: this.fixture.instance.arn,
      assignments: [...this.assignments.values()].map((a) => ({ ...a })),
      memberships: [...this.memberships.values()].map((m) => ({ ...m })),
      operations: [...this.operations.values()].map((o) => ({ ...o })),
      organizationPolicies: this.organizationPolicies.snapshot(),
      roleSessions: [...this.roleSessions.values()].map((r) => ({ ...r })),
      provisioned: [...this.provisioned],
    };
  }

  restore(s: IdcSnapshot): void {
    const instanceArn = this.fixture.instance.arn;
    if (s.version !== 1) throw new Error(`Unsupported Identity Center snapshot version ${String(s.version)}`);
    if (s.instanceArn !== instanceArn) {
      throw new Error(`Identity Center snapshot is for instance ${s.instanceArn}, the fixture's instance is ${instanceArn}`);
    }
    this.assignments = new Map(s.assignments.map((a) => [assignmentKey(a), { ...a }]));
    this.memberships = new Map(s.memberships.map((m) => [m.membershipId, { ...m }]));
    this.operations = new Map(s.operations.map((o) => [o.requestId, { ...o }]));
    this.organizationPolicies.restore(s.organizationPolicies);
    this.roleSessions = new Map((s.roleSessions ?? []).map((r) => [r.accessKeyId, { ...r }]));
    for (const pair of s.provisioned ?? []) this.provisioned.add(pair);
    for (const a of s.assignments) this.provisioned.add(provisionedKey(a.accountId, a.permissionSetArn));
  }

  private enter(operation: string, input: Record<string, unknown>, throttled: boolean): void {
    this.stats.calls[operation] = (this.stats.calls[operation] ?? 0) + 1;
    this.settle();
    if (throttled) this.countSecond();
    if (throttled && !this.takeToken()) {
      this.stats.throttled++;
      throw new AwsError('ThrottlingException', 'Rate exceeded');
    }
    const effect = this.matchFault(factsOf(operation, input), 'error');
    if (effect?.type === 'error') {
      const known = INJECTED_ERRORS[effect.code];
      throw new AwsError(effect.code, effect.message ?? known?.message ?? effect.code, known?.status ?? 400);
    }
  }

  private countSecond(): void {
    const second = Math.floor(this.clock.now() / 1000);
    const windows = this.stats.callsPerSecond;
    windows[second] = (windows[second] ?? 0) + 1;
    for (const key of Object.keys(windows)) if (Number(key) <= second - CALL_WINDOWS_KEPT) delete windows[Number(key)];
  }

  private refillBucket(): void {
    this.bucket.tokens = this.currentKnobs.throttleBurst ?? this.currentKnobs.throttleTps;
    this.bucket.last = this.clock.now();
  }

  private takeToken(): boolean {
    const { throttleTps, throttleBurst } = this.currentKnobs;
    if (throttleTps <= 0) return true;
    const now = this.clock.now();
    const capacity = throttleBurst ?? throttleTps;
    this.bucket.tokens = Math.min(capacity, this.bucket.tokens + ((now - this.bucket.last) / 1000) * throttleTps);
    this.bucket.last = now;
    if (this.bucket.tokens >= 1) {
      this.bucket.tokens -= 1;
      return true;
    }
    return false;
  }

  /** The first fault rule that matches this call and fires (rate, times). */
  private matchFault(facts: CallFacts, type: 'fail' | 'error') {
    for (const [i, rule] of this.currentKnobs.faults.entries()) {
      if (rule.effect.type !== type) continue;
      if (rule.operations && !rule.operations.includes(facts.operation)) continue;
      if (rule.accountId && rule.accountId !== facts.accountId) continue;
      if (rule.principalId && rule.principalId !== facts.principalId) continue;
      if (rule.permissionSetArn && rule.permissionSetArn !== facts.permissionSetArn) continue;
      if (rule.groupId && rule.groupId !== facts.groupId) continue;
      if (rule.times !== undefined && (this.faultFired[i] ?? 0) >= rule.times) continue;
      if (rule.rate < 1 && this.random() >= rule.rate) continue;
      this.faultFired[i] = (this.faultFired[i] ?? 0) + 1;
      this.stats.injected++;
      return rule.effect;
    }
    return undefined;
  }
}
