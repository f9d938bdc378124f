/** POST /slack/commands — the `/jit` slash command. No gateway authorizer: the Slack signature is the authentication. */
import { slackEndpoint } from '../lib/composition/slack.ts';
import { createSlackCommandsHandler } from '../lib/slack/commands-handler.ts';

// Env and policy are validated at cold start; secrets are read on first request and cached.
export const handler = createSlackCommandsHandler(slackEndpoint());
