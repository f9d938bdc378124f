/**
 * The local Secrets Manager: generated values honouring GenerateSecretString, template secrets
 * at the ARN `Ref` resolves to, and IAM in packaged mode authorizing against the full ARN whether
 * a call names the secret by ARN or by name. (The API itself is compared with moto in test/conformance.)
 */
import { describe, expect, it } from 'vitest';
import { IamEnforcer } from '../../local/iam/enforcer.ts';
import { generateSecretString, LocalSecretsManager, templateSecretArn } from '../../local/secretsmanager.ts';

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
