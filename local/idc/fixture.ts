/**
 * The org fixture: one YAML file that seeds the local IAM Identity Center and
 * Organizations (see local/org.example.yaml for the documented demo org).
 *
 * Validated with zod, then cross-checked (every reference resolves, names are
 * unique). Every error names the file, the line and column, and the field.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import * as z from 'zod';

const accountIdSchema = z.string().regex(/^\d{12}$/, 'must be a 12-digit account id (quote it in YAML)');
const tagValueSchema = z.union([z.string(), z.number(), z.boolean()]).transform(String);

interface OuInput {
  name: string;
  id?: string | undefined;
  children?: OuInput[] | undefined;
}

const ouSchema: z.ZodType<OuInput> = z.lazy(() =>
  z.strictObject({
    name: z.string().min(1).regex(/^[^/]+$/, 'must not contain "/" (it separates OU paths)'),
    id: z
      .string()
      .regex(/^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/, 'must look like ou-abcd-12345678')
      .optional(),
    children: z.array(ouSchema).optional(),
  }),
);

const principalRefSchema = z.union([
  z.strictObject({ user: z.string().min(1) }),
  z.strictObject({ group: z.string().min(1) }),
]);

export const orgFixtureSchema = z.strictObject({
  instance: z.strictObject({
    arn: z.string().regex(/^arn:aws:sso:::instance\/ssoins-[a-zA-Z0-9-.]{16}$/, 'must look like arn:aws:sso:::instance/ssoins-0123456789abcdef'),
    identityStoreId: z.string().regex(/^d-[0-9a-f]{10}$/, 'must look like d-0123456789'),
    name: z.string().optional(),
    /** Account that holds the instance (management or delegated administrator). Default: the management account. */
    ownerAccountId: accountIdSchema.optional(),
    /**
     * True when the instance is run from a delegated administrator: assignments on the
     * management account are then refused with AccessDeniedException, as AWS does.
     */
    delegatedAdministrator: z.boolean().default(false),
  }),
  organization: z.strictObject({
    id: z.string().regex(/^o-[a-z0-9]{10,32}$/, 'must look like o-abcdefghij'),
    rootId: z.string().regex(/^r-[0-9a-z]{4,32}$/, 'must look like r-ab12'),
    managementAccountId: accountIdSchema,
    managementAccountEmail: z.string().email().optional(),
    organizationalUnits: z.array(ouSchema).default([]),
  }),
  accounts: z
    .array(
      z.strictObject({
        id: accountIdSchema,
        name: z.string().min(1),
        email: z.string().email().optional(),
        /** OU path from the root ("Workloads/Dev"), an OU id, or "root" (default). */
        parent: z.string().min(1).default('root'),
        tags: z.record(z.string(), tagValueSchema).default({}),
      }),
    )
    .min(1),
  permissionSets: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[\w+=,.@-]{1,32}$/, 'must be 1-32 characters of [A-Za-z0-9+=,.@_-]'),
        arn: z.string().regex(/^arn:aws:sso:::permissionSet\/ssoins-[a-zA-Z0-9-.]{16}\/ps-[a-zA-Z0-9-./]{16}$/).optional(),
        description: z.string().optional(),
        /** ISO 8601 duration, 1 to 12 hours. */
        sessionDuration: z.string().regex(/^PT(\d+H)?(\d+M)?$/, 'must be an ISO 8601 duration like PT1H or PT8H').default('PT1H'),
      }),
    )
    .default([]),
  users: z
    .array(
      z.strictObject({
        userName: z.string().min(1),
        email: z.string().email(),
        displayName: z.string().min(1).optional(),
        givenName: z.string().optional(),
        familyName: z.string().optional(),
        /** Identity Store user id; derived from the user name when absent (stable across restarts). */
        id: z.string().min(1).optional(),
      }),
    )
    .default([]),
  groups: z
    .array(
      z.strictObject({
        displayName: z.string().min(1),
        description: z.string().optional(),
        id: z.string().min(1).optional(),
        /** User names. These memberships pre-exist and are marked as such. */
        members: z.array(z.string().min(1)).default([]),
        /** Set on groups an identity provider provisions by SCIM (Entra ID, Okta, Google): the IdP's name and its id for the group. */
        externalIds: z.array(z.strictObject({ issuer: z.string().min(1), id: z.string().min(1) })).optional(),
      }),
    )
    .default([]),
  /** Pre-existing (permanent) account assignments. */
  assignments: z
    .array(
      z.strictObject({
        principal: principalRefSchema,
        account: accountIdSchema,
        permissionSet: z.string().min(1),
      }),
    )
    .default([]),
  /**
   * Permission sets provisioned to accounts beyond those an assignment provisions (Identity
   * Center provisions a permission set to an account with its first assignment there, and keeps
   * it provisioned after the last one goes).
   */
  provisioned: z.array(z.strictObject({ account: accountIdSchema, permissionSets: z.array(z.string().min(1)) })).default([]),
});

