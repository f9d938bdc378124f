/** POST /slack/commands — the `/jit` slash command. No gateway authorizer: the Slack signature is the authentication. */
import { getRuntime } from '../lib/runtime.ts';
import { createSlackCommandsHandler } from '../lib/slack/commands-handler.ts';
import { slackEndpointDeps, slackSecretsFromEnv } from '../lib/slack/runtime.ts';

// Env and policy are validated at cold start; secrets are read on first request and cached.
export const handler = createSlackCommandsHandler(slackEndpointDeps(getRuntime(), slackSecretsFromEnv()));
