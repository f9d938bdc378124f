/**
 * IAM Identity Center + Organizations through the AWS SDK v3.
 *
 * - `IdentityCenterDirectory` implements the `Directory` port (read side policy
 *   and eligibility need): GetUserId with a unique attribute (never a ListUsers
 *   scan), emails case-insensitive, names→ids cached per container with a TTL,
 *   OU paths through ListParents up to the root, tags via ListTagsForResource.
 * - `IdentityCenterWriter` holds the calls Lambda code needs around the
 *   workflows' writes (the `IdentityCenterAccess` port): does an assignment /
 *   membership exist, delete them with ConflictException retried, and wait for
 *   an async status. The state machines create them (SDK integrations).
 *
 * The instance ARN and identity store id come from options or, when absent,
 * from ListInstances (the first instance). Clients retry throttling with the
 * SDK's adaptive mode (SDK_RETRY); ConflictException, which the SDK does not
 * retry, goes through `withAwsRetry`. Optionally every client uses credentials
 * from STS AssumeRole (role ARN + external ID) in the account that holds
 * Identity Center.
 *
 * Identity Store is loaded with the module (every API request looks up its
 * caller); SSO Admin, Organizations and STS load on first use
 * (lib/adapters/lazy-sdk.ts), so their command classes come from `lazySdk`.
 */