export type OrgFixtureInput = z.input<typeof orgFixtureSchema>;
type ParsedFixture = z.output<typeof orgFixtureSchema>;

export interface ResolvedOu {
  id: string;
  name: string;
  /** "Workloads/Dev" */
  path: string;
  parentId: string;
}
export interface ResolvedAccount {
  id: string;
  name: string;
  email: string;
  parentId: string;
  tags: Record<string, string>;
}
export interface ResolvedPermissionSet {
  arn: string;
  name: string;
  description?: string;
  sessionDuration: string;
}
export interface ResolvedUser {
  id: string;
  userName: string;
  email: string;
  displayName: string;
  givenName: string;
  familyName: string;
}
export interface ResolvedGroup {
  id: string;
  displayName: string;
  description?: string;
  externalIds?: { issuer: string; id: string }[];
}
export interface ResolvedAssignment {
  accountId: string;
  permissionSetArn: string;
  principalType: 'USER' | 'GROUP';
  principalId: string;
}
export interface ResolvedMembership {
  membershipId: string;
  groupId: string;
  userId: string;
}

/** The fixture with every name resolved to an id: what the emulator is seeded with. */
export interface OrgFixture {
  instance: { arn: string; identityStoreId: string; name?: string; ownerAccountId: string; delegatedAdministrator: boolean };
  organization: { id: string; rootId: string; managementAccountId: string; managementAccountEmail: string };
  ous: ResolvedOu[];
  accounts: ResolvedAccount[];
  permissionSets: ResolvedPermissionSet[];
  users: ResolvedUser[];
  groups: ResolvedGroup[];
  assignments: ResolvedAssignment[];
  memberships: ResolvedMembership[];
  /** Account × permission set pairs provisioned beyond the assignments' own. */
  provisioned: { accountId: string; permissionSetArn: string }[];
}

