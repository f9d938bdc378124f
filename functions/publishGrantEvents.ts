/** The grants table's stream → "Grant Status Changed" events on EventBridge and the audit trail's entries. */
import { grantEventsPublishing } from '../lib/composition/events.ts';
import { createPublishGrantEventsHandler } from '../lib/events/publish-handler.ts';

export const handler = createPublishGrantEventsHandler(grantEventsPublishing());
