/**
 * Service control policies of the local Organizations: the policies, their attachments to the
 * root, OUs and accounts, and the tags of every Organizations resource, with AWS's limits
 * (5,120 characters of minified content, at most 5 SCPs per target including FullAWSAccess,
 * at least 1) and a history kept so that a change takes effect only after the propagation
 * delay (`scpPropagationSeconds`): `effectiveFor` answers what applies to an account at a moment.
 */
import { randomBytes } from 'node:crypto';
import { AwsError, requireString } from '../protocol/aws.ts';
import type { OrgFixture } from './fixture.ts';

export const SCP_TYPE = 'SERVICE_CONTROL_POLICY';
export const FULL_AWS_ACCESS_ID = 'p-FullAWSAccess';
/** AWS counts the policy without the whitespace outside strings. */
export const MAX_SCP_CHARACTERS = 5120;
export const MAX_SCPS_PER_TARGET = 5;
const MAX_TAGS = 50;

const FULL_AWS_ACCESS_CONTENT = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] });

export interface PolicyRecord {
  id: string;
  name: string;
  description: string;
  awsManaged: boolean;
  /** Content as given, and when each version was written (epoch ms): the history propagation reads. */
  revisions: { content: string; at: number }[];
  createdAt: number;
  deletedAt?: number;
}

export interface AttachmentRecord {
  policyId: string;
  targetId: string;
  /** Epoch ms. */
  from: number;
  to?: number;
}

export interface PoliciesSnapshot {
  policies: PolicyRecord[];
  attachments: AttachmentRecord[];
  tags: Record<string, Record<string, string>>;
}

