import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PolicyError } from '../../lib/policy/index.ts';
import { checkPolicy } from '../../scripts/check-policy.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const ORG = resolve(ROOT, 'local/org.example.yaml');
const dir = mkdtempSync(join(tmpdir(), 'policy-check-'));
const write = (name: string, text: string) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

describe('npm run policy:check', () => {
  it('passes the demo policy against the demo org, warning about the session that outlives a dev-readonly grant and its SCIM-provisioned group target', async () => {
    const { problems, warnings } = await checkPolicy([resolve(ROOT, 'config/policy.local.yaml'), '--org', ORG]);
    expect(problems).toEqual([]);
    expect(warnings).toEqual([
      "rule dev-readonly: permission set ReadOnlyAccess has SessionDuration PT8H, longer than the rule's max duration PT4H; unless session revocation is on (sessionRevocation: scp), a session started during a grant outlives it",
      'rule oncall: group target OktaOnCall is provisioned by SCIM from https://example.okta.com: a membership this system adds is not synced back and the IdP\'s next push can undo it; use a group created in Identity Center for JIT',
    ]);
  });

  it('lists names that do not resolve, and the management account for a delegated admin', async () => {
    const file = write(
      'bad.yaml',
      `version: 1
rules:
  - id: everything
    requesters: { groups: [Developers, NoSuchGroup] }
    targets:
      accounts: { ids: ["111111111111", "999999999999"] }
      permissionSets: [ReadOnlyAccess, NoSuchSet]
    approval: { approvers: { users: [nobody@example.com] } }
`,
    );
    const { problems } = await checkPolicy([file, '--org', ORG, '--delegated-admin']);
    expect(problems.join('\n')).toMatch(/NoSuchGroup/);
    expect(problems.join('\n')).toMatch(/NoSuchSet/);
    expect(problems.join('\n')).toMatch(/999999999999/);
    expect(problems.join('\n')).toMatch(/nobody@example.com/);
    expect(problems.join('\n')).toMatch(/management account/i);
  });

  it('reports a malformed file with its line before looking anything up', async () => {
    const file = write('broken.yaml', 'version: 1\nrules:\n  - id: Bad Id\n');
    await expect(checkPolicy([file, '--org', ORG])).rejects.toBeInstanceOf(PolicyError);
    await expect(checkPolicy([file, '--org', ORG])).rejects.toThrow(/broken\.yaml:3:/);
  });

  it('warns, without failing, on rules whose permission sets\' SessionDuration is longer than the rule\'s max duration', async () => {
    const file = write(
      'sessions.yaml',
      `version: 1
rules:
  - id: short-grants
    requesters: { groups: [Developers] }
    targets:
      accounts: { ids: ["444444444444"] }
      permissionSets: [ReadOnlyAccess, AdministratorAccess]
    duration: { min: PT15M, max: PT2H, default: PT1H }
    approval: { autoApprove: true }
`,
    );
    const { problems, warnings } = await checkPolicy([file, '--org', ORG]);
    expect(problems).toEqual([]);
    // ReadOnlyAccess: PT8H > PT2H; AdministratorAccess: PT1H fits.
    expect(warnings).toEqual([expect.stringMatching(/^rule short-grants: permission set ReadOnlyAccess has SessionDuration PT8H, longer than the rule's max duration PT2H/)]);
  });
});
