/**
 * The grants table's stream → one "Grant Status Changed" event and one audit entry per history
 * entry a write appended (requests, approvals, denials, extensions, activation, revocation,
 * failures: the workflows' own writes included). At least once: a record whose entries could
 * not all be stored and published is reported as a batch item failure, so Lambda delivers it
 * again (ReportBatchItemFailures); its events then carry the same ids and its audit items are
 * rewritten unchanged. Nothing here is in a grant's path: a failure never blocks a grant.
 */
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { AuditTrail, GrantEventPublisher } from '../ports/index.ts';
import { grantFromImage } from '../table/stream-image.ts';
import { appendedEvents, type AppendedEvent } from './grant-event.ts';

export interface PublishHandlerDeps {
  publisher: GrantEventPublisher;
  audit: AuditTrail;
  logger: { warn(message: string, ...extra: unknown[]): void; error(message: string, ...extra: unknown[]): void };
}

export function createPublishGrantEventsHandler(deps: PublishHandlerDeps) {
  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const byRecord: { sequenceNumber: string; entries: AppendedEvent[] }[] = [];
    for (const record of event.Records) {
      const after = grantFromImage(record.dynamodb?.NewImage);
      if (!after) continue;
      const entries = appendedEvents(grantFromImage(record.dynamodb?.OldImage), after);
      if (entries.length) byRecord.push({ sequenceNumber: record.dynamodb?.SequenceNumber ?? '', entries });
    }
    if (byRecord.length === 0) return { batchItemFailures: [] };

    const all = byRecord.flatMap((r) => r.entries);
    const failedIds = new Set<string>();
    try {
      // Stored before published: an entry a consumer heard of is always in the export.
      await deps.audit.record(all);
      const { failedEventIds } = await deps.publisher.publish(all.map((e) => e.event));
      for (const id of failedEventIds) failedIds.add(id);
    } catch (error) {
      deps.logger.error('grant events: store or publish failed', { error: (error as Error).message, records: byRecord.length });
      for (const e of all) failedIds.add(e.event.eventId);
    }
    const failures = byRecord.filter((r) => r.entries.some((e) => failedIds.has(e.event.eventId)));
    if (failures.length) deps.logger.warn('grant events: records left for the stream to deliver again', { eventIds: [...failedIds] });
    return { batchItemFailures: failures.map((r) => ({ itemIdentifier: r.sequenceNumber })) };
  };
}
