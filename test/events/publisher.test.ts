/**
 * The EventBridge publisher through the real SDK client against the local PutEvents: batches of
 * at most 10 entries, entries refused in place sent again, what keeps failing returned by id,
 * and an error no retry can mend thrown to the stream handler, which reports its records.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBridgePublisher } from '../../lib/adapters/eventbridge-publisher.ts';
import { appendedEvents, type GrantEvent } from '../../lib/events/grant-event.ts';
import { createPublishGrantEventsHandler } from '../../lib/events/publish-handler.ts';
import { LocalEventBridge } from '../../local/eventbridge.ts';
import { startEdge, type Edge, type EdgeRequest } from '../../local/edge.ts';
import { grantItem } from '../../lib/table/grant-item.ts';
import { makeGrant } from '../support/grants.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const events = (n: number): GrantEvent[] => Array.from({ length: n }, () => appendedEvents(undefined, makeGrant())[0]!.event);

describe('EventBridgePublisher', () => {
  const bus = new LocalEventBridge({ buses: ['grants'] });
  const calls: EdgeRequest[] = [];
  let edge: Edge;
  let client: EventBridgeClient;
  const publisher = (eventBusName = 'grants') => new EventBridgePublisher(client, { eventBusName, baseDelayMs: 1, maxDelayMs: 5 });

  beforeAll(async () => {
    edge = await startEdge({ port: 0, jsonServices: [bus], log: () => {}, observe: (r) => calls.push(r) });
    client = new EventBridgeClient({ endpoint: edge.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  });
  afterAll(async () => {
    client?.destroy();
    await edge?.close();
  });

  it('puts 23 events in three calls of at most 10 entries, on the configured bus', async () => {
    const before = { calls: calls.length, events: bus.events.length };
    const batch = events(23);
    expect(await publisher().publish(batch)).toEqual({ failedEventIds: [] });
    expect(calls.slice(before.calls).map((c) => (c.input.Entries as unknown[]).length)).toEqual([10, 10, 3]);
    const put = bus.events.slice(before.events);
    expect(put.map((e) => (e.detail as GrantEvent).eventId)).toEqual(batch.map((e) => e.eventId));
    expect(put.every((e) => e['event-bus-name'] === 'grants' && e.source === 'identity-center-jit' && e['detail-type'] === 'Grant Status Changed')).toBe(true);
    // The event's time is the change's, not the call's.
    expect(put[0]!.time).toBe(batch[0]!.at.replace(/\.\d{3}Z$/, 'Z'));
  });

  it('sends only the refused entries again, and returns the ids of those still refused after the attempts', async () => {
    const batch = events(3);
    const before = calls.length;
    bus.failEntryOnce((e) => e.Detail?.includes(batch[1]!.eventId) === true);
    expect(await publisher().publish(batch)).toEqual({ failedEventIds: [] });
    expect(calls.slice(before).map((c) => (c.input.Entries as { Detail: string }[]).map((e) => (JSON.parse(e.Detail) as GrantEvent).eventId))).toEqual([
      batch.map((e) => e.eventId),
      [batch[1]!.eventId],
    ]);

    const stubborn = events(2);
    for (let i = 0; i < 6; i++) bus.failEntryOnce((e) => e.Detail?.includes(stubborn[0]!.eventId) === true);
    expect(await publisher().publish(stubborn)).toEqual({ failedEventIds: [stubborn[0]!.eventId] });
  });

  it('throws what no retry mends (a bus that does not exist); the stream handler reports every record of the batch', async () => {
    await expect(publisher('missing').publish(events(1))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    const logged: string[] = [];
    const stored: string[] = [];
    const handler = createPublishGrantEventsHandler({
      publisher: publisher('missing'),
      audit: { record: async (entries) => void stored.push(...entries.map((e) => e.event.eventId)), page: async () => ({ items: [] }) },
      logger: { warn: (m) => void logged.push(m), error: (m) => void logged.push(m) },
    });
    const grant = makeGrant();
    const image = marshall(grantItem(grant, 400), { removeUndefinedValues: true });
    const answer = await handler({ Records: [{ eventName: 'INSERT', dynamodb: { NewImage: image as never, SequenceNumber: '000000000000000000042' } }] });
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: '000000000000000000042' }] });
    expect(stored).toEqual([`${grant.id}:0`]);
    expect(logged).toContain('grant events: store or publish failed');
  });
});
