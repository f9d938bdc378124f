/** Async Slack worker: grants-table stream, expiry-warning schedules, direct invocations. */
import { slackNotify } from '../lib/composition/slack.ts';
import { createSlackNotifyHandler } from '../lib/slack/notify-handler.ts';

export const handler = createSlackNotifyHandler(slackNotify());
