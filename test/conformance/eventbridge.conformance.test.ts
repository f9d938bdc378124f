/**
 * Conformance: the local EventBridge PutEvents against moto_server (or CONFORMANCE_ENDPOINT).
 * The same calls go through the real EventBridgeClient to both and the answers' shapes must be
 * equal: accepted entries (an EventId each), entries refused in place (ErrorCode, ErrorMessage,
 * FailedEntryCount) beside accepted ones, and a request of more than 10 entries.
 *
 * Compared only on the local cloud: the 256 KB size limit (moto 5.2.1 does not check it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { startEdge, type Edge } from '../../local/edge.ts';
import { LocalEventBridge, MAX_PUT_EVENTS_BYTES } from '../../local/eventbridge.ts';
import { startExternalEndpoint, type ExternalEndpoint } from './moto.ts';

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const entry = (detail: Record<string, unknown> | string, extra: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry => ({
  Source: 'identity-center-jit',
  DetailType: 'Grant Status Changed',
  Detail: typeof detail === 'string' ? detail : JSON.stringify(detail),
  ...extra,
});

async function observe(endpoint: string): Promise<unknown[]> {
  const client = new EventBridgeClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  const out: unknown[] = [];
  const put = async (step: string, entries: PutEventsRequestEntry[]) => {
    try {
      const r = await client.send(new PutEventsCommand({ Entries: entries }));
      out.push([step, r.FailedEntryCount, (r.Entries ?? []).map((e) => (e.EventId ? { EventId: UUID.test(e.EventId) ? 'UUID' : e.EventId } : { ErrorCode: e.ErrorCode, ErrorMessage: e.ErrorMessage }))]);
    } catch (e) {
      out.push([step, 'error', (e as Error).name]);
    }
  };
  await put('one entry', [entry({ eventId: 'g:0' })]);
  await put('ten entries on the default bus', Array.from({ length: 10 }, (_, i) => entry({ eventId: `g:${i}` }, { EventBusName: 'default', Resources: [] })));
  await put('refused beside accepted', [
    entry({ eventId: 'g:1' }),
    { DetailType: 'Grant Status Changed', Detail: '{}' },
    { Source: 'identity-center-jit', Detail: '{}' },
    { Source: 'identity-center-jit', DetailType: 'Grant Status Changed' },
    entry('{not json'),
    entry({ eventId: 'g:2' }),
  ]);
  await put('eleven entries', Array.from({ length: 11 }, (_, i) => entry({ eventId: `g:${i}` })));
  client.destroy();
  return out;
}

describe('EventBridge PutEvents conformance: local cloud vs moto_server', () => {
  let external: ExternalEndpoint;
  let edge: Edge;
  const local = new LocalEventBridge();

  beforeAll(async () => {
    external = await startExternalEndpoint();
    edge = await startEdge({ port: 0, jsonServices: [local], log: () => {} });
  }, 120_000);
  afterAll(async () => {
    await edge?.close();
    await external?.stop();
  });

  it('answers accepted, refused and too many entries the same way', async () => {
    const [mine, reference] = await Promise.all([observe(edge.url), observe(external.url)]);
    expect(mine).toEqual(reference);
    // The comparison is only worth something if the scenario did what it says.
    expect(mine[0]).toEqual(['one entry', 0, [{ EventId: 'UUID' }]]);
    expect(mine[2]).toEqual([
      'refused beside accepted',
      4,
      [
        { EventId: 'UUID' },
        { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.' },
        { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter DetailType is not valid. Reason: DetailType is a required argument.' },
        { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Detail is not valid. Reason: Detail is a required argument.' },
        { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
        { EventId: 'UUID' },
      ],
    ]);
    expect(mine[3]).toEqual(['eleven entries', 'error', 'ValidationException']);
    // Accepted entries only, as targets would receive them.
    expect(local.events).toHaveLength(1 + 10 + 2);
    expect(local.events[0]).toMatchObject({ source: 'identity-center-jit', 'detail-type': 'Grant Status Changed', detail: { eventId: 'g:0' }, 'event-bus-name': 'default', resources: [] });
  }, 60_000);

  it('refuses a request whose entries exceed 256 KB in all (local cloud only)', async () => {
    const client = new EventBridgeClient({ endpoint: edge.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    const big = 'x'.repeat(MAX_PUT_EVENTS_BYTES / 2);
    await expect(client.send(new PutEventsCommand({ Entries: [entry({ big }), entry({ big })] }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Total size of the entries in the request is over the limit.',
    });
    const out = await client.send(new PutEventsCommand({ Entries: [entry({ big: big.slice(1000) })] }));
    expect(out.FailedEntryCount).toBe(0);
    client.destroy();
  });
});
