import { SFNClient } from '@aws-sdk/client-sfn';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it, vi } from 'vitest';
import { clientProvider, lazy, lazySdk } from '../../lib/adapters/lazy-sdk.ts';
import { createRuntime } from '../../lib/composition/runtime.ts';
import { LOCAL_POLICY } from '../support/cloud.ts';

describe('lazy', () => {
  it('loads once, on the first call, and concurrent callers share that load', async () => {
    const load = vi.fn(async () => ({ built: true }));
    const get = lazy(load);
    expect(load).not.toHaveBeenCalled();
    const [a, b] = await Promise.all([get(), get()]);
    expect(a).toBe(b);
    expect(await get()).toBe(a);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('does not keep a failed load: the next call tries again', async () => {
    const load = vi.fn().mockRejectedValueOnce(new Error('module not found')).mockResolvedValueOnce('loaded');
    const get = lazy(load as () => Promise<string>);
    await expect(get()).rejects.toThrow('module not found');
    await expect(get()).resolves.toBe('loaded');
    await expect(get()).resolves.toBe('loaded');
    expect(load).toHaveBeenCalledTimes(2);
  });
});

describe('clientProvider', () => {
  it('hands back a client instance as it is', async () => {
    const client = new SFNClient({ region: 'us-east-1' });
    expect(await clientProvider(client)()).toBe(client);
  });

  it('builds a client from a provider once', async () => {
    const build = vi.fn(async () => new SFNClient({ region: 'us-east-1' }));
    const get = clientProvider(build);
    expect(await get()).toBe(await get());
    expect(build).toHaveBeenCalledTimes(1);
  });

  it('loads the same package instance a static import does (mocks and instanceof keep working)', async () => {
    expect((await lazySdk.sfn()).SFNClient).toBe(SFNClient);
  });
});

describe('runtime clients', () => {
  const env = { GRANTS_TABLE: 't', POLICY_PATH: LOCAL_POLICY, AWS_REGION: 'us-east-1', IDC_ROLE_ARN: 'arn:aws:iam::111111111111:role/idc' };
  /** What the SDK will do: the effective retry strategy and its attempts. */
  const retryOf = async (client: { config: { maxAttempts: () => Promise<number>; retryStrategy: () => Promise<unknown> } }) => ({
    maxAttempts: await client.config.maxAttempts(),
    mode: ((await client.config.retryStrategy()) as { mode?: string }).mode,
  });

  it('keeps the retry settings (8 attempts, adaptive) on every client, the deferred ones built once on first use', async () => {
    const { clients } = createRuntime(env);
    for (const get of [clients.sfn, clients.scheduler, clients.ssoAdmin, clients.organizations]) {
      const client = await get();
      expect(await retryOf(client)).toEqual({ maxAttempts: 8, mode: 'adaptive' });
      expect(await get()).toBe(client);
    }
    for (const client of [clients.dynamodb, clients.identityStore]) expect(await retryOf(client)).toEqual({ maxAttempts: 8, mode: 'adaptive' });
  });

  it('gives the Identity Center clients one assumed-role credentials provider (STS loaded on first use)', async () => {
    const sts = mockClient(STSClient);
    try {
      sts.on(AssumeRoleCommand).resolves({
        Credentials: { AccessKeyId: 'AKIA-ASSUMED', SecretAccessKey: 'secret', SessionToken: 'token', Expiration: new Date(Date.now() + 3_600_000) },
      });
      const { clients } = createRuntime(env);
      const identities = [
        await clients.identityStore.config.credentials(),
        await (await clients.ssoAdmin()).config.credentials(),
        await (await clients.organizations()).config.credentials(),
      ];
      expect(identities.map((c) => c.accessKeyId)).toEqual(['AKIA-ASSUMED', 'AKIA-ASSUMED', 'AKIA-ASSUMED']);
      expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);
      expect(sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input).toMatchObject({ RoleArn: env.IDC_ROLE_ARN, RoleSessionName: 'identity-center-jit' });
    } finally {
      sts.restore();
    }
  });
});
