/**
 * Local IAM Identity Center (sso-admin + identitystore) and Organizations,
 * speaking awsJson1_1 through the `JsonService` contract of local/protocol/aws.ts.
 *
 * Semantics modelled on the real services (see README / DESIGN "Platform facts"):
 * - Create/DeleteAccountAssignment answer IN_PROGRESS with a RequestId; the
 *   status becomes SUCCEEDED or FAILED (with FailureReason) once the provisioning
 *   delay has passed. The assignment appears in (or leaves) the List* answers only
 *   when the operation SUCCEEDED.
 * - Creating an assignment that already exists SUCCEEDS and changes nothing.
 * - Deleting an assignment that does not exist answers ResourceNotFoundException
 *   at once (what AWS, and moto, do; Terraform's provider relies on it).
 * - A create or delete while another operation on the same assignment is still
 *   IN_PROGRESS answers ConflictException (the write raced one that has not
 *   propagated; callers retry with backoff).
 * - Quotas: a collective token bucket (20 TPS) over sso-admin + identitystore
 *   answers ThrottlingException; more than 10 outstanding (IN_PROGRESS) async
 *   assignment operations answer ThrottlingException too. Organizations is not
 *   part of that bucket.
 * - An unknown principal or an account outside the organization is accepted and
 *   then FAILS with a 404-style FailureReason, like AWS's async validation.
 * - CreateGroupMembership is synchronous; a duplicate is ConflictException
 *   (Reason UNIQUENESS_CONSTRAINT_VIOLATION). DeleteGroupMembership of an unknown
 *   id is ResourceNotFoundException.
 * - GetUserId by emails.value compares case-insensitively; userName exactly.
 *
 * Time is read from an injectable clock and operations settle lazily (on the
 * next call), so there are no timers: tests drive time with a manual clock.
 */
import { randomUUID } from 'node:crypto';
import { AwsError, type JsonService } from '../protocol/aws.ts';
import { loadOrgFixture, type OrgFixture } from './fixture.ts';
import { DEFAULT_KNOBS, parseKnobs, type IdcKnobs, type IdcKnobsInput } from './knobs.ts';

export const SSO_ADMIN_TARGET_PREFIX = 'SWBExternalService';
export const IDENTITY_STORE_TARGET_PREFIX = 'AWSIdentityStore';
export const ORGANIZATIONS_TARGET_PREFIX = 'AWSOrganizationsV20161128';

export interface EmulatorClock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export interface IdcEmulatorOptions {
  /** A resolved fixture or the path of a YAML fixture file. */
  fixture: OrgFixture | string;
  knobs?: IdcKnobsInput;
  clock?: EmulatorClock;
  /** Source of randomness for delays and fault rates, [0, 1). */
  random?: () => number;
  /** State saved by `snapshot()` (e.g. read from the local cloud's state file). */
  snapshot?: IdcSnapshot;
  /** Called after every state change, e.g. to persist `snapshot()`. */
  onChange?: () => void;
}

export type PrincipalType = 'USER' | 'GROUP';
type OperationKind = 'CREATE' | 'DELETE';
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
}

export interface IdcStats {
  calls: Record<string, number>;
  throttled: number;
  quotaRejected: number;
  injected: number;
}

export interface IdentityCenterEmulator {
  /** The three services, ready for the edge endpoint (or `serveJsonServices`). */
  services: JsonService[];
  ssoAdmin: JsonService;
  identityStore: JsonService;
  organizations: JsonService;
  fixture: OrgFixture;
  knobs(): IdcKnobs;
  /** Shallow-merges into the current knobs (and refills the throttle bucket). */
  setKnobs(patch: Partial<IdcKnobsInput>): void;
  assignments(): AssignmentView[];
  memberships(): MembershipView[];
  operations(): OperationView[];
  /** Ends every IN_PROGRESS operation now, as if its delay had passed. */
  flush(): void;
  snapshot(): IdcSnapshot;
  restore(snapshot: IdcSnapshot): void;
  stats(): IdcStats;
  userId(userName: string): string;
  groupId(displayName: string): string;
  permissionSetArn(name: string): string;
}

const systemClock: EmulatorClock = { now: () => Date.now() };

function assignmentKey(a: { accountId: string; permissionSetArn: string; principalType: string; principalId: string }): string {
  return `${a.accountId}|${a.permissionSetArn}|${a.principalType}|${a.principalId}`;
}

const epochSeconds = (ms: number) => ms / 1000;

function validation(message: string): AwsError {
  return new AwsError('ValidationException', message);
}

