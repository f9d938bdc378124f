/**
 * The service control policies of session revocation through Organizations (SDK v3), and the
 * Identity Center reads a cut needs. Only SCPs tagged with this system's owner tag are ever
 * changed, detached or deleted; the others are only counted (the 5-per-target limit).
 * Every call retries throttling (TooManyRequestsException) and ConcurrentModificationException
 * with backoff (withAwsRetry).
 */
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import type { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { sessionTerms, type SessionRevocationMode, type SessionTerms } from '../domain/session-cut.ts';
import type { GroupAssignment, OwnedScp, ServiceControlPolicies, SessionAccess, SessionTermsSource } from '../ports/sessions.ts';
import { TtlCache } from '../ttl-cache.ts';
import { errorName, withAwsRetry, type RetryOptions } from './aws-retry.ts';
import { lazySdk } from './lazy-sdk.ts';

/** The tag every SCP this system creates carries; its value is the stack (owner) name. */
export const SCP_OWNER_TAG = 'identity-center-jit:owner';
const SCP_TYPE = 'SERVICE_CONTROL_POLICY';

export interface OrganizationsScpOptions {
  organizations: () => Promise<OrganizationsClient>;
  /** The owner tag's value: the stack that created the policy. */
  owner: string;
  retry?: RetryOptions;
}

export class OrganizationsServiceControlPolicies implements ServiceControlPolicies {
  constructor(private readonly options: OrganizationsScpOptions) {}

  private async api() {
    const [client, sdk] = await Promise.all([this.options.organizations(), lazySdk.organizations()]);
    return { client, sdk };
  }

  private retried<T>(call: () => Promise<T>): Promise<T> {
    return withAwsRetry(call, { maxAttempts: 8, baseDelayMs: 250, maxDelayMs: 8_000, ...this.options.retry });
  }

  private async ownedBy(policyId: string): Promise<boolean> {
    const { client, sdk } = await this.api();
    let token: string | undefined;
    do {
      const out = await this.retried(() => client.send(new sdk.ListTagsForResourceCommand({ ResourceId: policyId, ...(token ? { NextToken: token } : {}) })));
      if (out.Tags?.some((t) => t.Key === SCP_OWNER_TAG && t.Value === this.options.owner)) return true;
      token = out.NextToken;
    } while (token);
    return false;
  }

  async attachedTo(accountId: string): Promise<{ total: number; owned: OwnedScp[] }> {
    const { client, sdk } = await this.api();
    const summaries: Array<{ Id?: string; Name?: string; AwsManaged?: boolean }> = [];
    let token: string | undefined;
    do {
      const out = await this.retried(() => client.send(new sdk.ListPoliciesForTargetCommand({ TargetId: accountId, Filter: SCP_TYPE, ...(token ? { NextToken: token } : {}) })));
      summaries.push(...(out.Policies ?? []));
      token = out.NextToken;
    } while (token);
    const owned: OwnedScp[] = [];
    for (const s of summaries) {
      if (!s.Id || s.AwsManaged || !(await this.ownedBy(s.Id))) continue;
      const out = await this.retried(() => client.send(new sdk.DescribePolicyCommand({ PolicyId: s.Id! })));
      owned.push({ policyId: s.Id, name: s.Name ?? out.Policy?.PolicySummary?.Name ?? s.Id, content: out.Policy?.Content ?? '' });
    }
    return { total: summaries.length, owned };
  }

  async createAttached(accountId: string, name: string, content: string): Promise<string> {
    const { client, sdk } = await this.api();
    let policyId: string;
    try {
      const out = await this.retried(() =>
        client.send(
          new sdk.CreatePolicyCommand({
            Name: name,
            Type: SCP_TYPE,
            Description: 'Refuses role sessions issued before their Identity Center access was removed (identity-center-jit session revocation)',
            Content: content,
            Tags: [{ Key: SCP_OWNER_TAG, Value: this.options.owner }],
          }),
        ),
      );
      policyId = out.Policy?.PolicySummary?.Id ?? '';
      if (!policyId) throw new Error(`Organizations created policy ${name} without an id`);
    } catch (err) {
      // Created by an earlier attempt that did not get to attach it: take it up if it is ours.
      if (errorName(err) !== 'DuplicatePolicyException') throw err;
      const existing = await this.findByName(name);
      if (!existing || !(await this.ownedBy(existing))) throw err;
      policyId = existing;
      await this.update(policyId, content);
    }
    try {
      await this.retried(() => client.send(new sdk.AttachPolicyCommand({ PolicyId: policyId, TargetId: accountId })));
    } catch (err) {
      if (errorName(err) !== 'DuplicatePolicyAttachmentException') throw err;
    }
    return policyId;
  }

  private async findByName(name: string): Promise<string | undefined> {
    const { client, sdk } = await this.api();
    let token: string | undefined;
    do {
      const out = await this.retried(() => client.send(new sdk.ListPoliciesCommand({ Filter: SCP_TYPE, ...(token ? { NextToken: token } : {}) })));
      const found = out.Policies?.find((p) => p.Name === name);
      if (found?.Id) return found.Id;
      token = out.NextToken;
    } while (token);
    return undefined;
  }

  async update(policyId: string, content: string): Promise<void> {
    const { client, sdk } = await this.api();
    await this.retried(() => client.send(new sdk.UpdatePolicyCommand({ PolicyId: policyId, Content: content })));
  }

  async detachAndDelete(accountId: string, policyId: string): Promise<void> {
    const { client, sdk } = await this.api();
    try {
      await this.retried(() => client.send(new sdk.DetachPolicyCommand({ PolicyId: policyId, TargetId: accountId })));
    } catch (err) {
      if (errorName(err) !== 'PolicyNotAttachedException') throw err;
    }
    try {
      await this.retried(() => client.send(new sdk.DeletePolicyCommand({ PolicyId: policyId })));
    } catch (err) {
      // Still attached elsewhere (not by this system) or already gone: leave it.
      if (errorName(err) !== 'PolicyInUseException' && errorName(err) !== 'PolicyNotFoundException') throw err;
    }
  }
}

export interface IdentityCenterSessionAccessOptions {
  ssoAdmin: () => Promise<SSOAdminClient>;
  instanceArn: () => Promise<string>;
  managementAccountId: () => Promise<string | undefined>;
  now: () => number;
  cacheTtlMs?: number;
}

/** The Identity Center reads of a cut: a group's assignments, a permission set's SessionDuration (cached). */
export class IdentityCenterSessionAccess implements SessionAccess {
  private readonly durations: TtlCache<string | undefined>;

  constructor(private readonly options: IdentityCenterSessionAccessOptions) {
    this.durations = new TtlCache({ ttlMs: options.cacheTtlMs ?? 10 * 60_000, now: options.now, keepUndefined: false });
  }

  private async api() {
    const [client, sdk] = await Promise.all([this.options.ssoAdmin(), lazySdk.ssoAdmin()]);
    return { client, sdk, instanceArn: await this.options.instanceArn() };
  }

  async groupAssignments(groupId: string): Promise<GroupAssignment[]> {
    const { client, sdk, instanceArn } = await this.api();
    const out: GroupAssignment[] = [];
    let token: string | undefined;
    do {
      const page = await withAwsRetry(() =>
        client.send(new sdk.ListAccountAssignmentsForPrincipalCommand({ InstanceArn: instanceArn, PrincipalId: groupId, PrincipalType: 'GROUP', ...(token ? { NextToken: token } : {}) })),
      );
      for (const a of page.AccountAssignments ?? []) if (a.AccountId && a.PermissionSetArn) out.push({ accountId: a.AccountId, permissionSetArn: a.PermissionSetArn });
      token = page.NextToken;
    } while (token);
    return out;
  }

  sessionDuration(permissionSetArn: string): Promise<string | undefined> {
    return this.durations.get(permissionSetArn, async () => {
      const { client, sdk, instanceArn } = await this.api();
      const out = await withAwsRetry(() => client.send(new sdk.DescribePermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: permissionSetArn })));
      return out.PermissionSet?.SessionDuration;
    });
  }

  managementAccountId(): Promise<string | undefined> {
    return this.options.managementAccountId();
  }
}

/** Session terms from the cached SessionDuration and the management account, under the deployed revocation mode. */
export class IdentityCenterSessionTerms implements SessionTermsSource {
  constructor(
    private readonly access: SessionAccess,
    private readonly mode: SessionRevocationMode,
  ) {}

  async termsFor(accountId: string, permissionSetArn: string): Promise<SessionTerms> {
    const [duration, management] = await Promise.all([this.access.sessionDuration(permissionSetArn), this.access.managementAccountId()]);
    return sessionTerms(this.mode, duration, accountId === management);
  }
}