export class FixtureError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`Invalid org fixture ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'FixtureError';
  }
}

/** Stable hex digest: the same fixture always yields the same ids, so persisted state stays valid across restarts. */
function digest(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex');
}

/** An Identity Store id shaped like AWS's (`<10 hex>-<uuid>`), stable for a given name. */
function identityStoreObjectId(storeId: string, kind: string, name: string): string {
  const h = digest(storeId, kind, name);
  return `${h.slice(0, 10)}-${h.slice(10, 18)}-${h.slice(18, 22)}-${h.slice(22, 26)}-${h.slice(26, 30)}-${h.slice(30, 42)}`;
}

export function membershipIdFor(storeId: string, groupId: string, userId: string): string {
  return identityStoreObjectId(storeId, 'membership', `${groupId}/${userId}`);
}

type PathSegment = string | number;

function formatPath(path: readonly PathSegment[]): string {
  return path.reduce<string>((acc, seg) => (typeof seg === 'number' ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}

/** Where in the YAML a path points (or its nearest existing ancestor). */
function locate(doc: Document | undefined, lines: LineCounter | undefined, path: readonly PathSegment[]): string {
  if (!doc || !lines) return '';
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) {
      const { line, col } = lines.linePos(node.range[0]);
      return `line ${line}, column ${col}: `;
    }
  }
  return '';
}

/** Parses and resolves a fixture from YAML text. `source` names the file in error messages. */
export function parseOrgFixture(text: string, source = 'org fixture'): OrgFixture {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new FixtureError(
      source,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return `${pos ? `line ${pos.line}, column ${pos.col}: ` : ''}${e.message.split('\n')[0]}`;
      }),
    );
  }
  return resolveOrgFixture(doc.toJS() as unknown, source, doc, lines);
}

export function loadOrgFixture(file: string): OrgFixture {
  return parseOrgFixture(readFileSync(file, 'utf8'), file);
}

/** Validates and resolves a fixture given as a plain object (tests build fixtures in code). */
export function resolveOrgFixture(input: unknown, source = 'org fixture', doc?: Document, lines?: LineCounter): OrgFixture {
  const parsed = orgFixtureSchema.safeParse(input);
  if (!parsed.success) {
    throw new FixtureError(
      source,
      parsed.error.issues.map((issue) => {
        const path = issue.path.filter((p): p is PathSegment => typeof p !== 'symbol');
        return `${locate(doc, lines, path)}${formatPath(path) || '(top level)'}: ${issue.message}`;
      }),
    );
  }
  const problems: string[] = [];
  const at = (path: PathSegment[], message: string) => problems.push(`${locate(doc, lines, path)}${formatPath(path)}: ${message}`);
  const resolved = resolveReferences(parsed.data, at);
  if (problems.length > 0) throw new FixtureError(source, problems);
  return resolved;
}

function resolveReferences(f: ParsedFixture, at: (path: PathSegment[], message: string) => void): OrgFixture {
  const storeId = f.instance.identityStoreId;
  const rootSuffix = f.organization.rootId.slice(2);

  const ous: ResolvedOu[] = [];
  const ouIds = new Set<string>();
  const walk = (list: OuInput[], parentId: string, parentPath: string, yamlPath: PathSegment[]) => {
    const names = new Set<string>();
    list.forEach((ou, i) => {
      const path = parentPath ? `${parentPath}/${ou.name}` : ou.name;
      if (names.has(ou.name)) at([...yamlPath, i, 'name'], `duplicate OU name "${ou.name}" under the same parent`);
      names.add(ou.name);
      const id = ou.id ?? `ou-${rootSuffix}-${digest(f.organization.id, 'ou', path).slice(0, 8)}`;
      if (ouIds.has(id)) at([...yamlPath, i, 'id'], `duplicate OU id ${id}`);
      ouIds.add(id);
      ous.push({ id, name: ou.name, path, parentId });
      if (ou.children) walk(ou.children, id, path, [...yamlPath, i, 'children']);
    });
  };
  walk(f.organization.organizationalUnits, f.organization.rootId, '', ['organization', 'organizationalUnits']);

  const parentIdOf = (ref: string): string | undefined => {
    if (ref.toLowerCase() === 'root' || ref === f.organization.rootId) return f.organization.rootId;
    return ous.find((o) => o.id === ref || o.path === ref.replace(/^\/|\/$/g, ''))?.id;
  };

  const accounts: ResolvedAccount[] = [];
  const accountIds = new Set<string>();
  f.accounts.forEach((a, i) => {
    if (accountIds.has(a.id)) at(['accounts', i, 'id'], `duplicate account id ${a.id}`);
    accountIds.add(a.id);
    const parentId = parentIdOf(a.parent);
    if (!parentId) at(['accounts', i, 'parent'], `no OU with path or id "${a.parent}" (known: root, ${ous.map((o) => o.path).join(', ')})`);
    accounts.push({
      id: a.id,
      name: a.name,
      email: a.email ?? `${a.name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}@example.com`,
      parentId: parentId ?? f.organization.rootId,
      tags: a.tags,
    });
  });
  if (!accountIds.has(f.organization.managementAccountId)) {
    at(['organization', 'managementAccountId'], `management account ${f.organization.managementAccountId} is not listed under accounts`);
  }

  const instanceId = f.instance.arn.split('/')[1] ?? '';
  const permissionSets: ResolvedPermissionSet[] = [];
  f.permissionSets.forEach((p, i) => {
    if (permissionSets.some((q) => q.name === p.name)) at(['permissionSets', i, 'name'], `duplicate permission set name ${p.name}`);
    const arn = p.arn ?? `arn:aws:sso:::permissionSet/${instanceId}/ps-${digest(f.instance.arn, 'ps', p.name).slice(0, 16)}`;
    if (p.arn && !p.arn.includes(`/${instanceId}/`)) at(['permissionSets', i, 'arn'], `must belong to instance ${instanceId}`);
    permissionSets.push({ arn, name: p.name, sessionDuration: p.sessionDuration, ...(p.description ? { description: p.description } : {}) });
  });

  const users: ResolvedUser[] = [];
  f.users.forEach((u, i) => {
    if (users.some((v) => v.userName === u.userName)) at(['users', i, 'userName'], `duplicate userName ${u.userName}`);
    if (users.some((v) => v.email.toLowerCase() === u.email.toLowerCase())) at(['users', i, 'email'], `duplicate email ${u.email}`);
    const [given, ...rest] = (u.displayName ?? u.userName).split(' ');
    users.push({
      id: u.id ?? identityStoreObjectId(storeId, 'user', u.userName),
      userName: u.userName,
      email: u.email,
      displayName: u.displayName ?? u.userName,
      givenName: u.givenName ?? given ?? u.userName,
      familyName: u.familyName ?? (rest.join(' ') || u.userName),
    });
  });

  const groups: ResolvedGroup[] = [];
  const memberships: ResolvedMembership[] = [];
  f.groups.forEach((g, i) => {
    if (groups.some((h) => h.displayName === g.displayName)) at(['groups', i, 'displayName'], `duplicate group ${g.displayName}`);
    const group: ResolvedGroup = { id: g.id ?? identityStoreObjectId(storeId, 'group', g.displayName), displayName: g.displayName };
    if (g.description) group.description = g.description;
    if (g.externalIds?.length) group.externalIds = g.externalIds;
    groups.push(group);
    g.members.forEach((m, j) => {
      const user = users.find((u) => u.userName === m);
      if (!user) at(['groups', i, 'members', j], `no user with userName "${m}"`);
      else if (memberships.some((x) => x.groupId === group.id && x.userId === user.id)) at(['groups', i, 'members', j], `${m} is listed twice`);
      else memberships.push({ membershipId: membershipIdFor(storeId, group.id, user.id), groupId: group.id, userId: user.id });
    });
  });

  const assignments: ResolvedAssignment[] = [];
  f.assignments.forEach((a, i) => {
    const ps = permissionSets.find((p) => p.name === a.permissionSet);
    if (!ps) at(['assignments', i, 'permissionSet'], `no permission set named "${a.permissionSet}"`);
    if (!accountIds.has(a.account)) at(['assignments', i, 'account'], `account ${a.account} is not listed under accounts`);
    let principalType: 'USER' | 'GROUP' = 'USER';
    let principalId: string | undefined;
    if ('user' in a.principal) {
      const name = a.principal.user;
      principalId = users.find((u) => u.userName === name)?.id;
      if (!principalId) at(['assignments', i, 'principal', 'user'], `no user with userName "${name}"`);
    } else {
      const name = a.principal.group;
      principalType = 'GROUP';
      principalId = groups.find((g) => g.displayName === name)?.id;
      if (!principalId) at(['assignments', i, 'principal', 'group'], `no group named "${name}"`);
    }
    if (ps && principalId) assignments.push({ accountId: a.account, permissionSetArn: ps.arn, principalType, principalId });
  });

  const provisioned: { accountId: string; permissionSetArn: string }[] = [];
  f.provisioned.forEach((p, i) => {
    if (!accountIds.has(p.account)) at(['provisioned', i, 'account'], `account ${p.account} is not listed under accounts`);
    p.permissionSets.forEach((name, j) => {
      const ps = permissionSets.find((q) => q.name === name);
      if (!ps) at(['provisioned', i, 'permissionSets', j], `no permission set named "${name}"`);
      else provisioned.push({ accountId: p.account, permissionSetArn: ps.arn });
    });
  });

  return {
    instance: {
      arn: f.instance.arn,
      identityStoreId: storeId,
      ...(f.instance.name ? { name: f.instance.name } : {}),
      ownerAccountId: f.instance.ownerAccountId ?? f.organization.managementAccountId,
      delegatedAdministrator: f.instance.delegatedAdministrator,
    },
    organization: {
      id: f.organization.id,
      rootId: f.organization.rootId,
      managementAccountId: f.organization.managementAccountId,
      managementAccountEmail:
        f.organization.managementAccountEmail ?? accounts.find((a) => a.id === f.organization.managementAccountId)?.email ?? 'management@example.com',
    },
    ous,
    accounts,
    permissionSets,
    users,
    groups,
    assignments,
    memberships,
    provisioned,
  };
}