function requireString(input: Record<string, unknown>, name: string): string {
  const v = input[name];
  if (typeof v !== 'string' || v.length === 0) {
    throw validation(`1 validation error detected: Value null at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`);
  }
  return v;
}

function optionalString(input: Record<string, unknown>, name: string): string | undefined {
  const v = input[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw validation(`${name} must be a string`);
  return v;
}

function requireObject(input: Record<string, unknown>, name: string): Record<string, unknown> {
  const v = input[name];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw validation(`1 validation error detected: Value null at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`);
  }
  return v as Record<string, unknown>;
}

/** Offset pagination with an opaque token, as the real APIs expose it. */
function paginate<T>(
  items: T[],
  input: Record<string, unknown>,
  opts: { defaultMax: number; maxMax: number; invalid: (msg: string) => AwsError },
): { page: T[]; nextToken?: string } {
  const rawMax = input.MaxResults;
  let max = opts.defaultMax;
  if (rawMax !== undefined && rawMax !== null) {
    if (typeof rawMax !== 'number' || !Number.isInteger(rawMax) || rawMax < 1 || rawMax > opts.maxMax) {
      throw opts.invalid(`MaxResults must be an integer between 1 and ${opts.maxMax}`);
    }
    max = rawMax;
  }
  let offset = 0;
  const token = input.NextToken;
  if (token !== undefined && token !== null) {
    const decoded = typeof token === 'string' ? /^p(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8')) : null;
    if (!decoded) throw opts.invalid('The NextToken is not valid.');
    offset = Number(decoded[1]);
  }
  const page = items.slice(offset, offset + max);
  const next = offset + max < items.length ? Buffer.from(`p${offset + max}`).toString('base64url') : undefined;
  return next ? { page, nextToken: next } : { page };
}

export function createIdentityCenterEmulator(options: IdcEmulatorOptions): IdentityCenterEmulator {
  const fixture = typeof options.fixture === 'string' ? loadOrgFixture(options.fixture) : options.fixture;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const storeId = fixture.instance.identityStoreId;
  const instanceArn = fixture.instance.arn;
  const mgmt = fixture.organization.managementAccountId;
  const orgId = fixture.organization.id;
  const rootId = fixture.organization.rootId;

  let knobs: IdcKnobs = options.knobs ? parseKnobs(options.knobs) : DEFAULT_KNOBS;
  let faultFired: number[] = knobs.faults.map(() => 0);
  const bucket = { tokens: 0, last: clock.now() };
  const refillBucket = () => {
    bucket.tokens = knobs.throttleBurst ?? knobs.throttleTps;
    bucket.last = clock.now();
  };
  refillBucket();

  const stats: IdcStats = { calls: {}, throttled: 0, quotaRejected: 0, injected: 0 };
  let assignments = new Map<string, AssignmentView>();
  let memberships = new Map<string, MembershipView>();
  let operations = new Map<string, OperationView>();

  const seed = () => {
    assignments = new Map(fixture.assignments.map((a) => [assignmentKey(a), { ...a, preExisting: true }]));
    memberships = new Map(fixture.memberships.map((m) => [m.membershipId, { ...m, preExisting: true }]));
    operations = new Map();
  };
  const restore = (s: IdcSnapshot) => {
    if (s.version !== 1) throw new Error(`Unsupported Identity Center snapshot version ${String(s.version)}`);
    if (s.instanceArn !== instanceArn) {
      throw new Error(`Identity Center snapshot is for instance ${s.instanceArn}, the fixture's instance is ${instanceArn}`);
    }
    assignments = new Map(s.assignments.map((a) => [assignmentKey(a), { ...a }]));
    memberships = new Map(s.memberships.map((m) => [m.membershipId, { ...m }]));
    operations = new Map(s.operations.map((o) => [o.requestId, { ...o }]));
  };
  seed();
  if (options.snapshot) restore(options.snapshot);

  const changed = () => options.onChange?.();

  const usersById = new Map(fixture.users.map((u) => [u.id, u]));
  const groupsById = new Map(fixture.groups.map((g) => [g.id, g]));
  const accountsById = new Map(fixture.accounts.map((a) => [a.id, a]));
  const ousById = new Map(fixture.ous.map((o) => [o.id, o]));
  const permissionSetsByArn = new Map(fixture.permissionSets.map((p) => [p.arn, p]));

  /** Applies every operation whose delay has passed, oldest completion first. */
  const settle = () => {
    const now = clock.now();
    const due = [...operations.values()].filter((o) => o.status === 'IN_PROGRESS' && o.completesAt <= now).sort((a, b) => a.completesAt - b.completesAt);
    for (const op of due) {
      op.status = op.outcome;
      if (op.outcome === 'FAILED') {
        op.failureReason = op.outcomeReason ?? 'Internal failure';
        continue;
      }
      const key = assignmentKey(op);
      if (op.kind === 'CREATE') {
        if (!assignments.has(key)) {
          assignments.set(key, {
            accountId: op.accountId,
            permissionSetArn: op.permissionSetArn,
            principalType: op.principalType,
            principalId: op.principalId,
            preExisting: false,
          });
        }
      } else {
        assignments.delete(key);
      }
    }
    if (due.length > 0) changed();
  };

  const takeToken = (): boolean => {
    if (knobs.throttleTps <= 0) return true;
    const now = clock.now();
    const capacity = knobs.throttleBurst ?? knobs.throttleTps;
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.last) / 1000) * knobs.throttleTps);
    bucket.last = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return true;
    }
    return false;
  };

  interface CallFacts {
    operation: string;
    accountId?: string;
    principalId?: string;
    permissionSetArn?: string;
    groupId?: string;
  }
  const factsOf = (operation: string, input: Record<string, unknown>): CallFacts => {
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
  };

  /** The first fault rule that matches this call and fires (rate, times). */
  const matchFault = (facts: CallFacts, type: 'fail' | 'error') => {
    for (const [i, rule] of knobs.faults.entries()) {
      if (rule.effect.type !== type) continue;
      if (rule.operations && !rule.operations.includes(facts.operation)) continue;
      if (rule.accountId && rule.accountId !== facts.accountId) continue;
      if (rule.principalId && rule.principalId !== facts.principalId) continue;
      if (rule.permissionSetArn && rule.permissionSetArn !== facts.permissionSetArn) continue;
      if (rule.groupId && rule.groupId !== facts.groupId) continue;
      if (rule.times !== undefined && (faultFired[i] ?? 0) >= rule.times) continue;
      if (rule.rate < 1 && random() >= rule.rate) continue;
      faultFired[i] = (faultFired[i] ?? 0) + 1;
      stats.injected++;
      return rule.effect;
    }
    return undefined;
  };

  const injectedErrors: Record<string, { message: string; status: number }> = {
    ThrottlingException: { message: 'Rate exceeded', status: 400 },
    ConflictException: { message: 'Operation on this resource is in progress. Retry later.', status: 400 },
    InternalServerException: { message: 'An unexpected error occurred. Retry the request.', status: 500 },
    AccessDeniedException: { message: 'You do not have sufficient access to perform this action.', status: 400 },
    ResourceNotFoundException: { message: 'The requested resource was not found.', status: 400 },
    ValidationException: { message: 'Injected validation failure.', status: 400 },
    ServiceQuotaExceededException: { message: 'Service quota exceeded.', status: 400 },
  };

  /** Common gate for every call: count, settle, throttle (Identity Center only), injected errors. */
  const enter = (operation: string, input: Record<string, unknown>, throttled: boolean) => {
    stats.calls[operation] = (stats.calls[operation] ?? 0) + 1;
    settle();
    if (throttled && !takeToken()) {
      stats.throttled++;
      throw new AwsError('ThrottlingException', 'Rate exceeded');
    }
    const effect = matchFault(factsOf(operation, input), 'error');
    if (effect?.type === 'error') {
      const known = injectedErrors[effect.code];
      throw new AwsError(effect.code, effect.message ?? known?.message ?? effect.code, known?.status ?? 400);
    }
  };

  // ---------------------------------------------------------------- sso-admin

  const checkInstance = (input: Record<string, unknown>) => {
    const arn = requireString(input, 'InstanceArn');
    if (arn !== instanceArn) throw new AwsError('ResourceNotFoundException', `Instance ${arn} does not exist.`);
  };

  const requirePermissionSet = (input: Record<string, unknown>) => {
    const arn = requireString(input, 'PermissionSetArn');
    const ps = permissionSetsByArn.get(arn);
    if (!ps) throw new AwsError('ResourceNotFoundException', `Could not find PermissionSet with id ${arn.split('/').pop() ?? arn}`);
    return ps;
  };

  const statusView = (op: OperationView) => ({
    Status: op.status,
    RequestId: op.requestId,
    ...(op.failureReason ? { FailureReason: op.failureReason } : {}),
    TargetId: op.accountId,
    TargetType: 'AWS_ACCOUNT',
    PermissionSetArn: op.permissionSetArn,
    PrincipalType: op.principalType,
    PrincipalId: op.principalId,
    CreatedDate: epochSeconds(op.createdAt),
  });

  const startAssignmentOperation = (kind: OperationKind, operation: string, input: Record<string, unknown>) => {
    checkInstance(input);
    const accountId = requireString(input, 'TargetId');
    if (!/^\d{12}$/.test(accountId)) throw validation(`TargetId ${accountId} is not a valid account id`);
    const targetType = requireString(input, 'TargetType');
    if (targetType !== 'AWS_ACCOUNT') throw validation(`TargetType must be AWS_ACCOUNT`);
    const principalType = requireString(input, 'PrincipalType');
    if (principalType !== 'USER' && principalType !== 'GROUP') throw validation(`PrincipalType must be USER or GROUP`);
    const principalId = requireString(input, 'PrincipalId');
    const ps = requirePermissionSet(input);
    if (fixture.instance.delegatedAdministrator && accountId === mgmt) {
      throw new AwsError(
        'AccessDeniedException',
        `User is not authorized to manage assignments on the management account ${mgmt} from a delegated administrator account.`,
      );
    }
    const target = { accountId, permissionSetArn: ps.arn, principalType, principalId } as const;
    const key = assignmentKey(target);
    const pending = [...operations.values()].find((o) => o.status === 'IN_PROGRESS' && assignmentKey(o) === key);
    if (pending) {
      throw new AwsError('ConflictException', `An account assignment operation (${pending.requestId}) is in progress for this principal, permission set and account. Retry later.`);
    }
    if (kind === 'DELETE' && !assignments.has(key)) {
      throw new AwsError('ResourceNotFoundException', 'The specified account assignment does not exist.');
    }
    const outstanding = [...operations.values()].filter((o) => o.status === 'IN_PROGRESS').length;
    if (knobs.maxOutstandingAsync > 0 && outstanding >= knobs.maxOutstandingAsync) {
      stats.quotaRejected++;
      throw new AwsError(
        'ThrottlingException',
        `Too many outstanding account assignment operations (limit ${knobs.maxOutstandingAsync}). Wait for some to complete and retry.`,
      );
    }

    let outcome: 'SUCCEEDED' | 'FAILED' = 'SUCCEEDED';
    let outcomeReason: string | undefined;
    const principalKnown = principalType === 'USER' ? usersById.has(principalId) : groupsById.has(principalId);
    if (!principalKnown && kind === 'CREATE') {
      outcome = 'FAILED';
      outcomeReason = `Received a 404 status error: the ${principalType} assignee ${principalId} was not found in directory ${storeId}`;
    } else if (!accountsById.has(accountId) && kind === 'CREATE') {
      outcome = 'FAILED';
      outcomeReason = `Received a 404 status error: account ${accountId} is not a member of organization ${orgId}`;
    } else {
      const effect = matchFault(factsOf(operation, input), 'fail');
      if (effect?.type === 'fail') {
        outcome = 'FAILED';
        outcomeReason = effect.reason;
      }
    }
    const { minMs, maxMs } = knobs.provisioningDelayMs;
    const now = clock.now();
    const op: OperationView = {
      requestId: randomUUID(),
      kind,
      status: 'IN_PROGRESS',
      ...target,
      createdAt: now,
      completesAt: now + minMs + Math.floor(random() * (maxMs - minMs + 1)),
      outcome,
      ...(outcomeReason ? { outcomeReason } : {}),
    };
    operations.set(op.requestId, op);
    changed();
    return statusView(op);
  };

  const describeOperation = (kind: OperationKind, input: Record<string, unknown>, idField: string) => {
    checkInstance(input);
    const id = requireString(input, idField);
    const op = operations.get(id);
    if (!op || op.kind !== kind) throw new AwsError('ResourceNotFoundException', `Request ${id} does not exist.`);
    return statusView(op);
  };

  const ssoAdminInvalid = (msg: string) => validation(msg);

  const ssoAdminOps: Record<string, (input: Record<string, unknown>) => unknown> = {
    ListInstances: (input) => {
      const instance = {
        InstanceArn: instanceArn,
        IdentityStoreId: storeId,
        OwnerAccountId: fixture.instance.ownerAccountId,
        ...(fixture.instance.name ? { Name: fixture.instance.name } : {}),
        Status: 'ACTIVE',
        CreatedDate: 1_600_000_000,
      };
      const { page, nextToken } = paginate([instance], input, { defaultMax: 100, maxMax: 100, invalid: ssoAdminInvalid });
      return { Instances: page, ...(nextToken ? { NextToken: nextToken } : {}) };
    },
    ListPermissionSets: (input) => {
      checkInstance(input);
      const arns = fixture.permissionSets.map((p) => p.arn);
      const { page, nextToken } = paginate(arns, input, { defaultMax: 100, maxMax: 100, invalid: ssoAdminInvalid });
      return { PermissionSets: page, ...(nextToken ? { NextToken: nextToken } : {}) };
    },
    DescribePermissionSet: (input) => {
      checkInstance(input);
      const ps = requirePermissionSet(input);
      return {
        PermissionSet: {
          Name: ps.name,
          PermissionSetArn: ps.arn,
          ...(ps.description ? { Description: ps.description } : {}),
          CreatedDate: 1_600_000_000,
          SessionDuration: ps.sessionDuration,
        },
      };
    },
    CreateAccountAssignment: (input) => ({ AccountAssignmentCreationStatus: startAssignmentOperation('CREATE', 'CreateAccountAssignment', input) }),
    DeleteAccountAssignment: (input) => ({ AccountAssignmentDeletionStatus: startAssignmentOperation('DELETE', 'DeleteAccountAssignment', input) }),
    DescribeAccountAssignmentCreationStatus: (input) => ({
      AccountAssignmentCreationStatus: describeOperation('CREATE', input, 'AccountAssignmentCreationRequestId'),
    }),
    DescribeAccountAssignmentDeletionStatus: (input) => ({
      AccountAssignmentDeletionStatus: describeOperation('DELETE', input, 'AccountAssignmentDeletionRequestId'),
    }),
    ListAccountAssignments: (input) => {
      checkInstance(input);
      const accountId = requireString(input, 'AccountId');
      const ps = requirePermissionSet(input);
      const rows = [...assignments.values()]
        .filter((a) => a.accountId === accountId && a.permissionSetArn === ps.arn)
        .map((a) => ({ AccountId: a.accountId, PermissionSetArn: a.permissionSetArn, PrincipalType: a.principalType, PrincipalId: a.principalId }));
      const { page, nextToken } = paginate(rows, input, { defaultMax: 100, maxMax: 100, invalid: ssoAdminInvalid });
      return { AccountAssignments: page, ...(nextToken ? { NextToken: nextToken } : {}) };
    },
    ListAccountAssignmentsForPrincipal: (input) => {
      checkInstance(input);
      const principalId = requireString(input, 'PrincipalId');
      const principalType = requireString(input, 'PrincipalType');
      const filter = (input.Filter ?? {}) as { AccountId?: unknown };
      const accountFilter = typeof filter.AccountId === 'string' ? filter.AccountId : undefined;
      const rows = [...assignments.values()]
        .filter((a) => a.principalId === principalId && a.principalType === principalType && (!accountFilter || a.accountId === accountFilter))
        .map((a) => ({ AccountId: a.accountId, PermissionSetArn: a.permissionSetArn, PrincipalId: a.principalId, PrincipalType: a.principalType }));
      const { page, nextToken } = paginate(rows, input, { defaultMax: 100, maxMax: 100, invalid: ssoAdminInvalid });
      return { AccountAssignments: page, ...(nextToken ? { NextToken: nextToken } : {}) };
    },
  };

  // ------------------------------------------------------------ identitystore

  const checkStore = (input: Record<string, unknown>) => {
    const id = requireString(input, 'IdentityStoreId');
    if (id !== storeId) throw new AwsError('ResourceNotFoundException', `IdentityStore ${id} does not exist.`);
  };
  const notFound = (type: string, id?: string) =>
    new AwsError('ResourceNotFoundException', `${type} not found.${id ? ` (${id})` : ''}`);

  const uniqueAttribute = (input: Record<string, unknown>) => {
    const alt = requireObject(input, 'AlternateIdentifier');
    if (alt.ExternalId) throw validation('ExternalId alternate identifiers are not supported by this Identity Store (no external IdP).');
    const unique = alt.UniqueAttribute as { AttributePath?: unknown; AttributeValue?: unknown } | undefined;
    if (!unique || typeof unique.AttributePath !== 'string') throw validation('AlternateIdentifier must have a UniqueAttribute or an ExternalId');
    if (typeof unique.AttributeValue !== 'string' || unique.AttributeValue === '') {
      throw validation('attribute value cannot be empty or null for attribute path');
    }
    return { path: unique.AttributePath, value: unique.AttributeValue };
  };

  const describeUser = (id: string) => {
    const u = usersById.get(id);
    if (!u) throw notFound('USER', id);
    return {
      IdentityStoreId: storeId,
      UserId: u.id,
      UserName: u.userName,
      Name: { GivenName: u.givenName, FamilyName: u.familyName, Formatted: `${u.givenName} ${u.familyName}` },
      DisplayName: u.displayName,
      Emails: [{ Value: u.email, Type: 'work', Primary: true }],
    };
  };

  const memberUserId = (input: Record<string, unknown>) => {
    const member = requireObject(input, 'MemberId');
    if (typeof member.UserId !== 'string' || !member.UserId) throw validation('MemberId must have a UserId');
    return member.UserId;
  };

  const membershipView = (m: MembershipView) => ({
    IdentityStoreId: storeId,
    MembershipId: m.membershipId,
    GroupId: m.groupId,
    MemberId: { UserId: m.userId },
  });

  const findMembership = (groupId: string, userId: string) => [...memberships.values()].find((m) => m.groupId === groupId && m.userId === userId);

  const identityStoreOps: Record<string, (input: Record<string, unknown>) => unknown> = {
    GetUserId: (input) => {
      checkStore(input);
      const { path, value } = uniqueAttribute(input);
      let user;
      if (path.toLowerCase() === 'username') user = fixture.users.find((u) => u.userName === value);
      else if (path.toLowerCase() === 'emails.value') user = fixture.users.find((u) => u.email.toLowerCase() === value.toLowerCase());
      else throw validation(`The attribute ${path} is not a unique attribute`);
      if (!user) throw notFound('USER');
      return { UserId: user.id, IdentityStoreId: storeId };
    },
    DescribeUser: (input) => {
      checkStore(input);
      return describeUser(requireString(input, 'UserId'));
    },
    GetGroupId: (input) => {
      checkStore(input);
      const { path, value } = uniqueAttribute(input);
      if (path.toLowerCase() !== 'displayname') throw validation(`The attribute ${path} is not a unique attribute`);
      const group = fixture.groups.find((g) => g.displayName === value);
      if (!group) throw notFound('GROUP');
      return { GroupId: group.id, IdentityStoreId: storeId };
    },
    DescribeGroup: (input) => {
      checkStore(input);
      const id = requireString(input, 'GroupId');
      const g = groupsById.get(id);
      if (!g) throw notFound('GROUP', id);
      return { GroupId: g.id, DisplayName: g.displayName, ...(g.description ? { Description: g.description } : {}), IdentityStoreId: storeId };
    },
    CreateGroupMembership: (input) => {
      checkStore(input);
      const groupId = requireString(input, 'GroupId');
      const userId = memberUserId(input);
      if (!groupsById.has(groupId)) throw notFound('GROUP', groupId);
      if (!usersById.has(userId)) throw notFound('USER', userId);
      if (findMembership(groupId, userId)) {
        throw new AwsError('ConflictException', 'Member is already in the group. (UNIQUENESS_CONSTRAINT_VIOLATION)');
      }
      // Each new membership gets a fresh id, as in AWS (a re-created one differs from the deleted one).
      const id = randomUUID();
      memberships.set(id, { membershipId: id, groupId, userId, preExisting: false });
      changed();
      return { MembershipId: id, IdentityStoreId: storeId };
    },
    DeleteGroupMembership: (input) => {
      checkStore(input);
      const id = requireString(input, 'MembershipId');
      if (!memberships.delete(id)) throw notFound('GROUP_MEMBERSHIP', id);
      changed();
      return {};
    },
    GetGroupMembershipId: (input) => {
      checkStore(input);
      const groupId = requireString(input, 'GroupId');
      const userId = memberUserId(input);
      const m = findMembership(groupId, userId);
      if (!m) throw notFound('GROUP_MEMBERSHIP');
      return { MembershipId: m.membershipId, IdentityStoreId: storeId };
    },
    ListGroupMemberships: (input) => {
      checkStore(input);
      const groupId = requireString(input, 'GroupId');
      const rows = [...memberships.values()].filter((m) => m.groupId === groupId).map(membershipView);
      const { page, nextToken } = paginate(rows, input, { defaultMax: 100, maxMax: 100, invalid: validation });
      return { GroupMemberships: page, ...(nextToken ? { NextToken: nextToken } : {}) };
    },
    ListGroupMembershipsForMember: (input) => {
      checkStore(input);
      const userId = memberUserId(input);
      const rows = [...memberships.values()].filter((m) => m.userId === userId).map(membershipView);
      const { page, nextToken } = paginate(rows, input, { defaultMax: 100, maxMax: 100, invalid: validation });
      return { GroupMemberships: page, ...(nextToken ? { NextToken: nextToken } : {}) };
    },
    IsMemberInGroups: (input) => {
      checkStore(input);
      const userId = memberUserId(input);
      const groupIds = input.GroupIds;
      if (!Array.isArray(groupIds) || groupIds.length === 0 || groupIds.length > 100 || groupIds.some((g) => typeof g !== 'string')) {
        throw validation('GroupIds must be a list of 1 to 100 group ids');
      }
      return {
        Results: (groupIds as string[]).map((groupId) => ({ GroupId: groupId, MemberId: { UserId: userId }, MembershipExists: !!findMembership(groupId, userId) })),
      };
    },
  };

  // ------------------------------------------------------------ organizations

  const orgArn = `arn:aws:organizations::${mgmt}:organization/${orgId}`;
  const accountView = (a: (typeof fixture.accounts)[number]) => ({
    Id: a.id,
    Arn: `arn:aws:organizations::${mgmt}:account/${orgId}/${a.id}`,
    Email: a.email,
    Name: a.name,
    Status: 'ACTIVE',
    State: 'ACTIVE',
    JoinedMethod: a.id === mgmt ? 'INVITED' : 'CREATED',
    JoinedTimestamp: 1_600_000_000,
  });
  const ouView = (o: (typeof fixture.ous)[number]) => ({ Id: o.id, Arn: `arn:aws:organizations::${mgmt}:ou/${orgId}/${o.id}`, Name: o.name });
  const orgInvalid = (msg: string) => new AwsError('InvalidInputException', msg);
  const orgPage = <T>(items: T[], input: Record<string, unknown>) => paginate(items, input, { defaultMax: 20, maxMax: 20, invalid: orgInvalid });
  const requireParent = (input: Record<string, unknown>) => {
    const id = requireString(input, 'ParentId');
    if (id !== rootId && !ousById.has(id)) throw new AwsError('ParentNotFoundException', 'We can\'t find a root or OU with the ParentId that you specified.');
    return id;
  };
  const requireAccount = (id: string) => {
    const a = accountsById.get(id);
    if (!a) throw new AwsError('AccountNotFoundException', 'You specified an account that doesn\'t exist.');
    return a;
  };

  const organizationsOps: Record<string, (input: Record<string, unknown>) => unknown> = {
    DescribeOrganization: () => ({
      Organization: {
        Id: orgId,
        Arn: orgArn,
        FeatureSet: 'ALL',
        MasterAccountArn: `arn:aws:organizations::${mgmt}:account/${orgId}/${mgmt}`,
        MasterAccountId: mgmt,
        MasterAccountEmail: fixture.organization.managementAccountEmail,
        AvailablePolicyTypes: [],
      },
    }),
    ListRoots: (input) => {
      const { page, nextToken } = orgPage(
        [{ Id: rootId, Arn: `arn:aws:organizations::${mgmt}:root/${orgId}/${rootId}`, Name: 'Root', PolicyTypes: [] }],
        input,
      );
      return { Roots: page, ...(nextToken ? { NextToken: nextToken } : {}) };
    },
    ListAccounts: (input) => {
      const { page, nextToken } = orgPage(fixture.accounts.map(accountView), input);
      return { Accounts: page, ...(nextToken ? { NextToken: nextToken } : {}) };
    },
    DescribeAccount: (input) => ({ Account: accountView(requireAccount(requireString(input, 'AccountId'))) }),
    ListAccountsForParent: (input) => {
      const parentId = requireParent(input);
      const { page, nextToken } = orgPage(fixture.accounts.filter((a) => a.parentId === parentId).map(accountView), input);
      return { Accounts: page, ...(nextToken ? { NextToken: nextToken } : {}) };
    },
    ListOrganizationalUnitsForParent: (input) => {
      const parentId = requireParent(input);
      const { page, nextToken } = orgPage(fixture.ous.filter((o) => o.parentId === parentId).map(ouView), input);
      return { OrganizationalUnits: page, ...(nextToken ? { NextToken: nextToken } : {}) };
    },
    DescribeOrganizationalUnit: (input) => {
      const id = requireString(input, 'OrganizationalUnitId');
      const ou = ousById.get(id);
      if (!ou) throw new AwsError('OrganizationalUnitNotFoundException', 'We can\'t find an OU with the OrganizationalUnitId that you specified.');
      return { OrganizationalUnit: ouView(ou) };
    },
    ListParents: (input) => {
      const id = requireString(input, 'ChildId');
      const parentId = accountsById.get(id)?.parentId ?? ousById.get(id)?.parentId;
      if (!parentId) throw new AwsError('ChildNotFoundException', 'We can\'t find an organizational unit (OU) or AWS account with the ChildId that you specified.');
      const { page, nextToken } = orgPage([{ Id: parentId, Type: parentId === rootId ? 'ROOT' : 'ORGANIZATIONAL_UNIT' }], input);
      return { Parents: page, ...(nextToken ? { NextToken: nextToken } : {}) };
    },
    ListChildren: (input) => {
      const parentId = requireParent(input);
      const type = requireString(input, 'ChildType');
      let children: { Id: string; Type: string }[];
      if (type === 'ACCOUNT') children = fixture.accounts.filter((a) => a.parentId === parentId).map((a) => ({ Id: a.id, Type: 'ACCOUNT' }));
      else if (type === 'ORGANIZATIONAL_UNIT') children = fixture.ous.filter((o) => o.parentId === parentId).map((o) => ({ Id: o.id, Type: 'ORGANIZATIONAL_UNIT' }));
      else throw orgInvalid('You specified an invalid value.');
      const { page, nextToken } = orgPage(children, input);
      return { Children: page, ...(nextToken ? { NextToken: nextToken } : {}) };
    },
    ListTagsForResource: (input) => {
      const id = requireString(input, 'ResourceId');
      let tags: Record<string, string>;
      if (accountsById.has(id)) tags = accountsById.get(id)?.tags ?? {};
      else if (ousById.has(id) || id === rootId) tags = {};
      else throw new AwsError('TargetNotFoundException', 'We can\'t find a root, OU, account, or policy with the TargetId that you specified.');
      const { page, nextToken } = orgPage(Object.entries(tags).map(([Key, Value]) => ({ Key, Value })), input);
      return { Tags: page, ...(nextToken ? { NextToken: nextToken } : {}) };
    },
  };

  const makeService = (prefix: string, ops: Record<string, (input: Record<string, unknown>) => unknown>, throttled: boolean): JsonService => ({
    targetPrefixes: [prefix],
    handle: async (operation, input) => {
      const op = ops[operation];
      if (!op) throw new AwsError('UnknownOperationException', `Operation ${operation} is not supported by the local ${prefix} emulator.`);
      enter(operation, input ?? {}, throttled);
      return op(input ?? {});
    },
  });

  const ssoAdmin = makeService(SSO_ADMIN_TARGET_PREFIX, ssoAdminOps, true);
  const identityStore = makeService(IDENTITY_STORE_TARGET_PREFIX, identityStoreOps, true);
  const organizations = makeService(ORGANIZATIONS_TARGET_PREFIX, organizationsOps, false);

  const byName = <T>(list: T[], pick: (t: T) => string, name: string, what: string): T => {
    const found = list.find((t) => pick(t) === name);
    if (!found) throw new Error(`The fixture has no ${what} "${name}"`);
    return found;
  };

  return {
    services: [ssoAdmin, identityStore, organizations],
    ssoAdmin,
    identityStore,
    organizations,
    fixture,
    knobs: () => knobs,
    setKnobs: (patch) => {
      knobs = parseKnobs({ ...knobs, ...patch }, 'setKnobs');
      faultFired = knobs.faults.map(() => 0);
      refillBucket();
    },
    assignments: () => {
      settle();
      return [...assignments.values()].map((a) => ({ ...a }));
    },
    memberships: () => [...memberships.values()].map((m) => ({ ...m })),
    operations: () => {
      settle();
      return [...operations.values()].map((o) => ({ ...o }));
    },
    flush: () => {
      const now = clock.now();
      for (const op of operations.values()) if (op.status === 'IN_PROGRESS') op.completesAt = Math.min(op.completesAt, now);
      settle();
    },
    snapshot: () => {
      settle();
      return {
        version: 1,
        instanceArn,
        assignments: [...assignments.values()].map((a) => ({ ...a })),
        memberships: [...memberships.values()].map((m) => ({ ...m })),
        operations: [...operations.values()].map((o) => ({ ...o })),
      };
    },
    restore: (s) => {
      restore(s);
      changed();
    },
    stats: () => ({ ...stats, calls: { ...stats.calls } }),
    userId: (userName) => byName(fixture.users, (u) => u.userName, userName, 'user').id,
    groupId: (displayName) => byName(fixture.groups, (g) => g.displayName, displayName, 'group').id,
    permissionSetArn: (name) => byName(fixture.permissionSets, (p) => p.name, name, 'permission set').arn,
  };
}
