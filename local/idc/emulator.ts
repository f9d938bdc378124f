/**
 * Local IAM Identity Center (sso-admin + identitystore) and Organizations,
 * speaking awsJson1_1 through the `JsonService` contract of local/protocol/aws.ts: one module
 * per service (sso-admin.ts, identity-store.ts, organizations.ts) over one shared state
 * (state.ts: the directory, assignments, operations, quotas and fault injection).
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
 * - Organizations service control policies (organization-policies.ts): AWS's size and
 *   attachment limits; FullAWSAccess on every target at start; a change reaches the
 *   accounts `scpPropagationSeconds` after it was made.
 * - Role sessions (role-sessions.ts, access-portal.ts): GetRoleCredentials issues them while the
 *   user holds the permission set; they last the permission set's SessionDuration and are
 *   refused once an SCP on their account denies them (never on the management account).
 */
import type { JsonService, RestService } from '../protocol/aws.ts';
import { createAccessPortal, type BearerVerifier } from './access-portal.ts';
import { RoleSessions } from './role-sessions.ts';
import { loadOrgFixture, type OrgFixture } from './fixture.ts';
import { createIdentityStore } from './identity-store.ts';
import type { IdcKnobs, IdcKnobsInput } from './knobs.ts';
import { createOrganizations } from './organizations.ts';
import type { OrganizationPolicies } from './organization-policies.ts';
import { createSsoAdmin } from './sso-admin.ts';
import { IdcState, type AssignmentView, type EmulatorClock, type IdcSnapshot, type IdcStats, type MembershipView, type OperationView } from './state.ts';

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

export interface IdentityCenterEmulator {
  /** The three services, ready for the edge endpoint (or `serveJsonServices`). */
  services: JsonService[];
  ssoAdmin: JsonService;
  identityStore: JsonService;
  organizations: JsonService;
  /** The service control policies and what applies to each account (the sessions' SCP check reads it). */
  organizationPolicies: OrganizationPolicies;
  /** Role sessions issued by the access portal, and whether each may still act. */
  sessions: RoleSessions;
  /** The access portal's GetRoleCredentials, accepting the bearer tokens `verifyBearer` accepts. */
  accessPortal(verifyBearer: BearerVerifier): RestService;
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

export function createIdentityCenterEmulator(options: IdcEmulatorOptions): IdentityCenterEmulator {
  const fixture = typeof options.fixture === 'string' ? loadOrgFixture(options.fixture) : options.fixture;
  const state = new IdcState({ ...options, fixture });
  const ssoAdmin = createSsoAdmin(state);
  const identityStore = createIdentityStore(state);
  const organizations = createOrganizations(state);
  const sessions = new RoleSessions(state);

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
    organizationPolicies: state.organizationPolicies,
    sessions,
    accessPortal: (verifyBearer) => createAccessPortal(state, sessions, verifyBearer),
    fixture,
    knobs: () => state.knobs,
    setKnobs: (patch) => state.setKnobs(patch),
    assignments: () => {
      state.settle();
      return [...state.assignments.values()].map((a) => ({ ...a }));
    },
    memberships: () => [...state.memberships.values()].map((m) => ({ ...m })),
    operations: () => {
      state.settle();
      return [...state.operations.values()].map((o) => ({ ...o }));
    },
    flush: () => state.flush(),
    snapshot: () => state.snapshot(),
    restore: (s) => {
      state.restore(s);
      state.changed();
    },
    stats: () => ({ ...state.stats, calls: { ...state.stats.calls }, callsPerSecond: { ...state.stats.callsPerSecond } }),
    userId: (userName) => byName(fixture.users, (u) => u.userName, userName, 'user').id,
    groupId: (displayName) => byName(fixture.groups, (g) => g.displayName, displayName, 'group').id,
    permissionSetArn: (name) => byName(fixture.permissionSets, (p) => p.name, name, 'permission set').arn,
  };
}
