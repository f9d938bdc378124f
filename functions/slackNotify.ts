/** Async Slack worker: grants-table stream, expiry-warning schedules, direct invocations. */
import { logger } from '../lib/logger.ts';
import { getRuntime } from '../lib/runtime.ts';
import { createSlackNotifyHandler } from '../lib/slack/notify-handler.ts';
import { slackNotifierFromEnv, slackSecretsFromEnv } from '../lib/slack/runtime.ts';

const runtime = getRuntime();
export const handler = createSlackNotifyHandler({ notifier: slackNotifierFromEnv(runtime, slackSecretsFromEnv()), store: runtime.store, logger });