import type { AccountAssignmentOperationStatus, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import {
  DeleteGroupMembershipCommand,
  DescribeUserCommand,
  GetGroupIdCommand,
  GetGroupMembershipIdCommand,
  GetUserIdCommand,
  IdentitystoreClient,
  ListGroupMembershipsForMemberCommand,
  type DescribeUserCommandOutput,
} from '@aws-sdk/client-identitystore';
import type { Account, OrganizationsClient } from '@aws-sdk/client-organizations';
import type { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { ConfigError } from '../errors.ts';
import type { AccountInfo, Directory, IdentityUser } from '../ports/index.ts';
import { TtlCache } from '../ttl-cache.ts';
import { errorName, finishClient, SDK_RETRY, withAwsRetry, type RetryOptions } from './aws-retry.ts';
import { clientProvider, lazySdk, type ClientSource } from './lazy-sdk.ts';

export interface AssumeRoleConfig {
  roleArn: string;
  externalId?: string;
  sessionName?: string;
  durationSeconds?: number;
}

export interface IdentityCenterConfig {
  region?: string;
  /** From config; else ListInstances (first instance). */
  instanceArn?: string;
  identityStoreId?: string;
  assumeRole?: AssumeRoleConfig;
  /** SDK attempts per call, throttling included (default 8). */
  maxAttempts?: number;
  /** Default 'adaptive' (SDK_RETRY): client-side rate limiting once throttled (the 20 TPS quota is shared). */
  retryMode?: 'standard' | 'adaptive';
}

/** The clients as the adapters hold them: Identity Store built, the others built on first use. */
export interface IdentityCenterClients {
  ssoAdmin: () => Promise<SSOAdminClient>;
  /**
   * SSO Admin with one attempt per call and no client-side rate limiter (the standard mode): for a
   * caller that paces its own retries (a revocation's prompt delete). The adaptive mode's limiter,
   * once throttled, would hold every later call back for seconds, however few they are.
   */
  ssoAdminSingleAttempt: () => Promise<SSOAdminClient>;
  identityStore: IdentitystoreClient;
  organizations: () => Promise<OrganizationsClient>;
}

/** Clients given by the caller: instances (tests, scripts) or providers (the runtime's shared lazy clients). */
export interface IdentityCenterClientSources {
  ssoAdmin?: ClientSource<SSOAdminClient>;
  /** Without it: a single-attempt client built from the config, or `ssoAdmin` itself when that is given. */
  ssoAdminSingleAttempt?: ClientSource<SSOAdminClient>;
  identityStore?: IdentitystoreClient;
  organizations?: ClientSource<OrganizationsClient>;
}

export interface IdentityCenterOptions extends IdentityCenterConfig {
  /** Clients to use as they are (tests, or shared clients); the missing ones are built from the config. */
  clients?: IdentityCenterClientSources;
  /** How long names→ids and account facts are cached (default 5 minutes). */
  cacheTtlMs?: number;
  /** How long a user's group memberships may be reused for requests and reads (default 30 s; approvals always ask afresh). */
  membershipTtlMs?: number;
  now?: () => number;
  /** Backoff for the errors the SDK does not retry (ConflictException). */
  retry?: RetryOptions;
}

/** Refresh assumed-role credentials this long before they expire. */
const CREDENTIAL_REFRESH_MARGIN_MS = 5 * 60_000;

/** Credentials from STS AssumeRole, cached until shortly before they expire; concurrent callers share one call. */
export function assumeRoleCredentials(
  role: AssumeRoleConfig,
  opts: { region?: string; sts?: ClientSource<STSClient>; now?: () => number } = {},
): AwsCredentialIdentityProvider {
  const sts = clientProvider(opts.sts ?? (async () => new (await lazySdk.sts()).STSClient({ ...(opts.region ? { region: opts.region } : {}), maxAttempts: 8 })));
  const now = opts.now ?? Date.now;
  let cached: AwsCredentialIdentity | undefined;
  let inflight: Promise<AwsCredentialIdentity> | undefined;
  const assumeRole = async () => {
    const [client, { AssumeRoleCommand }] = await Promise.all([sts(), lazySdk.sts()]);
    return client.send(
      new AssumeRoleCommand({
        RoleArn: role.roleArn,
        RoleSessionName: role.sessionName ?? 'identity-center-jit',
        ...(role.externalId ? { ExternalId: role.externalId } : {}),
        ...(role.durationSeconds ? { DurationSeconds: role.durationSeconds } : {}),
      }),
    );
  };
  return async () => {
    if (cached?.expiration && cached.expiration.getTime() - now() > CREDENTIAL_REFRESH_MARGIN_MS) return cached;
    inflight ??= assumeRole()
      .then((out) => {
        const c = out.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`AssumeRole ${role.roleArn} returned no credentials`);
        cached = {
          accessKeyId: c.AccessKeyId,
          secretAccessKey: c.SecretAccessKey,
          ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
          ...(c.Expiration ? { expiration: c.Expiration } : {}),
        };
        return cached;
      })
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };
}

/**
 * Builds the three clients with retries configured (and assumed-role credentials when configured):
 * Identity Store now, SSO Admin and Organizations on first use. The clients built here share one
 * credentials provider, so one AssumeRole serves all three.
 */
export function createIdentityCenterClients(config: IdentityCenterConfig = {}, existing: IdentityCenterClientSources = {}): IdentityCenterClients {
  let common: ConstructorParameters<typeof IdentitystoreClient>[0] | undefined;
  const settings = () =>
    (common ??= {
      ...(config.region ? { region: config.region } : {}),
      maxAttempts: config.maxAttempts ?? SDK_RETRY.maxAttempts,
      retryMode: config.retryMode ?? SDK_RETRY.retryMode,
      ...(config.assumeRole ? { credentials: assumeRoleCredentials(config.assumeRole, config.region ? { region: config.region } : {}) } : {}),
    });
  const ssoAdmin = clientProvider(existing.ssoAdmin ?? (async () => finishClient(new (await lazySdk.ssoAdmin()).SSOAdminClient(settings()))));
  const singleAttempt = existing.ssoAdminSingleAttempt ?? (existing.ssoAdmin ? ssoAdmin : async () => finishClient(new (await lazySdk.ssoAdmin()).SSOAdminClient({ ...settings(), maxAttempts: 1, retryMode: 'standard' })));
  return {
    ssoAdmin,
    ssoAdminSingleAttempt: clientProvider(singleAttempt),
    identityStore: existing.identityStore ?? finishClient(new IdentitystoreClient(settings())),
    organizations: clientProvider(existing.organizations ?? (async () => finishClient(new (await lazySdk.organizations()).OrganizationsClient(settings())))),
  };
}

export interface InstanceIds {
  instanceArn: string;
  identityStoreId: string;
}

/** Base of the directory and the writer: clients, instance resolution, retry settings. */
abstract class IdentityCenterBase {
  readonly clients: IdentityCenterClients;
  protected readonly now: () => number;
  protected readonly retry: RetryOptions;
  private instancePromise: Promise<InstanceIds> | undefined;

  constructor(protected readonly options: IdentityCenterOptions = {}) {
    this.clients = createIdentityCenterClients(options, options.clients);
    this.now = options.now ?? Date.now;
    this.retry = options.retry ?? {};
  }

  /** The SSO Admin client and its package's commands (both loaded on first use). */
  async ssoAdminApi() {
    const [client, sdk] = await Promise.all([this.clients.ssoAdmin(), lazySdk.ssoAdmin()]);
    return { client, sdk };
  }

  /** The Organizations client and its package's commands (both loaded on first use). */
  async organizationsApi() {
    const [client, sdk] = await Promise.all([this.clients.organizations(), lazySdk.organizations()]);
    return { client, sdk };
  }

  /** The configured instance, or the first one ListInstances reports (resolved once per container). */
  instance(): Promise<InstanceIds> {
    const { instanceArn, identityStoreId } = this.options;
    if (instanceArn && identityStoreId) return Promise.resolve({ instanceArn, identityStoreId });
    this.instancePromise ??= this.ssoAdminApi().then(async ({ client, sdk }) => {
      const out = await client.send(new sdk.ListInstancesCommand({}));
      const found = instanceArn ? out.Instances?.find((i) => i.InstanceArn === instanceArn) : out.Instances?.[0];
      if (!found?.InstanceArn || !found.IdentityStoreId) {
        throw new ConfigError(
          instanceArn
            ? `IAM Identity Center instance ${instanceArn} is not visible to these credentials`
            : 'No IAM Identity Center instance is visible to these credentials: set the instance ARN and identity store id in config',
        );
      }
      return { instanceArn: found.InstanceArn, identityStoreId: identityStoreId ?? found.IdentityStoreId };
    });
    this.instancePromise.catch(() => {
      this.instancePromise = undefined;
    });
    return this.instancePromise;
  }
}

const isNotFound = (e: unknown, ...names: string[]) => {
  const name = errorName(e);
  return name === 'ResourceNotFoundException' || (name !== undefined && names.includes(name));
};

function toIdentityUser(out: DescribeUserCommandOutput): IdentityUser {
  const email = out.Emails?.find((e) => e.Primary)?.Value ?? out.Emails?.[0]?.Value ?? '';
  return {
    userId: out.UserId ?? '',
    userName: out.UserName ?? '',
    email,
    ...(out.DisplayName ? { displayName: out.DisplayName } : {}),
  };
}

/** Runs `fn` over `items` with at most `limit` in flight (Organizations' own rate limits are low). */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const isActiveAccount = (a: Account) => (a.State ?? a.Status ?? 'ACTIVE') === 'ACTIVE';

export class IdentityCenterDirectory extends IdentityCenterBase implements Directory {
  private readonly userIds: TtlCache<string | undefined>;
  private readonly users: TtlCache<IdentityUser | undefined>;
  private readonly groupIds: TtlCache<string | undefined>;
  private readonly permissionSets: TtlCache<Map<string, string>>;
  private readonly accounts: TtlCache<AccountInfo | undefined>;
  private readonly accountList: TtlCache<AccountInfo[]>;
  private readonly ouParents: TtlCache<string | undefined>;
  private readonly management: TtlCache<string | undefined>;
  private readonly membershipTtlMs: number;

  constructor(options: IdentityCenterOptions = {}) {
    super(options);
    const ttl = options.cacheTtlMs ?? 5 * 60_000;
    this.membershipTtlMs = options.membershipTtlMs ?? 30_000;
    const cache = <V>() => new TtlCache<V>({ ttlMs: ttl, now: this.now, keepUndefined: false });
    this.userIds = cache();
    this.users = cache();
    this.groupIds = cache();
    this.permissionSets = cache();
    this.accounts = cache();
    this.accountList = cache();
    this.ouParents = cache();
    this.management = cache();
  }

  /** Forgets every cached name and account fact. */
  clearCache(): void {
    for (const c of [this.userIds, this.users, this.groupIds, this.permissionSets, this.accounts, this.accountList, this.ouParents, this.management]) c.clear();
    this.groupMemberships.clear();
  }

  private async getUserId(attributePath: 'userName' | 'emails.value', value: string): Promise<string | undefined> {
    const { identityStoreId } = await this.instance();
    try {
      const out = await this.clients.identityStore.send(
        new GetUserIdCommand({ IdentityStoreId: identityStoreId, AlternateIdentifier: { UniqueAttribute: { AttributePath: attributePath, AttributeValue: value } } }),
      );
      return out.UserId;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async findUserByEmail(email: string): Promise<IdentityUser | undefined> {
    const trimmed = email.trim();
    if (!trimmed) return undefined;
    const userId = await this.userIds.get(`email:${trimmed.toLowerCase()}`, async () => {
      // The Identity Store may hold the address in any case: as given first, then lower-cased.
      const exact = await this.getUserId('emails.value', trimmed);
      if (exact || trimmed === trimmed.toLowerCase()) return exact;
      return this.getUserId('emails.value', trimmed.toLowerCase());
    });
    return userId ? this.describeUser(userId) : undefined;
  }

  async findUserByUserName(userName: string): Promise<IdentityUser | undefined> {
    if (!userName) return undefined;
    const userId = await this.userIds.get(`userName:${userName}`, () => this.getUserId('userName', userName));
    return userId ? this.describeUser(userId) : undefined;
  }

  describeUser(userId: string): Promise<IdentityUser | undefined> {
    return this.users.get(userId, async () => {
      const { identityStoreId } = await this.instance();
      try {
        return toIdentityUser(await this.clients.identityStore.send(new DescribeUserCommand({ IdentityStoreId: identityStoreId, UserId: userId })));
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    });
  }

  private readonly groupLookups = new Map<string, Promise<string[]>>();
  private readonly groupMemberships = new Map<string, { at: number; ids: string[] }>();

  /**
   * Reused for `membershipTtlMs` (requests and reads stay within the shared 20 TPS
   * quota); `maxAgeMs: 0` asks Identity Center now, as approvals do. Concurrent
   * calls for one user share one lookup.
   */
  groupIdsOfUser(userId: string, options: { maxAgeMs?: number } = {}): Promise<string[]> {
    const maxAge = options.maxAgeMs ?? this.membershipTtlMs;
    const cached = this.groupMemberships.get(userId);
    if (cached && this.now() - cached.at < maxAge) return Promise.resolve(cached.ids);
    const inflight = this.groupLookups.get(userId);
    if (inflight && maxAge > 0) return inflight;
    const startedAt = this.now();
    const lookup = this.listGroupIds(userId)
      .then((ids) => {
        this.groupMemberships.set(userId, { at: startedAt, ids });
        return ids;
      })
      .finally(() => {
        if (this.groupLookups.get(userId) === lookup) this.groupLookups.delete(userId);
      });
    this.groupLookups.set(userId, lookup);
    return lookup;
  }

  private async listGroupIds(userId: string): Promise<string[]> {
    const { identityStoreId } = await this.instance();
    const ids: string[] = [];
    let token: string | undefined;
    do {
      const out = await this.clients.identityStore.send(
        new ListGroupMembershipsForMemberCommand({ IdentityStoreId: identityStoreId, MemberId: { UserId: userId }, ...(token ? { NextToken: token } : {}) }),
      );
      for (const m of out.GroupMemberships ?? []) if (m.GroupId) ids.push(m.GroupId);
      token = out.NextToken;
    } while (token);
    return ids;
  }

  findGroupId(displayName: string): Promise<string | undefined> {
    return this.groupIds.get(displayName, async () => {
      const { identityStoreId } = await this.instance();
      try {
        const out = await this.clients.identityStore.send(
          new GetGroupIdCommand({ IdentityStoreId: identityStoreId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'displayName', AttributeValue: displayName } } }),
        );
        return out.GroupId;
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    });
  }

  async findPermissionSetArn(name: string): Promise<string | undefined> {
    const byName = await this.permissionSets.get('all', async () => {
      const { instanceArn } = await this.instance();
      const { client, sdk } = await this.ssoAdminApi();
      const arns: string[] = [];
      let token: string | undefined;
      do {
        const out = await client.send(new sdk.ListPermissionSetsCommand({ InstanceArn: instanceArn, ...(token ? { NextToken: token } : {}) }));
        arns.push(...(out.PermissionSets ?? []));
        token = out.NextToken;
      } while (token);
      const described = await mapLimited(arns, 4, (arn) => client.send(new sdk.DescribePermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn })));
      return new Map(described.flatMap((d) => (d.PermissionSet?.Name && d.PermissionSet.PermissionSetArn ? [[d.PermissionSet.Name, d.PermissionSet.PermissionSetArn] as const] : [])));
    });
    return byName.get(name);
  }

  /** Parent of an account or OU; undefined when it is the root. */
  private parentOu(childId: string): Promise<string | undefined> {
    return this.ouParents.get(childId, async () => {
      const { client, sdk } = await this.organizationsApi();
      const out = await client.send(new sdk.ListParentsCommand({ ChildId: childId }));
      const parent = out.Parents?.[0];
      if (!parent?.Id || parent.Type === 'ROOT') return undefined;
      return parent.Id;
    });
  }

  private async ouPath(accountId: string): Promise<string[]> {
    const path: string[] = [];
    let current = await this.parentOu(accountId);
    // Organizations nests OUs at most 5 deep; the bound guards against a cycle in a broken fake.
    while (current && path.length < 10) {
      path.push(current);
      current = await this.parentOu(current);
    }
    return path;
  }

  private async accountInfo(account: Account): Promise<AccountInfo> {
    const id = account.Id ?? '';
    const [ouPath, tags] = await Promise.all([this.ouPath(id), this.tagsOf(id)]);
    return { id, name: account.Name ?? id, ouPath, tags };
  }

  private async tagsOf(resourceId: string): Promise<Record<string, string>> {
    const { client, sdk } = await this.organizationsApi();
    const tags: Record<string, string> = {};
    let token: string | undefined;
    do {
      const out = await client.send(new sdk.ListTagsForResourceCommand({ ResourceId: resourceId, ...(token ? { NextToken: token } : {}) }));
      for (const t of out.Tags ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? '';
      token = out.NextToken;
    } while (token);
    return tags;
  }

  describeAccount(accountId: string): Promise<AccountInfo | undefined> {
    return this.accounts.get(accountId, async () => {
      const { client, sdk } = await this.organizationsApi();
      try {
        const out = await client.send(new sdk.DescribeAccountCommand({ AccountId: accountId }));
        return out.Account && isActiveAccount(out.Account) ? this.accountInfo(out.Account) : undefined;
      } catch (e) {
        if (isNotFound(e, 'AccountNotFoundException')) return undefined;
        throw e;
      }
    });
  }

  listAccounts(): Promise<AccountInfo[]> {
    return this.accountList.get('all', async () => {
      const { client, sdk } = await this.organizationsApi();
      const accounts: Account[] = [];
      let token: string | undefined;
      do {
        const out = await client.send(new sdk.ListAccountsCommand({ ...(token ? { NextToken: token } : {}) }));
        accounts.push(...(out.Accounts ?? []).filter(isActiveAccount));
        token = out.NextToken;
      } while (token);
      return mapLimited(accounts, 4, (a) => this.accountInfo(a));
    });
  }

  managementAccountId(): Promise<string | undefined> {
    return this.management.get('id', async () => {
      const { client, sdk } = await this.organizationsApi();
      try {
        const out = await client.send(new sdk.DescribeOrganizationCommand({}));
        return out.Organization?.MasterAccountId;
      } catch (e) {
        if (errorName(e) === 'AWSOrganizationsNotInUseException') return undefined;
        throw e;
      }
    });
  }
}

export type AssignmentOperationKind = 'create' | 'delete';

/** The parameters of DeleteAccountAssignment (CreateAccountAssignment's too, in the grant state machine). */
function assignmentParameters(instanceArn: string, ref: AssignmentRef) {
  return {
    InstanceArn: instanceArn,
    TargetId: ref.accountId,
    TargetType: 'AWS_ACCOUNT' as const,
    PermissionSetArn: ref.permissionSetArn,
    PrincipalType: ref.principalType ?? ('USER' as const),
    PrincipalId: ref.principalId,
  };
}

export interface AssignmentRef {
  principalId: string;
  accountId: string;
  permissionSetArn: string;
  principalType?: 'USER' | 'GROUP';
}

export interface AssignmentStatus {
  requestId: string;
  status: 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';
  failureReason?: string;
}

function toStatus(s: AccountAssignmentOperationStatus | undefined): AssignmentStatus {
  if (!s?.RequestId || !s.Status) throw new Error('Identity Center returned an assignment operation without RequestId or Status');
  return { requestId: s.RequestId, status: s.Status, ...(s.FailureReason ? { failureReason: s.FailureReason } : {}) };
}

/** The errors a prompt delete tries again at once: the quota's and Identity Center's own transient ones. */
const PROMPT_RETRIED = new Set(['ThrottlingException', 'TooManyRequestsException', 'InternalServerException', 'ServiceUnavailableException']);

/** 50 ms doubling up to 400 ms, each drawn between half and all of it (callers throttled together spread out). */
const promptRetryPause = (attempt: number) => {
  const ceiling = Math.min(400, 50 * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
};

/** Write-side Identity Center calls for Lambda code (the workflows create through SDK integrations). */
export class IdentityCenterWriter extends IdentityCenterBase {
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: IdentityCenterOptions & { sleep?: (ms: number) => Promise<void> } = {}) {
    super(options);
    this.sleep = options.sleep ?? options.retry?.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  private retried<T>(call: () => Promise<T>): Promise<T> {
    return withAwsRetry(call, { sleep: this.sleep, ...this.retry });
  }

  /** Whether Identity Center holds this assignment now (ListAccountAssignments, filtered). */
  async assignmentExists(principalId: string, accountId: string, permissionSetArn: string, principalType: 'USER' | 'GROUP' = 'USER'): Promise<boolean> {
    const { instanceArn } = await this.instance();
    const { client, sdk } = await this.ssoAdminApi();
    let token: string | undefined;
    do {
      const out = await client.send(
        new sdk.ListAccountAssignmentsCommand({ InstanceArn: instanceArn, AccountId: accountId, PermissionSetArn: permissionSetArn, ...(token ? { NextToken: token } : {}) }),
      );
      if (out.AccountAssignments?.some((a) => a.PrincipalId === principalId && a.PrincipalType === principalType)) return true;
      token = out.NextToken;
    } while (token);
    return false;
  }

  /** The membership id (needed to delete it), or undefined when the user is not in the group. */
  async membershipId(groupId: string, userId: string): Promise<string | undefined> {
    const { identityStoreId } = await this.instance();
    try {
      const out = await this.clients.identityStore.send(new GetGroupMembershipIdCommand({ IdentityStoreId: identityStoreId, GroupId: groupId, MemberId: { UserId: userId } }));
      return out.MembershipId;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** Starts DeleteAccountAssignment; undefined when the assignment does not exist (already gone). */
  async deleteAssignment(ref: AssignmentRef): Promise<AssignmentStatus | undefined> {
    const { instanceArn } = await this.instance();
    const { client, sdk } = await this.ssoAdminApi();
    try {
      const out = await this.retried(() => client.send(new sdk.DeleteAccountAssignmentCommand(assignmentParameters(instanceArn, ref))));
      return toStatus(out.AccountAssignmentDeletionStatus);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /**
   * Starts DeleteAccountAssignment now or not at all: a throttled or failed-inside attempt is tried
   * again after a short, jittered pause (50 ms doubling up to 400 ms) until `withinMs` has passed,
   * where the SDK's own backoff would wait a second or more. Undefined when it did not start in that
   * time or met any other error (the assignment gone included): the caller's slower path decides.
   */
  async startDeletionPromptly(ref: AssignmentRef, withinMs: number): Promise<AssignmentStatus | undefined> {
    const deadline = this.now() + withinMs;
    const { instanceArn } = await this.instance();
    const [client, sdk] = await Promise.all([this.clients.ssoAdminSingleAttempt(), lazySdk.ssoAdmin()]);
    for (let attempt = 0; ; attempt++) {
      try {
        const out = await client.send(new sdk.DeleteAccountAssignmentCommand(assignmentParameters(instanceArn, ref)));
        return toStatus(out.AccountAssignmentDeletionStatus);
      } catch (e) {
        const pause = promptRetryPause(attempt);
        if (!PROMPT_RETRIED.has(errorName(e) ?? '') || this.now() + pause > deadline) return undefined;
        await this.sleep(pause);
      }
    }
  }

  private async assignmentStatus(kind: AssignmentOperationKind, requestId: string): Promise<AssignmentStatus> {
    const { instanceArn } = await this.instance();
    const { client, sdk } = await this.ssoAdminApi();
    if (kind === 'create') {
      const out = await client.send(
        new sdk.DescribeAccountAssignmentCreationStatusCommand({ InstanceArn: instanceArn, AccountAssignmentCreationRequestId: requestId }),
      );
      return toStatus(out.AccountAssignmentCreationStatus);
    }
    const out = await client.send(
      new sdk.DescribeAccountAssignmentDeletionStatusCommand({ InstanceArn: instanceArn, AccountAssignmentDeletionRequestId: requestId }),
    );
    return toStatus(out.AccountAssignmentDeletionStatus);
  }

  /** Polls the status with bounded backoff until SUCCEEDED or FAILED; the last status when attempts run out. */
  async waitForAssignment(kind: AssignmentOperationKind, requestId: string, opts: { maxPolls?: number; firstDelayMs?: number; maxDelayMs?: number } = {}): Promise<AssignmentStatus> {
    const maxPolls = opts.maxPolls ?? 30;
    let delay = opts.firstDelayMs ?? 250;
    let status = await this.assignmentStatus(kind, requestId);
    for (let i = 1; i < maxPolls && status.status === 'IN_PROGRESS'; i++) {
      await this.sleep(delay);
      delay = Math.min(opts.maxDelayMs ?? 5_000, delay * 2);
      status = await this.assignmentStatus(kind, requestId);
    }
    return status;
  }

  /** Removes a membership by id; false when it was already gone. */
  async removeMembership(membershipId: string): Promise<boolean> {
    const { identityStoreId } = await this.instance();
    try {
      await this.retried(() => this.clients.identityStore.send(new DeleteGroupMembershipCommand({ IdentityStoreId: identityStoreId, MembershipId: membershipId })));
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }
}
