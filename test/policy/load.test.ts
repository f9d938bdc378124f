import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/errors.ts';
import { loadPolicyFile, parsePolicy, PolicyError, type PolicyProblem } from '../../lib/policy/index.ts';

/** A valid policy; tests break one thing at a time. Line numbers below refer to this text. */
const VALID = `version: 1
admins:
  groups: [PlatformAdmins]
rules:
  - id: dev-readonly
    requesters:
      groups: [Developers]
    targets:
      accounts:
        tags: { env: dev }
      permissionSets: [ReadOnlyAccess]
    duration:
      min: PT15M
      max: PT4H
      default: PT1H
    approval:
      autoApprove: true
`;

function problemsOf(text: string, source = 'policy.yaml'): PolicyProblem[] {
  try {
    parsePolicy(text, source);
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    expect(err).toBeInstanceOf(ConfigError);
    return (err as PolicyError).problems;
  }
  throw new Error('expected the policy to be rejected');
}

function messageOf(text: string, source = 'policy.yaml'): string {
  try {
    parsePolicy(text, source);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the policy to be rejected');
}

describe('parsePolicy', () => {
  it('accepts a valid policy and fills in defaults', () => {
    const doc = parsePolicy(VALID);
    expect(doc.admins).toEqual({ users: [], groups: ['PlatformAdmins'] });
    expect(doc.defaults.pendingExpiry).toBe('PT24H');
    const rule = doc.rules[0]!;
    expect(rule.duration).toEqual({ min: 'PT15M', max: 'PT4H', default: 'PT1H', maxTotal: 'PT4H' });
    expect(rule.targets).toEqual({
      type: 'account',
      accounts: { ids: [], ous: [], tags: { env: ['dev'] } },
      permissionSets: ['ReadOnlyAccess'],
    });
    expect(rule.approval).toEqual({ autoApprove: true, approvers: { users: [], groups: [] }, quorum: 1, allowSelfApproval: false });
    expect(rule.pendingExpiry).toBe('PT24H');
  });

  it('inherits duration fields and pendingExpiry from defaults', () => {
    const doc = parsePolicy(`version: 1
defaults:
  pendingExpiry: PT2H
  duration: { min: PT5M, max: PT2H, default: PT30M, maxTotal: PT6H }
  slack: { channel: "#jit" }
rules:
  - id: a
    requesters: { users: [bob] }
    targets: { groups: [BreakGlass] }
    approval: { approvers: { users: [dave, erin] }, quorum: 2 }
  - id: b
    requesters: { users: [bob] }
    targets: { groups: [BreakGlass] }
    duration: { max: PT1H }
    approval: { autoApprove: true }
    slack: { channel: "#other" }
`);
    const [a, b] = doc.rules;
    expect(a!.duration).toEqual({ min: 'PT5M', max: 'PT2H', default: 'PT30M', maxTotal: 'PT6H' });
    expect(a!.pendingExpiry).toBe('PT2H');
    expect(a!.slack).toEqual({ channel: '#jit' });
    // A rule that sets its own max gets maxTotal = that max, not the defaults' total.
    expect(b!.duration).toEqual({ min: 'PT5M', max: 'PT1H', default: 'PT30M', maxTotal: 'PT1H' });
    expect(b!.slack).toEqual({ channel: '#other' });
    expect(a!.approval.quorum).toBe(2);
  });

  it('keeps quoted account ids and accepts unquoted 12-digit ones', () => {
    const doc = parsePolicy(VALID.replace('tags: { env: dev }', 'ids: ["012345678901", 123456789012]'));
    const t = doc.rules[0]!.targets;
    expect(t.type === 'account' && t.accounts.ids).toEqual(['012345678901', '123456789012']);
  });

  it('reports a malformed duration at its value', () => {
    const problems = problemsOf(VALID.replace('max: PT4H', 'max: 4 hours'));
    expect(problems).toEqual([
      { line: 14, column: 12, path: 'rules[0].duration.max', message: expect.stringContaining('ISO 8601 duration') },
    ]);
  });

  it('reports an unknown key at the key, with the source file name', () => {
    const text = VALID.replace('    approval:\n', '    aproval: {}\n    approval:\n');
    const problems = problemsOf(text, 'config/policy.yaml');
    expect(problems).toEqual([{ line: 16, column: 5, path: 'rules[0].aproval', message: 'unknown field "aproval"' }]);
    expect(messageOf(text, 'config/policy.yaml')).toContain('config/policy.yaml:16:5 rules[0].aproval: unknown field "aproval"');
  });

  it('reports min above max at the field that is wrong', () => {
    const problems = problemsOf(VALID.replace('min: PT15M', 'min: PT5H'));
    expect(problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`)).toEqual([
      '13:12 rules[0].duration.min: min PT5H must not be above default PT1H',
    ]);
    const both = problemsOf(VALID.replace('min: PT15M', 'min: PT5H').replace('default: PT1H', 'default: PT5H'));
    expect(both.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`)).toEqual([
      '15:16 rules[0].duration.default: default PT5H must not be above max PT4H',
    ]);
  });

  it('names a bound that comes from defaults', () => {
    const problems = problemsOf(VALID.replace('      default: PT1H\n', '').replace('max: PT4H', 'max: PT30M'));
    expect(problems).toEqual([
      { line: 14, column: 12, path: 'rules[0].duration.max', message: 'default PT1H (built-in default) must not be above max PT30M' },
    ]);
  });

  it('reports maxTotal below max', () => {
    const problems = problemsOf(VALID.replace('default: PT1H', 'default: PT1H\n      maxTotal: PT2H'));
    // Both written in the rule: the lower bound of the pair is reported.
    expect(problems).toEqual([{ line: 14, column: 12, path: 'rules[0].duration.max', message: 'max PT4H must not be above maxTotal PT2H' }]);
  });

  it('reports a duplicate rule id at the second one', () => {
    const rule = VALID.slice(VALID.indexOf('  - id:'));
    const problems = problemsOf(VALID + rule);
    expect(problems).toEqual([
      { line: 18, column: 9, path: 'rules[1].id', message: 'duplicate rule id "dev-readonly" (first used by rules[0])' },
    ]);
  });

  it('reports YAML syntax errors with their position', () => {
    const problems = problemsOf(VALID.replace('groups: [Developers]', 'groups: [Developers'));
    // yaml notices the unclosed list where the next key starts.
    expect(problems).toEqual([{ line: 8, column: 5, path: '', message: expect.stringMatching(/^YAML syntax: Flow sequence .* end with a \]/) }]);
    expect(messageOf(VALID.replace('groups: [Developers]', 'groups: [Developers'))).toMatch(/policy\.yaml:8:5: YAML syntax: /);
    // A tab used for indentation is reported where it is.
    expect(problemsOf(VALID.replace('      min: PT15M', '\tmin: PT15M'))[0]).toMatchObject({ line: 13, path: '' });
  });

  it('reports a duplicate YAML key', () => {
    const problems = problemsOf(VALID.replace('      autoApprove: true\n', '      autoApprove: true\n      autoApprove: false\n'));
    expect(problems).toEqual([{ line: 18, column: 7, path: '', message: 'YAML syntax: Map keys must be unique' }]);
  });

  it('lists every problem at once, in file order', () => {
    const text = `version: 2
admins: { users: [x], team: [y] }
rules:
  - id: Bad_Id
    requesters: { users: [bob] }
    targets: { groups: [G] }
    approval: { autoApprove: true }
  - id: needs-approvers
    requesters: {}
    targets: { groups: [G], permissionSets: [ReadOnlyAccess] }
    approval: { autoApprove: false }
  - id: quorum-too-high
    requesters: { users: [bob] }
    targets: { accounts: { ids: [12345] }, permissionSets: [ReadOnlyAccess] }
    approval: { approvers: { users: [dave, DAVE] }, quorum: 2 }
`;
    const problems = problemsOf(text);
    expect(problems.map((p) => `${p.line}:${p.column} ${p.path}`)).toEqual([
      '1:10 version',
      '2:23 admins.team',
      '4:9 rules[0].id',
      '9:5 rules[1].requesters',
      '10:16 rules[1].targets.groups',
      '11:5 rules[1].approval',
      '14:34 rules[2].targets.accounts.ids[0]',
    ]);
    expect(problems.find((p) => p.path === 'rules[2].targets.accounts.ids[0]')!.message).toMatch(/12-digit.*quotes/);
    expect(problems.find((p) => p.path === 'rules[1].approval')!.message).toMatch(/approvers .* required unless autoApprove/);
  });

  it('refuses a quorum that only listed users can never reach', () => {
    const text = VALID.replace('      autoApprove: true\n', '      approvers: { users: [dave@example.com, DAVE@example.com] }\n      quorum: 2\n');
    expect(problemsOf(text)).toEqual([
      { line: 18, column: 15, path: 'rules[0].approval.quorum', message: expect.stringContaining('quorum 2 can never be reached') },
    ]);
  });

  it('points at the nearest existing node for a missing field', () => {
    const problems = problemsOf(VALID.replace('    approval:\n      autoApprove: true\n', ''));
    expect(problems).toEqual([{ line: 5, column: 5, path: 'rules[0].approval', message: 'is required' }]);
  });

  it('refuses targets mixing accounts and groups, and accounts without a selector', () => {
    expect(problemsOf(VALID.replace('      permissionSets: [ReadOnlyAccess]\n', '      permissionSets: [ReadOnlyAccess]\n      groups: [BreakGlass]\n'))).toEqual([
      { line: 12, column: 7, path: 'rules[0].targets.groups', message: expect.stringContaining('either accounts with permissionSets, or groups') },
    ]);
    expect(problemsOf(VALID.replace('tags: { env: dev }', 'ids: []'))).toEqual([
      { line: 9, column: 7, path: 'rules[0].targets.accounts', message: 'needs at least one selector: ids, ous or tags' },
    ]);
  });

  it('refuses an empty or non-mapping document', () => {
    expect(problemsOf('')[0]).toMatchObject({ line: 1, column: 1 });
    expect(problemsOf('- 1\n- 2\n')[0]).toMatchObject({ line: 1, column: 1, path: '' });
  });
});

describe('loadPolicyFile', () => {
  it('loads a file and names it in errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-'));
    const good = join(dir, 'good.yaml');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(good, VALID);
    writeFileSync(bad, VALID.replace('min: PT15M', 'min: fifteen'));
    expect((await loadPolicyFile(good)).rules).toHaveLength(1);
    await expect(loadPolicyFile(bad)).rejects.toThrow(`${bad}:13:12 rules[0].duration.min:`);
    await expect(loadPolicyFile(join(dir, 'missing.yaml'))).rejects.toThrow(/cannot read policy file .*missing\.yaml/);
  });

  it('accepts the shipped example and local policies', async () => {
    const example = await loadPolicyFile('config/policy.example.yaml');
    expect(example.rules.map((r) => r.id)).toEqual(['dev-readonly', 'prod-admin', 'break-glass']);
    const local = await loadPolicyFile('config/policy.local.yaml');
    expect(local.rules.length).toBeGreaterThanOrEqual(4);
  });
});
