/** POST /slack/interactions — modal submissions and Approve / Deny / Revoke / Extend buttons. No gateway authorizer. */
import { slackEndpoint } from '../lib/composition/slack.ts';
import { createSlackInteractionsHandler } from '../lib/slack/interactions-handler.ts';

export const handler = createSlackInteractionsHandler(slackEndpoint());
