/**
 * IAM enforcement in packaged mode bites: the packaged template with one permission the
 * workflows need taken out makes a grant FAILED with a reason that names the permission,
 * and the action table knows every AWS action the code calls.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, type LocalCloud } from '../../local/cloud.ts';
import { requiredPermissions, UnknownActionError, type AwsCall } from '../../local/iam/actions.ts';
import { editedPackage, type EditedPackage } from '../support/edited-package.ts';
import { httpClient, startFastLocalCloud } from '../support/local-cloud.ts';

describe('a packaged template without identitystore:CreateGroupMembership', () => {
  let cloud: LocalCloud;
  let edited: EditedPackage;
  beforeAll(async () => {
    let removed = 0;
    edited = await editedPackage((template) => {
      for (const policy of template.Resources.IdentityCenterTaskRole!.Properties.Policies as Array<{ PolicyDocument: { Statement: Array<{ Action: string | string[] }> } }>) {
        for (const statement of policy.PolicyDocument.Statement) {
          const actions = ([] as string[]).concat(statement.Action);
          if (!actions.includes('identitystore:CreateGroupMembership')) continue;
          statement.Action = actions.filter((a) => a !== 'identitystore:CreateGroupMembership');
          removed++;
        }
      }
    });
    expect(removed).toBe(1);
    cloud = await startFastLocalCloud({ packaged: true, packageDir: edited.dir, idcKnobs: { provisioningDelayMs: { minMs: 20, maxMs: 50 } } });
  }, 120_000);
  afterAll(async () => {
    await cloud?.stop();
    edited?.remove();
  });

  it('ends a group grant FAILED with a reason that names the missing permission, and grants nothing', async () => {
    const call = httpClient(() => cloud);
    const created = await call('POST', '/grants', 'carol@example.com', { target: { type: 'group', group: 'BreakGlass' }, duration: 'PT30S', justification: 'incident' });
    expect(created.status).toBe(201);
    expect((await call('POST', `/grants/${created.body.id}/approve`, 'dave@example.com', {})).status).toBe(200);
    let grant = created.body;
    for (const deadline = Date.now() + 30_000; !['FAILED', 'ACTIVE', 'EXPIRED'].includes(grant.status) && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 200));
      grant = (await call('GET', `/grants/${created.body.id}`, 'carol@example.com')).body;
    }
    expect(grant.status).toBe('FAILED');
    expect(grant.failureReason).toContain('identitystore:CreateGroupMembership');
    expect(grant.failureReason).not.toMatch(/[{}]|trace|\/var\/task|file:\/\//);
    expect(cloud.idc.memberships().some((m) => m.groupId === cloud.idc.groupId('BreakGlass'))).toBe(false);
  });
});

describe('the local IAM action table', () => {
  const SERVICE_OF_PACKAGE: Record<string, AwsCall['service']> = {
    'client-dynamodb': 'dynamodb',
    'lib-dynamodb': 'dynamodb',
    'client-sfn': 'states',
    'client-scheduler': 'scheduler',
    'client-sso-admin': 'sso',
    'client-identitystore': 'identitystore',
    'client-organizations': 'organizations',
    'client-ssm': 'ssm',
    'client-secrets-manager': 'secretsmanager',
    'client-sts': 'sts',
  };
  /** lib-dynamodb's document commands and the API each one sends. */
  const DOCUMENT_COMMANDS: Record<string, string> = { Get: 'GetItem', Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', Query: 'Query', Scan: 'Scan', BatchGet: 'BatchGetItem', BatchWrite: 'BatchWriteItem', TransactWrite: 'TransactWriteItems', TransactGet: 'TransactGetItems' };
  const SFN_SERVICES: Record<string, AwsCall['service']> = { dynamodb: 'dynamodb', ssoadmin: 'sso', identitystore: 'identitystore', sfn: 'states', scheduler: 'scheduler', organizations: 'organizations', ssm: 'ssm', sts: 'sts' };

  const sources = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));

  const LAZY_PACKAGES: Record<string, string> = { sfn: 'client-sfn', scheduler: 'client-scheduler', ssoAdmin: 'client-sso-admin', organizations: 'client-organizations', sts: 'client-sts', ssm: 'client-ssm', secretsManager: 'client-secrets-manager' };

  /** Every (service, operation) the functions and the state machines call. */
  async function calledOperations(): Promise<Array<{ service: AwsCall['service']; operation: string; where: string }>> {
    const exports = new Map<string, Set<string>>();
    for (const pkg of Object.keys(SERVICE_OF_PACKAGE)) exports.set(pkg, new Set(Object.keys((await import(`@aws-sdk/${pkg}`)) as object)));
    const found: Array<{ service: AwsCall['service']; operation: string; where: string }> = [];
    for (const file of [...sources(path.join(ROOT, 'lib')), ...sources(path.join(ROOT, 'functions'))]) {
      const text = readFileSync(file, 'utf8');
      // The SDK packages this file uses, statically or through lib/adapters/lazy-sdk.ts.
      const packages = new Set([
        ...[...text.matchAll(/from '@aws-sdk\/([a-z-]+)'/g)].map((m) => m[1]!),
        ...[...text.matchAll(/lazySdk\.(\w+)\(/g)].map((m) => LAZY_PACKAGES[m[1]!]!),
      ]);
      for (const name of new Set([...text.matchAll(/\b([A-Z]\w+Command)\b/g)].map((m) => m[1]!))) {
        for (const pkg of packages) {
          if (!exports.get(pkg)?.has(name)) continue;
          const command = name.slice(0, -'Command'.length);
          found.push({ service: SERVICE_OF_PACKAGE[pkg]!, operation: pkg === 'lib-dynamodb' ? DOCUMENT_COMMANDS[command] ?? command : command, where: path.relative(ROOT, file) });
        }
      }
    }
    for (const machine of ['grant', 'revoke']) {
      const text = readFileSync(path.join(ROOT, 'statemachines', `${machine}.asl.json`), 'utf8');
      for (const m of text.matchAll(/arn:aws:states:::aws-sdk:(\w+):(\w+)/g)) {
        found.push({ service: SFN_SERVICES[m[1]!]!, operation: m[2]![0]!.toUpperCase() + m[2]!.slice(1), where: `statemachines/${machine}.asl.json` });
      }
    }
    return found;
  }

  it('has a row for every operation the code calls (a missing row would deny it in packaged mode)', async () => {
    const operations = await calledOperations();
    expect(operations.length).toBeGreaterThan(20);
    const known = ({ service, operation }: { service: AwsCall['service']; operation: string }) => {
      try {
        requiredPermissions({ service, operation, input: {}, region: 'us-east-1', accountId: '000000000000' });
        return true;
      } catch (error) {
        return !(error instanceof UnknownActionError);
      }
    };
    // A command name two of a file's SDK packages export (ListTagsForResource) is that of one of them.
    const missing = operations.filter((op) => !known(op) && !operations.some((o) => o !== op && o.where === op.where && o.operation === op.operation && known(o)));
    expect(missing).toEqual([]);
  });
});
