/**
 * Service control policies of the local Organizations through the real SDK client: the size
 * and attachment limits, tags, a policy in use, attach/detach/list, persistence, and the
 * propagation delay of what applies to an account (manual clock: time moves only when a test moves it).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import {
  AttachPolicyCommand,
  CreatePolicyCommand,
  DeletePolicyCommand,
  DescribePolicyCommand,
  DetachPolicyCommand,
  ListPoliciesCommand,
  ListPoliciesForTargetCommand,
  ListRootsCommand,
  ListTagsForResourceCommand,
  ListTargetsForPolicyCommand,
  OrganizationsClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdatePolicyCommand,
} from '@aws-sdk/client-organizations';
import { createIdentityCenterEmulator, loadOrgFixture, serveJsonServices, type IdentityCenterEmulator, type JsonEndpoint } from '../../local/idc/index.ts';
import { FULL_AWS_ACCESS_ID, MAX_SCP_CHARACTERS } from '../../local/idc/organization-policies.ts';

const fixture = loadOrgFixture(fileURLToPath(new URL('../../local/org.example.yaml', import.meta.url)));
const ROOT = fixture.organization.rootId;
const DEV = '444444444444';
const WORKLOADS = fixture.ous.find((o) => o.path === 'Workloads')!.id;

const clock = { t: 1_700_000_000_000, now() { return this.t; } };
let emu: IdentityCenterEmulator;
let endpoint: JsonEndpoint;
let org: OrganizationsClient;

beforeAll(async () => {
  endpoint = await serveJsonServices([{ targetPrefixes: ['AWSOrganizationsV20161128'], handle: (op, input, ctx) => emu.organizations.handle(op, input, ctx) }]);
  org = new OrganizationsClient({ endpoint: endpoint.url, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
});
afterAll(async () => {
  org.destroy();
  await endpoint.close();
});
beforeEach(() => {
  clock.t = 1_700_000_000_000;
  emu = createIdentityCenterEmulator({ fixture, clock, knobs: { scpPropagationSeconds: 3 } });
});

const deny = (userIds: string[], cutoff = '2026-01-01T00:00:00Z') =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'identitystore:userId': userIds }, DateLessThan: { 'aws:TokenIssueTime': cutoff } } },
    ],
  });

async function create(name: string, content = deny(['u-1'])): Promise<string> {
  const out = await org.send(new CreatePolicyCommand({ Name: name, Description: `${name} policy`, Type: 'SERVICE_CONTROL_POLICY', Content: content }));
  return out.Policy!.PolicySummary!.Id!;
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => ({ name: 'no error', message: '', reason: undefined }),
    (e: Error & { Reason?: string }) => ({ name: e.name, message: e.message, reason: e.Reason }),
  );

const policiesOn = async (target: string) =>
  ((await org.send(new ListPoliciesForTargetCommand({ TargetId: target, Filter: 'SERVICE_CONTROL_POLICY' }))).Policies ?? []).map((p) => p.Id);

describe('policies', () => {
  it('CreatePolicy answers the summary and content; DescribePolicy reads it back; UpdatePolicy changes it', async () => {
    const created = await org.send(
      new CreatePolicyCommand({ Name: 'jit-sessions', Description: 'cuts sessions', Type: 'SERVICE_CONTROL_POLICY', Content: deny(['u-1']), Tags: [{ Key: 'managed-by', Value: 'jit' }] }),
    );
    const id = created.Policy!.PolicySummary!.Id!;
    expect(id).toMatch(/^p-[0-9a-z]{8,}$/);
    expect(created.Policy!.PolicySummary).toEqual({
      Id: id,
      Arn: `arn:aws:organizations::${fixture.organization.managementAccountId}:policy/${fixture.organization.id}/service_control_policy/${id}`,
      Name: 'jit-sessions',
      Description: 'cuts sessions',
      Type: 'SERVICE_CONTROL_POLICY',
      AwsManaged: false,
    });
    expect((await org.send(new DescribePolicyCommand({ PolicyId: id }))).Policy!.Content).toBe(deny(['u-1']));
    await org.send(new UpdatePolicyCommand({ PolicyId: id, Content: deny(['u-1', 'u-2']), Name: 'jit-sessions-1' }));
    const updated = await org.send(new DescribePolicyCommand({ PolicyId: id }));
    expect(updated.Policy!.Content).toBe(deny(['u-1', 'u-2']));
    expect(updated.Policy!.PolicySummary!.Name).toBe('jit-sessions-1');
    expect((await org.send(new ListTagsForResourceCommand({ ResourceId: id }))).Tags).toEqual([{ Key: 'managed-by', Value: 'jit' }]);
    const listed = (await org.send(new ListPoliciesCommand({ Filter: 'SERVICE_CONTROL_POLICY' }))).Policies ?? [];
    expect(listed.map((p) => p.Name)).toEqual(['FullAWSAccess', 'jit-sessions-1']);
  });

  it('FullAWSAccess is attached to the root, every OU and every account; SCPs are enabled on the root', async () => {
    const full = await org.send(new DescribePolicyCommand({ PolicyId: FULL_AWS_ACCESS_ID }));
    expect(full.Policy!.PolicySummary!.AwsManaged).toBe(true);
    const targets = (await org.send(new ListTargetsForPolicyCommand({ PolicyId: FULL_AWS_ACCESS_ID, MaxResults: 20 }))).Targets ?? [];
    const all = [ROOT, ...fixture.ous.map((o) => o.id), ...fixture.accounts.map((a) => a.id)];
    expect(targets.length).toBe(Math.min(20, all.length));
    expect(await policiesOn(DEV)).toEqual([FULL_AWS_ACCESS_ID]);
    expect((await org.send(new ListRootsCommand({}))).Roots![0]!.PolicyTypes).toEqual([{ Type: 'SERVICE_CONTROL_POLICY', Status: 'ENABLED' }]);
    expect((await failure(org.send(new UpdatePolicyCommand({ PolicyId: FULL_AWS_ACCESS_ID, Name: 'mine' })))).name).toBe('AccessDeniedException');
  });

  it('content: 5,120 characters of minified JSON at most (whitespace outside strings does not count)', async () => {
    const sized = (n: number) => {
      const base = deny(['']);
      return deny(['x'.repeat(n - base.length)]);
    };
    expect(sized(MAX_SCP_CHARACTERS).length).toBe(MAX_SCP_CHARACTERS);
    const id = await create('at-limit', sized(MAX_SCP_CHARACTERS));
    // The same document pretty-printed is longer, and still fits: AWS counts it minified.
    const pretty = JSON.stringify(JSON.parse(sized(MAX_SCP_CHARACTERS)), null, 4);
    expect(pretty.length).toBeGreaterThan(MAX_SCP_CHARACTERS);
    await org.send(new UpdatePolicyCommand({ PolicyId: id, Content: pretty }));
    const over = await failure(create('over-limit', sized(MAX_SCP_CHARACTERS + 1)));
    expect(over).toMatchObject({ name: 'ConstraintViolationException', reason: 'POLICY_CONTENT_LIMIT_EXCEEDED' });
    expect(await failure(org.send(new UpdatePolicyCommand({ PolicyId: id, Content: sized(MAX_SCP_CHARACTERS + 1) })))).toMatchObject({ reason: 'POLICY_CONTENT_LIMIT_EXCEEDED' });
  });

  it('content must be a policy document: MalformedPolicyDocumentException says what is wrong', async () => {
    const cases: [string, RegExp][] = [
      ['{"Statement": [', /not valid JSON/],
      ['[]', /JSON object/],
      ['{"Version":"2012-10-17"}', /Statement is missing/],
      ['{"Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}', /Effect must be Allow or Deny/],
      ['{"Statement":[{"Effect":"Deny","Resource":"*"}]}', /Action and NotAction/],
      ['{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Principal":"*"}]}', /Principal/],
      ['{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":3}}}]}', /Condition.StringEquals.k/],
    ];
    for (const [content, why] of cases) {
      const f = await failure(create(`bad-${cases.findIndex((c) => c[0] === content)}`, content));
      expect(f.name, content).toBe('MalformedPolicyDocumentException');
      expect(f.message, content).toMatch(why);
    }
  });

  it('names are unique; other policy types and unknown ids are refused', async () => {
    await create('once');
    expect((await failure(create('once'))).name).toBe('DuplicatePolicyException');
    expect((await failure(org.send(new CreatePolicyCommand({ Name: 'tags', Type: 'TAG_POLICY', Content: '{}', Description: '' })))).name).toBe('PolicyTypeNotEnabledException');
    expect((await failure(org.send(new DescribePolicyCommand({ PolicyId: 'p-00000000' })))).name).toBe('PolicyNotFoundException');
    expect((await failure(org.send(new DescribePolicyCommand({ PolicyId: 'nope' })))).name).toBe('InvalidInputException');
  });
});

describe('attachments', () => {
  it('attach, list both ways, detach; attaching twice and detaching what is not attached are refused', async () => {
    const id = await create('cut');
    await org.send(new AttachPolicyCommand({ PolicyId: id, TargetId: DEV }));
    await org.send(new AttachPolicyCommand({ PolicyId: id, TargetId: WORKLOADS }));
    expect(await policiesOn(DEV)).toEqual([FULL_AWS_ACCESS_ID, id]);
    const targets = (await org.send(new ListTargetsForPolicyCommand({ PolicyId: id }))).Targets ?? [];
    expect(targets.map((t) => [t.TargetId, t.Type, t.Name])).toEqual([
      [DEV, 'ACCOUNT', 'payments-dev'],
      [WORKLOADS, 'ORGANIZATIONAL_UNIT', 'Workloads'],
    ]);
    expect((await failure(org.send(new AttachPolicyCommand({ PolicyId: id, TargetId: DEV })))).name).toBe('DuplicatePolicyAttachmentException');
    await org.send(new DetachPolicyCommand({ PolicyId: id, TargetId: DEV }));
    expect(await policiesOn(DEV)).toEqual([FULL_AWS_ACCESS_ID]);
    expect((await failure(org.send(new DetachPolicyCommand({ PolicyId: id, TargetId: DEV })))).name).toBe('PolicyNotAttachedException');
    expect((await failure(org.send(new AttachPolicyCommand({ PolicyId: id, TargetId: '999999999999' })))).name).toBe('TargetNotFoundException');
  });

  it('at most 5 SCPs per target, FullAWSAccess included: the sixth is POLICY_NUMBER_LIMIT_EXCEEDED', async () => {
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await create(`p${i}`));
    for (const id of ids.slice(0, 4)) await org.send(new AttachPolicyCommand({ PolicyId: id, TargetId: ROOT }));
    const sixth = await failure(org.send(new AttachPolicyCommand({ PolicyId: ids[4], TargetId: ROOT })));
    expect(sixth).toMatchObject({ name: 'ConstraintViolationException', reason: 'POLICY_NUMBER_LIMIT_EXCEEDED' });
    expect((await policiesOn(ROOT)).length).toBe(5);
    // The limit is per target: the fifth still fits on an account.
    await org.send(new AttachPolicyCommand({ PolicyId: ids[4], TargetId: DEV }));
  });

  it('a target keeps at least one SCP', async () => {
    const f = await failure(org.send(new DetachPolicyCommand({ PolicyId: FULL_AWS_ACCESS_ID, TargetId: DEV })));
    expect(f as { reason?: string }).toMatchObject({ name: 'ConstraintViolationException', reason: 'MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED' });
    const id = await create('replacement');
    await org.send(new AttachPolicyCommand({ PolicyId: id, TargetId: DEV }));
    await org.send(new DetachPolicyCommand({ PolicyId: FULL_AWS_ACCESS_ID, TargetId: DEV }));
    expect(await policiesOn(DEV)).toEqual([id]);
  });

  it('DeletePolicy is refused while the policy is attached (PolicyInUseException), then deletes', async () => {
    const id = await create('in-use');
    await org.send(new AttachPolicyCommand({ PolicyId: id, TargetId: DEV }));
    expect((await failure(org.send(new DeletePolicyCommand({ PolicyId: id })))).name).toBe('PolicyInUseException');
    await org.send(new DetachPolicyCommand({ PolicyId: id, TargetId: DEV }));
    await org.send(new DeletePolicyCommand({ PolicyId: id }));
    expect((await failure(org.send(new DescribePolicyCommand({ PolicyId: id })))).name).toBe('PolicyNotFoundException');
    // Its name is free again.
    await create('in-use');
  });
});

describe('faults', () => {
  it('fault rules answer Organizations calls with its throttle and concurrency errors, narrowed by operation and account', async () => {
    const id = await create('busy');
    emu.setKnobs({
      faults: [
        { operations: ['AttachPolicy'], accountId: DEV, times: 1, effect: { type: 'error', code: 'ConcurrentModificationException' } },
        { operations: ['UpdatePolicy'], times: 1, effect: { type: 'error', code: 'TooManyRequestsException' } },
      ],
    });
    expect((await failure(org.send(new AttachPolicyCommand({ PolicyId: id, TargetId: DEV })))).name).toBe('ConcurrentModificationException');
    await org.send(new AttachPolicyCommand({ PolicyId: id, TargetId: DEV }));
    expect((await failure(org.send(new UpdatePolicyCommand({ PolicyId: id, Description: 'x' })))).name).toBe('TooManyRequestsException');
    await org.send(new UpdatePolicyCommand({ PolicyId: id, Description: 'x' }));
  });
});

describe('tags', () => {
  it('TagResource / UntagResource / ListTagsForResource on policies and accounts', async () => {
    const id = await create('tagged');
    await org.send(new TagResourceCommand({ ResourceId: id, Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }] }));
    await org.send(new UntagResourceCommand({ ResourceId: id, TagKeys: ['a'] }));
    expect((await org.send(new ListTagsForResourceCommand({ ResourceId: id }))).Tags).toEqual([{ Key: 'b', Value: '2' }]);
    await org.send(new TagResourceCommand({ ResourceId: DEV, Tags: [{ Key: 'owner', Value: 'payments' }] }));
    const devTags = (await org.send(new ListTagsForResourceCommand({ ResourceId: DEV }))).Tags ?? [];
    expect(devTags).toContainEqual({ Key: 'owner', Value: 'payments' });
    expect(devTags).toContainEqual({ Key: 'env', Value: 'dev' });
    const many = Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    expect((await failure(org.send(new TagResourceCommand({ ResourceId: id, Tags: many })))).name).toBe('ConstraintViolationException');
    expect((await failure(org.send(new ListTagsForResourceCommand({ ResourceId: 'p-00000000' })))).name).toBe('TargetNotFoundException');
  });
});

describe('what applies to an account', () => {
  it('a change applies scpPropagationSeconds after it was made; OUs and the root apply to their accounts', async () => {
    const policies = () => emu.organizationPolicies;
    const denies = () =>
      policies()
        .effectiveFor(DEV)
        .flatMap((level) => level.statements)
        .filter((s) => s.Effect === 'Deny').length;
    const id = await create('cut');
    await org.send(new AttachPolicyCommand({ PolicyId: id, TargetId: WORKLOADS }));
    expect(denies()).toBe(0);
    clock.t += 2_999;
    expect(denies()).toBe(0);
    clock.t += 1;
    expect(denies()).toBe(1);
    expect(policies().effectiveFor(DEV).map((l) => l.targetId)).toEqual([DEV, fixture.ous.find((o) => o.path === 'Workloads/Dev')!.id, WORKLOADS, ROOT]);
    await org.send(new DetachPolicyCommand({ PolicyId: id, TargetId: WORKLOADS }));
    expect(denies()).toBe(1);
    clock.t += 3_000;
    expect(denies()).toBe(0);
  });

  it('an update applies after the delay; until then the previous content applies', async () => {
    const id = await create('cut', deny(['u-1']));
    await org.send(new AttachPolicyCommand({ PolicyId: id, TargetId: DEV }));
    clock.t += 3_000;
    const users = () =>
      emu.organizationPolicies
        .effectiveFor(DEV)[0]!
        .statements.flatMap((s) => (s.Condition?.StringEquals?.['identitystore:userId'] as string[] | undefined) ?? []);
    expect(users()).toEqual(['u-1']);
    await org.send(new UpdatePolicyCommand({ PolicyId: id, Content: deny(['u-1', 'u-2']) }));
    expect(users()).toEqual(['u-1']);
    clock.t += 3_000;
    expect(users()).toEqual(['u-1', 'u-2']);
  });

  it('policies, attachments and tags survive a snapshot and restore', async () => {
    const id = await create('kept');
    await org.send(new AttachPolicyCommand({ PolicyId: id, TargetId: DEV }));
    await org.send(new TagResourceCommand({ ResourceId: id, Tags: [{ Key: 'managed-by', Value: 'jit' }] }));
    const saved = JSON.parse(JSON.stringify(emu.snapshot()));
    emu = createIdentityCenterEmulator({ fixture, clock, snapshot: saved });
    expect(await policiesOn(DEV)).toEqual([FULL_AWS_ACCESS_ID, id]);
    expect((await org.send(new ListTagsForResourceCommand({ ResourceId: id }))).Tags).toEqual([{ Key: 'managed-by', Value: 'jit' }]);
    // An account the fixture gained since joins with FullAWSAccess.
    const grown = { ...fixture, accounts: [...fixture.accounts, { id: '777777777777', name: 'newcomer', email: 'newcomer@example.com', parentId: ROOT, tags: {} }] };
    emu = createIdentityCenterEmulator({ fixture: grown, clock, snapshot: saved });
    expect(await policiesOn('777777777777')).toEqual([FULL_AWS_ACCESS_ID]);
    expect(await policiesOn(DEV)).toEqual([FULL_AWS_ACCESS_ID, id]);
  });
});
