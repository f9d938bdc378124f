/**
 * The local Secrets Manager and how the local cloud deploys the template's secrets: generated
 * values honouring GenerateSecretString, `Ref` and the created secret agreeing on the ARN, and
 * IAM in packaged mode authorizing against the full ARN whether a call names the secret by ARN
 * or by name. (The API itself is compared with moto in test/conformance.)
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.ts';
import type { LocalCloud } from '../../local/cloud.ts';
import { IamEnforcer } from '../../local/iam/enforcer.ts';
import { generateSecretString, LocalSecretsManager, templateSecretArn } from '../../local/secretsmanager.ts';
import { findFunction, loadServerlessConfig, resolveFunctionEnvironment, resolveIntrinsics } from '../../local/serverless-config.ts';
import { startFastLocalCloud } from '../support/local-cloud.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ctx = { region: 'us-east-1', accountId: '000000000000' };

describe('GenerateSecretString', () => {
  it('honours the length and the excluded character classes', () => {
    for (let i = 0; i < 50; i++) {
      expect(generateSecretString({ PasswordLength: 64, ExcludePunctuation: true })).toMatch(/^[A-Za-z0-9]{64}$/);
      expect(generateSecretString({ PasswordLength: 20, ExcludeNumbers: true, ExcludeUppercase: true, ExcludePunctuation: true })).toMatch(/^[a-z]{20}$/);
      expect(generateSecretString({ PasswordLength: 12, ExcludeCharacters: 'abcdefghijklmnopqrstuvwxyz', ExcludePunctuation: true })).toMatch(/^[A-Z0-9]{12}$/);
    }
    expect(generateSecretString()).toHaveLength(32);
    // RequireEachIncludedType (the default): every class appears.
    for (let i = 0; i < 50; i++) expect(generateSecretString({ PasswordLength: 4, ExcludePunctuation: true })).toMatch(/^(?=.*[A-Z])(?=.*[a-z])(?=.*[0-9]).{4}$/);
    expect(new Set(Array.from({ length: 20 }, () => generateSecretString({ PasswordLength: 64 }))).size).toBe(20);
  });

  it('fills the template key when a SecretStringTemplate is given', () => {
    const value = JSON.parse(generateSecretString({ SecretStringTemplate: '{"username":"jit"}', GenerateStringKey: 'password', PasswordLength: 16 }));
    expect(value).toEqual({ username: 'jit', password: expect.stringMatching(/^.{16}$/) });
  });
});

describe('LocalSecretsManager', () => {
  it('creates a template secret at the ARN Ref gives, and finds it by ARN, partial ARN or name', async () => {
    const secrets = new LocalSecretsManager();
    const arn = templateSecretArn('jit-local/cursor-key');
    expect(arn).toMatch(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:jit-local\/cursor-key-[A-Za-z0-9]{6}$/);
    expect(templateSecretArn('jit-local/cursor-key')).toBe(arn);
    expect(templateSecretArn('jit-other/cursor-key')).not.toBe(arn.replace('jit-local', 'jit-other'));
    secrets.createFromTemplate(arn, { Name: 'jit-local/cursor-key', GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true } });
    const values = new Set<unknown>();
    for (const id of [arn, arn.slice(0, -7), 'jit-local/cursor-key']) {
      const out = (await secrets.handle('GetSecretValue', { SecretId: id }, ctx)) as { ARN: string; SecretString: string };
      expect(out.ARN).toBe(arn);
      expect(out.SecretString).toMatch(/^[A-Za-z0-9]{64}$/);
      values.add(out.SecretString);
      expect(secrets.arnOf(id, ctx.region, ctx.accountId)).toBe(arn);
    }
    expect(values.size).toBe(1);
    expect(secrets.arnOf('nope', ctx.region, ctx.accountId)).toBeUndefined();
    expect(secrets.arnOf('jit-local/cursor-key', 'eu-west-1', ctx.accountId)).toBeUndefined();
    await expect(secrets.handle('GetSecretValue', { SecretId: 'nope' }, ctx)).rejects.toMatchObject({ code: 'ResourceNotFoundException', status: 400 });
    await expect(secrets.handle('DeleteSecret', { SecretId: arn }, ctx)).rejects.toMatchObject({ code: 'UnknownOperationException' });
  });
});

describe('serverless.yml: the cursor key secret', () => {
  const config = loadServerlessConfig({ file: path.join(ROOT, 'serverless.yml'), stage: 'dev' });

  it('reaches the paginated routes (listGrants, getAudit, and only them) as CURSOR_KEY_SECRET_ARN, the same ARN their IAM policy names', () => {
    const arn = resolveIntrinsics({ Ref: 'CursorKeySecret' }, config);
    expect(arn).toBe(templateSecretArn('identity-center-jit-dev/cursor-key'));
    const paginated = ['listGrants', 'getAudit'];
    for (const name of paginated) {
      const env = resolveFunctionEnvironment(config, findFunction(config, name));
      expect(env.CURSOR_KEY_SECRET_ARN, name).toBe(arn);
      expect(loadConfig(env).CURSOR_KEY_SECRET_ARN).toBe(arn);
    }
    for (const fn of config.functions.filter((f) => !paginated.includes(f.name))) expect(resolveFunctionEnvironment(config, fn).CURSOR_KEY_SECRET_ARN, fn.name).toBeUndefined();
    const policy = resolveIntrinsics(config.resources.Resources.CursorKeyReadPolicy, config) as { Properties: { PolicyDocument: { Statement: unknown[] } } };
    expect(policy.Properties.PolicyDocument.Statement).toEqual([{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: arn }]);
  });
});

describe('IAM on Secrets Manager calls (packaged mode)', () => {
  const secrets = new LocalSecretsManager();
  const key = templateSecretArn('jit-dev/cursor-key');
  const other = templateSecretArn('jit-dev/other');
  secrets.createFromTemplate(key, { Name: 'jit-dev/cursor-key', GenerateSecretString: {} });
  secrets.createFromTemplate(other, { Name: 'jit-dev/other', GenerateSecretString: {} });
  const role = 'arn:aws:iam::000000000000:role/list-grants';
  const iam = new IamEnforcer({
    roles: [
      {
        logicalId: 'ListGrantsRole',
        arn: role,
        trustPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
        policies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: key }] }],
      },
    ],
    accountId: ctx.accountId,
    environment: () => ({ secretArn: (id, region, accountId) => secrets.arnOf(id, region, accountId) }),
  });
  const { accessKeyId } = iam.credentialsFor(role, 'listGrants');
  const call = (operation: string, input: Record<string, unknown>) => iam.authorize(accessKeyId, { service: 'secretsmanager', operation, input, ...ctx });

  it('allows the secret its policy names by full ARN, whether the call names it by ARN, partial ARN or name', () => {
    for (const id of [key, key.slice(0, -7), 'jit-dev/cursor-key']) expect(call('GetSecretValue', { SecretId: id }), id).toBeUndefined();
  });

  it('denies another secret, another action and creating one, as AWS words it', () => {
    expect(call('GetSecretValue', { SecretId: 'jit-dev/other' })?.message).toBe(
      `User: arn:aws:sts::000000000000:assumed-role/list-grants/listGrants is not authorized to perform: secretsmanager:GetSecretValue on resource: ${other} because no identity-based policy allows the secretsmanager:GetSecretValue action`,
    );
    expect(call('DescribeSecret', { SecretId: key })?.code).toBe('AccessDeniedException');
    expect(call('CreateSecret', { Name: 'jit-dev/cursor-key' })?.code).toBe('AccessDeniedException');
  });
});

describe('the local cloud deploys the template secrets', () => {
  let cloud: LocalCloud;
  beforeAll(async () => {
    cloud = await startFastLocalCloud({ scheduledFunctions: false, slack: false });
  }, 60_000);
  afterAll(async () => cloud?.stop());

  it('creates CursorKeySecret with a generated 64-character key at the ARN listGrants is given', async () => {
    const arn = cloud.functionEnv.CURSOR_KEY_SECRET_ARN!;
    expect(arn).toMatch(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:identity-center-jit-local\/cursor-key-[A-Za-z0-9]{6}$/);
    const client = new SecretsManagerClient({ endpoint: cloud.edgeUrl, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const out = await client.send(new GetSecretValueCommand({ SecretId: 'identity-center-jit-local/cursor-key' }));
    client.destroy();
    expect(out.ARN).toBe(arn);
    expect(out.SecretString).toMatch(/^[A-Za-z0-9]{64}$/);
  });
});
