/**
 * `npm run session` and `npm run whoami` against a started local cloud: a token from the
 * cloud's own issuer key (as `npm run token` makes it), GetRoleCredentials and
 * GetCallerIdentity through the edge, and an SCP written through Organizations that cuts
 * the session once it has propagated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AttachPolicyCommand, CreatePolicyCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import type { LocalCloud } from '../../local/cloud.ts';
import { session, whoami } from '../../local/session.ts';
import { startFastLocalCloud } from '../support/local-cloud.ts';

const DEV = '444444444444';
let cloud: LocalCloud;
let dataDir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'sessions-'));
  cloud = await startFastLocalCloud({ dataDir, functions: [], scheduledFunctions: false, slack: false, idcKnobs: { scpPropagationSeconds: 0.2 } });
  env = { LOCAL_DATA_DIR: dataDir, PORT: new URL(cloud.gatewayUrl).port, AWS_ENDPOINT_URL: cloud.edgeUrl };
}, 120_000);
afterAll(async () => {
  await cloud?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The variables the printed `export` line sets. */
function exported(text: string): Record<string, string> {
  const line = text.split('\n').find((l) => l.startsWith('export '));
  return Object.fromEntries([...(line ?? '').matchAll(/(AWS_[A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
}

describe('npm run session / whoami', () => {
  it('prints the credentials of a role session; whoami answers its assumed role; an SCP that cuts it refuses it once propagated', async () => {
    const printed = await session(['bob@example.com', DEV, 'ReadOnlyAccess'], env);
    const vars = exported(printed);
    expect(Object.keys(vars)).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']);
    expect(printed).toMatch(/bob@example.com as ReadOnlyAccess in 444444444444, valid until /);
    const identity = await whoami({ ...env, ...vars });
    expect(identity.Account).toBe(DEV);
    expect(identity.Arn).toMatch(/^arn:aws:sts::444444444444:assumed-role\/AWSReservedSSO_ReadOnlyAccess_[0-9a-f]{16}\/bob$/);

    const orgs = new OrganizationsClient({ endpoint: cloud.edgeUrl, region: 'us-east-1' });
    const cutoff = new Date(Date.now() + 1).toISOString();
    const content = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'identitystore:userId': [cloud.idc.userId('bob')] }, DateLessThan: { 'aws:TokenIssueTime': cutoff } } }],
    });
    const policy = await orgs.send(new CreatePolicyCommand({ Name: 'cut-bob', Description: '', Type: 'SERVICE_CONTROL_POLICY', Content: content }));
    await orgs.send(new AttachPolicyCommand({ PolicyId: policy.Policy!.PolicySummary!.Id!, TargetId: DEV }));
    orgs.destroy();

    const deadline = Date.now() + 30_000;
    let outcome = '';
    while (Date.now() < deadline) {
      outcome = await whoami({ ...env, ...vars }).then(
        () => 'allowed',
        (e: Error) => e.name,
      );
      if (outcome !== 'allowed') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(outcome).toBe('AccessDenied');
    // A session taken after the cutoff works.
    const later = exported(await session(['bob@example.com', DEV, 'ReadOnlyAccess'], env));
    expect((await whoami({ ...env, ...later })).Account).toBe(DEV);
  });

  it('says why when the user does not hold the access, and what to do without credentials', async () => {
    await expect(session(['dave@example.com', DEV, 'AdministratorAccess'], env)).rejects.toMatchObject({ name: 'ForbiddenException', message: 'No access' });
    await expect(whoami({ AWS_ENDPOINT_URL: cloud.edgeUrl })).rejects.toThrow(/npm run -s session first/);
    await expect(session(['bob@example.com', 'dev', 'ReadOnlyAccess'], env)).rejects.toThrow(/not a 12-digit account id/);
  });
});
