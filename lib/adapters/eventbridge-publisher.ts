/**
 * Grant events to EventBridge: PutEvents in batches of at most 10 entries (the API's limit).
 * PutEvents answers 200 even when some entries failed (FailedEntryCount, and an ErrorCode per
 * entry): those entries are sent again with backoff, as are whole calls that fail with a
 * retryable error. What still fails after the attempts is returned, for the stream to retry.
 */
import type { EventBridgeClient, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE, type GrantEvent } from '../events/grant-event.ts';
import type { GrantEventPublisher } from '../ports/index.ts';
import { backoffDelay, isRetryableAwsError, type RetryOptions } from './aws-retry.ts';
import { clientProvider, type ClientSource } from './lazy-sdk.ts';

/** PutEvents takes at most 10 entries per call. */
export const PUT_EVENTS_BATCH = 10;

export interface EventBridgePublisherOptions extends Pick<RetryOptions, 'maxAttempts' | 'baseDelayMs' | 'maxDelayMs' | 'sleep' | 'random'> {
  eventBusName: string;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class EventBridgePublisher implements GrantEventPublisher {
  private readonly client: () => Promise<EventBridgeClient>;

  constructor(
    client: ClientSource<EventBridgeClient>,
    private readonly options: EventBridgePublisherOptions,
  ) {
    this.client = clientProvider(client);
  }

  private entry(event: GrantEvent): PutEventsRequestEntry {
    return { Source: EVENT_SOURCE, DetailType: EVENT_DETAIL_TYPE, Detail: JSON.stringify(event), Resources: [], EventBusName: this.options.eventBusName, Time: new Date(event.at) };
  }

  async publish(events: readonly GrantEvent[]): Promise<{ failedEventIds: string[] }> {
    const failed: string[] = [];
    for (let i = 0; i < events.length; i += PUT_EVENTS_BATCH) {
      failed.push(...(await this.putBatch(events.slice(i, i + PUT_EVENTS_BATCH))));
    }
    return { failedEventIds: failed };
  }

  /** One batch: the entries still failing after the attempts (by event id). */
  private async putBatch(batch: GrantEvent[]): Promise<string[]> {
    const client = await this.client();
    const maxAttempts = this.options.maxAttempts ?? 6;
    const sleep = this.options.sleep ?? realSleep;
    let pending = batch;
    for (let attempt = 0; ; attempt++) {
      try {
        const out = await client.send(new PutEventsCommand({ Entries: pending.map((e) => this.entry(e)) }));
        // Entries answer in request order; one with an ErrorCode was not accepted.
        pending = (out.FailedEntryCount ?? 0) === 0 ? [] : pending.filter((_, i) => out.Entries?.[i]?.ErrorCode !== undefined || out.Entries?.[i]?.EventId === undefined);
      } catch (error) {
        if (!isRetryableAwsError(error)) throw error;
      }
      if (pending.length === 0) return [];
      if (attempt + 1 >= maxAttempts) return pending.map((e) => e.eventId);
      await sleep(backoffDelay(attempt, this.options));
    }
  }
}