/** One statement of a policy, as the evaluation reads it. */
export interface PolicyStatement {
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

const invalidInput = (message: string) => new AwsError('InvalidInputException', message);
const constraint = (reason: string, message: string) => new AwsError('ConstraintViolationException', message, 400, { Reason: reason });
const policyNotFound = () => new AwsError('PolicyNotFoundException', "We can't find a policy with the PolicyId that you specified.");
const targetNotFound = () => new AwsError('TargetNotFoundException', "We can't find a root, OU, account, or policy with the TargetId that you specified.");
const malformed = (why: string) =>
  new AwsError('MalformedPolicyDocumentException', `The provided policy document does not meet the requirements of the specified policy type: ${why}`);

const stringOrList = (v: unknown) => typeof v === 'string' || (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string'));

/** The content as AWS checks it: JSON, a Statement of Allow/Deny entries naming actions. Returns the minified text. */
export function checkScpContent(content: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch (e) {
    throw malformed(`not valid JSON (${(e as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw malformed('the document must be a JSON object');
  const doc = parsed as Record<string, unknown>;
  if (doc.Version !== undefined && doc.Version !== '2012-10-17' && doc.Version !== '2008-10-17') throw malformed(`unknown Version ${JSON.stringify(doc.Version)}`);
  const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
  if (statements.length === 0) throw malformed('Statement is missing or empty');
  statements.forEach((s, i) => {
    if (!s || typeof s !== 'object' || Array.isArray(s)) throw malformed(`Statement[${i}] must be an object`);
    const st = s as Record<string, unknown>;
    if (st.Effect !== 'Allow' && st.Effect !== 'Deny') throw malformed(`Statement[${i}].Effect must be Allow or Deny`);
    if ((st.Action === undefined) === (st.NotAction === undefined)) throw malformed(`Statement[${i}] needs exactly one of Action and NotAction`);
    for (const member of ['Action', 'NotAction', 'Resource', 'NotResource'] as const) {
      if (st[member] !== undefined && !stringOrList(st[member])) throw malformed(`Statement[${i}].${member} must be a string or a list of strings`);
    }
    if (st.Principal !== undefined || st.NotPrincipal !== undefined) throw malformed(`Statement[${i}]: an SCP names no Principal`);
    if (st.Condition !== undefined) {
      const condition = st.Condition;
      if (!condition || typeof condition !== 'object' || Array.isArray(condition)) throw malformed(`Statement[${i}].Condition must be an object`);
      for (const [operator, block] of Object.entries(condition)) {
        if (!block || typeof block !== 'object' || Array.isArray(block)) throw malformed(`Statement[${i}].Condition.${operator} must be an object`);
        for (const [key, value] of Object.entries(block)) {
          if (!stringOrList(value)) throw malformed(`Statement[${i}].Condition.${operator}.${key} must be a string or a list of strings`);
        }
      }
    }
  });
  return JSON.stringify(parsed);
}

function tagsOf(input: Record<string, unknown>): Record<string, string> {
  const tags = input.Tags;
  if (tags === undefined) return {};
  if (!Array.isArray(tags)) throw invalidInput('Tags must be a list of { Key, Value }.');
  const out: Record<string, string> = {};
  for (const tag of tags as { Key?: unknown; Value?: unknown }[]) {
    if (typeof tag?.Key !== 'string' || tag.Key.length < 1 || tag.Key.length > 128) throw invalidInput('You provided a tag key that is not valid: 1 to 128 characters.');
    if (typeof tag.Value !== 'string' || tag.Value.length > 256) throw invalidInput('You provided a tag value that is not valid: 0 to 256 characters.');
    out[tag.Key] = tag.Value;
  }
  return out;
}

export type TargetType = 'ROOT' | 'ORGANIZATIONAL_UNIT' | 'ACCOUNT';

export class OrganizationPolicies {
  private policies = new Map<string, PolicyRecord>();
  private attachments: AttachmentRecord[] = [];
  private tags = new Map<string, Record<string, string>>();

  constructor(
    private readonly fixture: OrgFixture,
    private readonly now: () => number,
    /** Milliseconds a change takes to reach the accounts. */
    private readonly propagationMs: () => number,
  ) {
    this.seed();
  }

  /** FullAWSAccess attached to the root, every OU and every account, as AWS sets up an organization with SCPs enabled. */
  private seed(): void {
    this.policies = new Map([
      [
        FULL_AWS_ACCESS_ID,
        { id: FULL_AWS_ACCESS_ID, name: 'FullAWSAccess', description: 'Allows access to every operation', awsManaged: true, revisions: [{ content: FULL_AWS_ACCESS_CONTENT, at: 0 }], createdAt: 0 },
      ],
    ]);
    this.attachments = this.targets().map((targetId) => ({ policyId: FULL_AWS_ACCESS_ID, targetId, from: 0 }));
    this.tags = new Map();
  }

  private targets(): string[] {
    return [this.fixture.organization.rootId, ...this.fixture.ous.map((o) => o.id), ...this.fixture.accounts.map((a) => a.id)];
  }

  snapshot(): PoliciesSnapshot {
    return {
      policies: [...this.policies.values()].map((p) => ({ ...p, revisions: p.revisions.map((r) => ({ ...r })) })),
      attachments: this.attachments.map((a) => ({ ...a })),
      tags: Object.fromEntries([...this.tags].map(([id, t]) => [id, { ...t }])),
    };
  }

  restore(s: PoliciesSnapshot | undefined): void {
    if (!s) return this.seed();
    this.policies = new Map(s.policies.map((p) => [p.id, { ...p, revisions: p.revisions.map((r) => ({ ...r })) }]));
    this.attachments = s.attachments.map((a) => ({ ...a }));
    this.tags = new Map(Object.entries(s.tags).map(([id, t]) => [id, { ...t }]));
    // An account or OU the fixture gained since the state was saved joins with FullAWSAccess, as AWS attaches it.
    for (const targetId of this.targets()) {
      if (!this.attachments.some((a) => a.targetId === targetId)) this.attachments.push({ policyId: FULL_AWS_ACCESS_ID, targetId, from: 0 });
    }
  }

  // -------------------------------------------------------------------------
  // Targets

  targetType(id: string): TargetType | undefined {
    if (id === this.fixture.organization.rootId) return 'ROOT';
    if (this.fixture.ous.some((o) => o.id === id)) return 'ORGANIZATIONAL_UNIT';
    if (this.fixture.accounts.some((a) => a.id === id)) return 'ACCOUNT';
    return undefined;
  }

  private requireTarget(input: Record<string, unknown>): { id: string; type: TargetType } {
    const id = requireString(input, 'TargetId');
    if (!/^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|\d{12})$/.test(id)) throw invalidInput('You specified an invalid value for TargetId.');
    const type = this.targetType(id);
    if (!type) throw targetNotFound();
    return { id, type };
  }

  private targetView(id: string, type: TargetType) {
    const { managementAccountId: mgmt, id: orgId } = this.fixture.organization;
    if (type === 'ROOT') return { TargetId: id, Arn: `arn:aws:organizations::${mgmt}:root/${orgId}/${id}`, Name: 'Root', Type: type };
    if (type === 'ORGANIZATIONAL_UNIT') {
      return { TargetId: id, Arn: `arn:aws:organizations::${mgmt}:ou/${orgId}/${id}`, Name: this.fixture.ous.find((o) => o.id === id)?.name, Type: type };
    }
    return { TargetId: id, Arn: `arn:aws:organizations::${mgmt}:account/${orgId}/${id}`, Name: this.fixture.accounts.find((a) => a.id === id)?.name, Type: type };
  }

  // -------------------------------------------------------------------------
  // Policies

  private requirePolicy(input: Record<string, unknown>): PolicyRecord {
    const id = requireString(input, 'PolicyId');
    if (!/^p-[0-9a-zA-Z_]{8,128}$/.test(id)) throw invalidInput('You specified an invalid value for PolicyId.');
    const policy = this.policies.get(id);
    if (!policy || policy.deletedAt !== undefined) throw policyNotFound();
    return policy;
  }

  private requireCustomerManaged(policy: PolicyRecord): void {
    if (policy.awsManaged) throw new AwsError('AccessDeniedException', `You can't modify or delete the AWS managed policy ${policy.id}.`);
  }

  private summary(p: PolicyRecord) {
    const { managementAccountId: mgmt, id: orgId } = this.fixture.organization;
    return {
      Id: p.id,
      Arn: p.awsManaged ? `arn:aws:organizations::aws:policy/service_control_policy/${p.id}` : `arn:aws:organizations::${mgmt}:policy/${orgId}/service_control_policy/${p.id}`,
      Name: p.name,
      Description: p.description,
      Type: SCP_TYPE,
      AwsManaged: p.awsManaged,
    };
  }

  private policyView(p: PolicyRecord) {
    return { Policy: { PolicySummary: this.summary(p), Content: p.revisions.at(-1)!.content } };
  }

  private checkName(name: string, except?: string): void {
    if (name.length < 1 || name.length > 128) throw invalidInput('You provided a policy name that is not valid: 1 to 128 characters.');
    for (const p of this.policies.values()) {
      if (p.deletedAt === undefined && p.id !== except && p.name === name) throw new AwsError('DuplicatePolicyException', 'A policy with the same name already exists.');
    }
  }

  private checkDescription(description: unknown): string {
    if (description === undefined) return '';
    if (typeof description !== 'string' || description.length > 512) throw invalidInput('You provided a description that is not valid: at most 512 characters.');
    return description;
  }

  private checkContent(content: string): void {
    const minified = checkScpContent(content);
    if (minified.length > MAX_SCP_CHARACTERS) {
      throw constraint('POLICY_CONTENT_LIMIT_EXCEEDED', `You attempted to create a policy that is larger than the maximum size (${minified.length} characters, at most ${MAX_SCP_CHARACTERS}).`);
    }
  }

  private attachedTo(targetId: string): AttachmentRecord[] {
    return this.attachments.filter((a) => a.targetId === targetId && a.to === undefined);
  }

  /** The Organizations operations on policies, attachments and tags. */
  operations(): Record<string, (input: Record<string, unknown>) => unknown> {
    const now = () => this.now();
    return {
      CreatePolicy: (input) => {
        const name = requireString(input, 'Name');
        const content = requireString(input, 'Content');
        const type = requireString(input, 'Type');
        if (type !== SCP_TYPE) throw new AwsError('PolicyTypeNotEnabledException', `This operation can be performed only for enabled policy types: the local organization enables ${SCP_TYPE}.`);
        const description = this.checkDescription(input.Description);
        this.checkName(name);
        this.checkContent(content);
        const tags = tagsOf(input);
        if (Object.keys(tags).length > MAX_TAGS) throw constraint('TAG_POLICY_VIOLATION', `You can attach at most ${MAX_TAGS} tags to a resource.`);
        const at = now();
        const policy: PolicyRecord = { id: `p-${randomBytes(6).toString('hex')}`, name, description, awsManaged: false, revisions: [{ content, at }], createdAt: at };
        this.policies.set(policy.id, policy);
        if (Object.keys(tags).length > 0) this.tags.set(policy.id, tags);
        return this.policyView(policy);
      },
      DescribePolicy: (input) => this.policyView(this.requirePolicy(input)),
      UpdatePolicy: (input) => {
        const policy = this.requirePolicy(input);
        this.requireCustomerManaged(policy);
        if (input.Name !== undefined) {
          const name = requireString(input, 'Name');
          this.checkName(name, policy.id);
          policy.name = name;
        }
        if (input.Description !== undefined) policy.description = this.checkDescription(input.Description);
        if (input.Content !== undefined) {
          const content = requireString(input, 'Content');
          this.checkContent(content);
          policy.revisions.push({ content, at: now() });
          this.prune();
        }
        return this.policyView(policy);
      },
      DeletePolicy: (input) => {
        const policy = this.requirePolicy(input);
        this.requireCustomerManaged(policy);
        if (this.attachments.some((a) => a.policyId === policy.id && a.to === undefined)) {
          throw new AwsError('PolicyInUseException', 'The policy is attached to one or more entities. You must detach it from all roots, OUs, and accounts before performing this operation.');
        }
        policy.deletedAt = now();
        this.tags.delete(policy.id);
        return {};
      },
      AttachPolicy: (input) => {
        const policy = this.requirePolicy(input);
        const target = this.requireTarget(input);
        const attached = this.attachedTo(target.id);
        if (attached.some((a) => a.policyId === policy.id)) throw new AwsError('DuplicatePolicyAttachmentException', 'The selected policy is already attached to the specified target.');
        if (attached.length >= MAX_SCPS_PER_TARGET) {
          throw constraint('POLICY_NUMBER_LIMIT_EXCEEDED', `You attempted to exceed the number of policies of type ${SCP_TYPE} (${MAX_SCPS_PER_TARGET}) that you can attach to the target ${target.id}.`);
        }
        this.attachments.push({ policyId: policy.id, targetId: target.id, from: now() });
        return {};
      },
      DetachPolicy: (input) => {
        const policy = this.requirePolicy(input);
        const target = this.requireTarget(input);
        const attached = this.attachedTo(target.id);
        const attachment = attached.find((a) => a.policyId === policy.id);
        if (!attachment) throw new AwsError('PolicyNotAttachedException', "The policy isn't attached to the specified target in the specified root.");
        if (attached.length === 1) {
          throw constraint('MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED', `You attempted to detach the last policy of type ${SCP_TYPE} from the target ${target.id}; a target keeps at least one.`);
        }
        attachment.to = now();
        this.prune();
        return {};
      },
      ListPoliciesForTarget: (input) => {
        const target = this.requireTarget(input);
        if (requireString(input, 'Filter') !== SCP_TYPE) throw invalidInput(`You specified an invalid value for Filter: the local organization has only ${SCP_TYPE}.`);
        return { Policies: this.attachedTo(target.id).map((a) => this.summary(this.policies.get(a.policyId)!)) };
      },
      ListPolicies: (input) => {
        if (requireString(input, 'Filter') !== SCP_TYPE) throw invalidInput(`You specified an invalid value for Filter: the local organization has only ${SCP_TYPE}.`);
        return { Policies: [...this.policies.values()].filter((p) => p.deletedAt === undefined).map((p) => this.summary(p)) };
      },
      ListTargetsForPolicy: (input) => {
        const policy = this.requirePolicy(input);
        const targets = this.attachments.filter((a) => a.policyId === policy.id && a.to === undefined).map((a) => this.targetView(a.targetId, this.targetType(a.targetId)!));
        return { Targets: targets };
      },
      TagResource: (input) => {
        const id = this.requireTaggable(input);
        const merged = { ...this.tagsFor(id), ...tagsOf(input) };
        if (Object.keys(merged).length > MAX_TAGS) throw constraint('TAG_POLICY_VIOLATION', `You can attach at most ${MAX_TAGS} tags to a resource.`);
        this.tags.set(id, merged);
        return {};
      },
      UntagResource: (input) => {
        const id = this.requireTaggable(input);
        const keys = input.TagKeys;
        if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) throw invalidInput('TagKeys must be a list of tag keys.');
        const tags = { ...this.tagsFor(id) };
        for (const key of keys as string[]) delete tags[key];
        this.tags.set(id, tags);
        return {};
      },
      ListTagsForResource: (input) => {
        const id = this.requireTaggable(input);
        return { Tags: Object.entries(this.tagsFor(id)).map(([Key, Value]) => ({ Key, Value })) };
      },
    };
  }

  private requireTaggable(input: Record<string, unknown>): string {
    const id = requireString(input, 'ResourceId');
    if (this.targetType(id)) return id;
    const policy = this.policies.get(id);
    if (policy && policy.deletedAt === undefined) return id;
    throw targetNotFound();
  }

  /** An account's tags start as the fixture's; tags set through the API replace them. */
  /** A resource's tags (IAM's aws:ResourceTag in packaged mode). */
  resourceTags(id: string): Record<string, string> {
    return { ...this.tagsFor(id) };
  }

  private tagsFor(id: string): Record<string, string> {
    return this.tags.get(id) ?? this.fixture.accounts.find((a) => a.id === id)?.tags ?? {};
  }

  /** Forgets detachments and revisions no evaluation can reach any more (older than the propagation delay). */
  private prune(): void {
    const horizon = this.now() - this.propagationMs();
    this.attachments = this.attachments.filter((a) => a.to === undefined || a.to > horizon);
    for (const p of this.policies.values()) {
      const seen = p.revisions.findLastIndex((r) => r.at <= horizon);
      if (seen > 0) p.revisions.splice(0, seen);
    }
  }

  // -------------------------------------------------------------------------
  // What applies

  /** The account, its OUs up to the root: every target whose SCPs apply to the account. */
  private chainOf(accountId: string): string[] {
    const chain = [accountId];
    let parent = this.fixture.accounts.find((a) => a.id === accountId)?.parentId;
    while (parent) {
      chain.push(parent);
      parent = this.fixture.ous.find((o) => o.id === parent)?.parentId;
    }
    return chain;
  }

  /**
   * The SCP statements that apply to the account now, as the account sees them: the policies
   * attached to it and to its OUs and root, each as it was `scpPropagationSeconds` ago.
   * One list per level of the chain (an action must be allowed at every level).
   */
  effectiveFor(accountId: string): { targetId: string; statements: PolicyStatement[] }[] {
    const seenAt = this.now() - this.propagationMs();
    return this.chainOf(accountId).map((targetId) => {
      const statements: PolicyStatement[] = [];
      for (const a of this.attachments) {
        if (a.targetId !== targetId || a.from > seenAt || (a.to !== undefined && a.to <= seenAt)) continue;
        const revision = this.policies.get(a.policyId)?.revisions.filter((r) => r.at <= seenAt).at(-1);
        if (!revision) continue;
        const doc = JSON.parse(revision.content) as { Statement: PolicyStatement | PolicyStatement[] };
        statements.push(...(Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]));
      }
      return { targetId, statements };
    });
  }
}
