/**
 * The async Slack worker. Triggered by
 *  - the grants table's DynamoDB stream (every grant write: requests, approvals,
 *    and the workflows' own transitions to ACTIVE / EXPIRED / FAILED), so Slack
 *    work never sits in a request's 3-second path and nothing can forget to notify;
 *  - the expiry-warning schedule (`{ kind: 'expiry-warning', grantId, expiresAt }`);
 *  - a direct invocation `{ grantId, event? }` (e.g. from a workflow task).
 * Errors are logged, never thrown: a Slack outage must not make the stream retry
 * forever or block anything else.
 */
import type { DynamoDBStreamEvent } from 'aws-lambda';
import type { ExpiryWarningInput, GrantStore, SlackLogger } from '../ports/index.ts';
import { grantFromImage } from '../table/stream-image.ts';
import type { SlackNotifier } from './notifier.ts';

export type NotifyEvent = DynamoDBStreamEvent | ExpiryWarningInput | { grantId: string; event?: string };

export interface NotifyHandlerDeps {
  notifier: SlackNotifier;
  store: Pick<GrantStore, 'get'>;
  logger: SlackLogger;
}

export function createSlackNotifyHandler(deps: NotifyHandlerDeps) {
  return async (event: NotifyEvent): Promise<void> => {
    if ('Records' in event) {
      for (const record of event.Records) {
        const grant = grantFromImage(record.dynamodb?.NewImage);
        if (!grant) continue;
        const before = grantFromImage(record.dynamodb?.OldImage);
        // Only a new version is a change people hear about (a TTL or index touch-up is not).
        if (before && before.version === grant.version) continue;
        await deps.notifier.grantChanged(grant, grant.history.at(-1)?.action ?? 'changed');
      }
      return;
    }
    const grant = await deps.store.get(event.grantId);
    if (!grant) {
      deps.logger.warn('slack notify: grant not found', { grantId: event.grantId });
      return;
    }
    if ('kind' in event && event.kind === 'expiry-warning') {
      // Extended since the schedule was made: the moved schedule will warn at the right time.
      if (grant.expiresAt !== event.expiresAt) return;
      await deps.notifier.expiryWarning(grant);
      return;
    }
    await deps.notifier.grantChanged(grant, ('event' in event && event.event) || grant.history.at(-1)?.action || 'changed');
  };
}
