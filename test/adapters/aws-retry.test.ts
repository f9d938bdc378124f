/**
 * The SDK clients' limiter tokens taken in turn: unit tests on a scripted limiter, and a real
 * client against the local Identity Center's 20 TPS bucket, turned down so that it throttles.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { GetUserIdCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { inTurn, retriesInOrder, SDK_RETRY, type SendTokenLimiter } from '../../lib/adapters/aws-retry.ts';
import { createIdentityCenterEmulator, loadOrgFixture, serveJsonServices, type JsonEndpoint } from '../../local/idc/index.ts';

/** A limiter whose waits are scripted per call, as the SDK's makes a caller wait for a token; records who got one. */
function scripted(waits: number[]) {
  const served: string[] = [];
  let call = 0;
  const limiter: SendTokenLimiter = {
    getSendToken: async () => {
      await new Promise<void>((resolve) => setTimeout(resolve, waits[call++] ?? 0));
      if (waits[call - 1] === -1) throw new Error('limiter failed');
    },
  };
  const ask = (who: string) => limiter.getSendToken().then(() => void served.push(who));
  return { limiter, served, ask };
}

describe('inTurn', () => {
  it('hands the tokens out in the order they were asked, whatever each one waits', async () => {
    const { limiter, served, ask } = scripted([30, 0, 10]);
    inTurn(limiter);
    await Promise.all([ask('a'), ask('b'), ask('c')]);
    expect(served).toEqual(['a', 'b', 'c']);
  });

  it('is what the test above measures: the same script without it lets the later callers overtake', async () => {
    const { served, ask } = scripted([30, 0, 10]);
    await Promise.all([ask('a'), ask('b'), ask('c')]);
    expect(served).toEqual(['b', 'c', 'a']);
  });

  it('a turn that fails does not stop the line', async () => {
    const { limiter, served, ask } = scripted([20, -1, 0]);
    inTurn(limiter);
    const a = ask('a');
    const b = ask('b');
    const c = ask('c');
    await expect(b).rejects.toThrow('limiter failed');
    await Promise.all([a, c]);
    expect(served).toEqual(['a', 'c']);
  });
});

describe('retriesInOrder on a real SDK client', () => {
  const fixture = loadOrgFixture(fileURLToPath(new URL('../../local/org.example.yaml', import.meta.url)));
  // 4 calls per second, a burst of 4: eight calls at once are throttled and must be retried.
  const emu = createIdentityCenterEmulator({ fixture, clock: { now: () => Date.now() }, random: Math.random, knobs: { throttleTps: 4, throttleBurst: 4 } });
  let endpoint: JsonEndpoint;
  let client: IdentitystoreClient;
  beforeAll(async () => {
    endpoint = await serveJsonServices(emu.services);
    client = retriesInOrder(new IdentitystoreClient({ ...SDK_RETRY, endpoint: endpoint.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }));
  });
  afterAll(async () => {
    client.destroy();
    await endpoint.close();
  });

  it("takes the SDK's adaptive strategy as it is, its limiter's tokens in turn; every throttled call still ends answered", async () => {
    const strategy = (await client.config.retryStrategy()) as { rateLimiter?: SendTokenLimiter; constructor: { name: string } };
    expect(strategy.constructor.name).toBe('AdaptiveRetryStrategy');
    expect(await client.config.retryStrategy()).toBe(strategy);
    const limiter = strategy.rateLimiter!;
    const takenInTurn = limiter.getSendToken;
    expect(Object.hasOwn(limiter, 'getSendToken')).toBe(true); // the wrapper, not the prototype's method
    let tokens = 0;
    limiter.getSendToken = () => {
      tokens++;
      return takenInTurn();
    };
    const lookup = () =>
      client.send(new GetUserIdCommand({ IdentityStoreId: fixture.instance.identityStoreId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: 'alice' } } }));
    const answers = await Promise.all(Array.from({ length: 8 }, lookup));
    expect(answers.every((a) => a.UserId === emu.userId('alice'))).toBe(true);
    const attempts = answers.reduce((n, a) => n + (a.$metadata.attempts ?? 1), 0);
    expect(attempts).toBeGreaterThan(8);
    expect(tokens).toBe(attempts);
  });
});
