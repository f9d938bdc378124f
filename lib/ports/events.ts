/**
 * Ports of the grant events and the audit trail: where the stream function publishes each
 * history entry (EventBridge) and stores it for the audit export (the grants table).
 */
import type { AppendedEvent, GrantEvent } from '../events/grant-event.ts';
import type { Page, PageRequest } from './grants.ts';

export interface GrantEventPublisher {
  /** Publishes the events, retrying what fails for a while; returns the ids of those that still failed. */
  publish(events: readonly GrantEvent[]): Promise<{ failedEventIds: string[] }>;
}

/** Which entries an audit page holds: `from` inclusive, `to` exclusive (ISO 8601 instants), optionally one user's or one account's. */
export interface AuditQuery {
  from: string;
  to: string;
  /** The principal's user name (case-insensitive). */
  user?: string;
  /** A 12-digit account id: entries of grants on that account. */
  account?: string;
}

export interface AuditTrail {
  /** Stores the entries; writing the same entry again changes nothing (keyed by grant id and position). */
  record(entries: readonly AppendedEvent[]): Promise<void>;
  /** One page, newest first; `cursor` is the store's position of the next page. */
  page(query: AuditQuery, page: PageRequest): Promise<Page<GrantEvent>>;
}
