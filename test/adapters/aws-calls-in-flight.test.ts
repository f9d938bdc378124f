/**
 * The AWS calls in flight, as the log of a request that ran out of time lists them: real SDK
 * clients, one against a server that never answers, one against the local Identity Center
 * throttling at 1 call per second.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetUserIdCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { callsInFlight } from '../../lib/adapters/aws-calls-in-flight.ts';
import { finishClient, SDK_RETRY } from '../../lib/adapters/aws-retry.ts';
import { createIdentityCenterEmulator, loadOrgFixture, serveJsonServices, type JsonEndpoint } from '../../local/idc/index.ts';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(read: () => T | undefined, what: string, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not seen within ${ms} ms: ${what}`);
    await sleep(20);
  }
}

describe('calls in flight', () => {
  let silent: Server;
  const sockets: Socket[] = [];
  let silentUrl = '';
  beforeAll(async () => {
    // Accepts connections and never answers: a call to it stays in flight.
    silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address() as { port: number };
    silentUrl = `http://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('lists a call while it waits for its answer, oldest first, only those started since the moment asked, and forgets it once it ends', async () => {
    const client = finishClient(new DynamoDBClient({ ...SDK_RETRY, endpoint: silentUrl, region: 'us-east-1', credentials }));
    const aborts = [new AbortController(), new AbortController()];
    const get = (i: number) => client.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: `k${i}` } } }), { abortSignal: aborts[i]!.signal }).catch((e: Error) => e);
    const first = get(0);
    await sleep(30);
    const since = Date.now();
    const second = get(1);
    const both = await until(() => {
      const seen = callsInFlight(0).filter((c) => c.call === 'DynamoDB.GetItem');
      return seen.length === 2 && seen.every((c) => c.attempts === 1) ? seen : undefined;
    }, 'both GetItem calls sent');
    expect(both[0]!.pendingMs).toBeGreaterThan(both[1]!.pendingMs);
    expect(both.every((c) => c.lastError === undefined)).toBe(true);
    expect(callsInFlight(since).filter((c) => c.call === 'DynamoDB.GetItem')).toHaveLength(1);

    for (const a of aborts) a.abort();
    await Promise.all([first, second]);
    expect(callsInFlight(0).filter((c) => c.call === 'DynamoDB.GetItem')).toEqual([]);
    client.destroy();
  });

  describe('against a throttling Identity Center', () => {
    const fixture = loadOrgFixture(fileURLToPath(new URL('../../local/org.example.yaml', import.meta.url)));
    const emu = createIdentityCenterEmulator({ fixture, clock: { now: () => Date.now() }, random: Math.random, knobs: { throttleTps: 1, throttleBurst: 1 } });
    let endpoint: JsonEndpoint;
    beforeAll(async () => {
      endpoint = await serveJsonServices(emu.services);
    });
    afterAll(async () => {
      await endpoint.close();
    });

    it('counts the attempts of a call the SDK retries, and names the error of the last one that failed', async () => {
      const client = finishClient(new IdentitystoreClient({ ...SDK_RETRY, endpoint: endpoint.url, region: 'us-east-1', credentials }));
      const lookup = () =>
        client.send(new GetUserIdCommand({ IdentityStoreId: fixture.instance.identityStoreId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: 'alice' } } }));
      const calls = Promise.all(Array.from({ length: 4 }, lookup));
      const retried = await until(
        () => callsInFlight(0).find((c) => c.call === 'Identitystore.GetUserId' && c.attempts >= 2 && c.lastError === 'ThrottlingException'),
        'a GetUserId call retried after a throttle',
      );
      expect(retried.pendingMs).toBeGreaterThan(0);
      await calls;
      expect(callsInFlight(0).filter((c) => c.call === 'Identitystore.GetUserId')).toEqual([]);
      client.destroy();
    });
  });
});
