/**
 * In-memory Directory (test double of the port) for policy tests. Mutable, so
 * a test can change group membership between request and approval. Counts
 * calls so caching can be asserted.
 */
import type { AccountInfo, Directory, IdentityUser } from '../../lib/ports/index.ts';

export interface MemoryOrg {
  users: IdentityUser[];
  /** display name → { id, member user ids } */
  groups: Record<string, { id: string; members: string[] }>;
  /** permission set name → ARN */
  permissionSets: Record<string, string>;
  accounts: AccountInfo[];
  managementAccountId?: string;
}

export class MemoryDirectory implements Directory {
  readonly calls: Record<string, number> = {};
  constructor(readonly org: MemoryOrg) {}

  private count(name: string): void {
    this.calls[name] = (this.calls[name] ?? 0) + 1;
  }

  async findUserByEmail(email: string): Promise<IdentityUser | undefined> {
    this.count('findUserByEmail');
    return this.org.users.find((u) => u.email.toLowerCase() === email.toLowerCase());
  }
  async findUserByUserName(userName: string): Promise<IdentityUser | undefined> {
    this.count('findUserByUserName');
    return this.org.users.find((u) => u.userName === userName);
  }
  async describeUser(userId: string): Promise<IdentityUser | undefined> {
    this.count('describeUser');
    return this.org.users.find((u) => u.userId === userId);
  }
  async groupIdsOfUser(userId: string): Promise<string[]> {
    this.count('groupIdsOfUser');
    return Object.values(this.org.groups)
      .filter((g) => g.members.includes(userId))
      .map((g) => g.id);
  }
  async findGroupId(displayName: string): Promise<string | undefined> {
    this.count('findGroupId');
    return this.org.groups[displayName]?.id;
  }
  async findPermissionSetArn(name: string): Promise<string | undefined> {
    this.count('findPermissionSetArn');
    // Identity Center treats permission set names case-insensitively on lookup.
    const key = Object.keys(this.org.permissionSets).find((k) => k.toLowerCase() === name.toLowerCase());
    return key === undefined ? undefined : this.org.permissionSets[key];
  }
  async describeAccount(accountId: string): Promise<AccountInfo | undefined> {
    this.count('describeAccount');
    return this.org.accounts.find((a) => a.id === accountId);
  }
  async listAccounts(): Promise<AccountInfo[]> {
    this.count('listAccounts');
    return this.org.accounts.map((a) => ({ ...a }));
  }
  async managementAccountId(): Promise<string | undefined> {
    this.count('managementAccountId');
    return this.org.managementAccountId;
  }

  removeFromGroup(displayName: string, userId: string): void {
    const group = this.org.groups[displayName];
    if (group) group.members = group.members.filter((m) => m !== userId);
  }
}

const PS_PREFIX = 'arn:aws:sso:::permissionSet/ssoins-0000000000000000/ps-';

/** A small org shaped like the demo one: nested OUs, env tags, four users, four groups. */
export function demoOrg(): MemoryOrg {
  return {
    users: [
      { userId: 'u-alice', userName: 'alice', email: 'Alice@Example.com' },
      { userId: 'u-bob', userName: 'bob', email: 'bob@example.com' },
      { userId: 'u-carol', userName: 'carol', email: 'carol@example.com' },
      { userId: 'u-dave', userName: 'dave', email: 'dave@example.com' },
      { userId: 'u-erin', userName: 'erin', email: 'erin@example.com' },
    ],
    groups: {
      PlatformAdmins: { id: 'g-platform', members: ['u-alice'] },
      Developers: { id: 'g-dev', members: ['u-bob', 'u-carol'] },
      SecurityApprovers: { id: 'g-sec', members: ['u-dave'] },
      BreakGlass: { id: 'g-breakglass', members: [] },
    },
    permissionSets: {
      AdministratorAccess: `${PS_PREFIX}admin`,
      ReadOnlyAccess: `${PS_PREFIX}readonly`,
      PowerUserAccess: `${PS_PREFIX}poweruser`,
    },
    accounts: [
      { id: '111111111111', name: 'management', ouPath: [], tags: { env: 'management' } },
      { id: '222222222222', name: 'security-tooling', ouPath: ['ou-root-security'], tags: { env: 'prod' } },
      { id: '444444444444', name: 'payments-dev', ouPath: ['ou-root-dev00000', 'ou-root-workload'], tags: { env: 'dev' } },
      { id: '555555555555', name: 'payments-prod', ouPath: ['ou-root-prod0000', 'ou-root-workload'], tags: { env: 'prod' } },
      {
        id: '666666666666',
        name: 'cardholder-data',
        ouPath: ['ou-root-regulate', 'ou-root-prod0000', 'ou-root-workload'],
        tags: { env: 'prod', compliance: 'pci' },
      },
      { id: '777777777777', name: 'sandbox', ouPath: ['ou-root-dev00000', 'ou-root-workload'], tags: { env: 'sandbox' } },
    ],
    managementAccountId: '111111111111',
  };
}
