/** POST /slack/interactions — modal submissions and Approve / Deny / Revoke / Extend buttons. No gateway authorizer. */
import { getRuntime } from '../lib/runtime.ts';
import { createSlackInteractionsHandler } from '../lib/slack/interactions-handler.ts';
import { slackEndpointDeps, slackSecretsFromEnv } from '../lib/slack/runtime.ts';

export const handler = createSlackInteractionsHandler(slackEndpointDeps(getRuntime(), slackSecretsFromEnv()));
