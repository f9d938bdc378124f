/**
 * The Slack endpoints over the real grant service: dynalite, the Identity
 * Center emulator seeded from the demo org, the local policy, the fake Slack,
 * and the SlackNotifier fed every grant write through the notify handler, as
 * the grants table's stream feeds slackNotify in the local cloud and in AWS.
 */
import { createRuntime, type Runtime } from '../../lib/composition/runtime.ts';
import { createSlackCommandsHandler } from '../../lib/slack/commands-handler.ts';
import { createSlackInteractionsHandler } from '../../lib/slack/interactions-handler.ts';
import type { SlackEndpointDeps } from '../../lib/slack/endpoint.ts';
import { SlackIdentity } from '../../lib/slack/identity.ts';
import { DynamoSlackMessageStore } from '../../lib/adapters/slack-message-store.ts';
import { SlackNotifier } from '../../lib/slack/notifier.ts';
import { createSlackNotifyHandler } from '../../lib/slack/notify-handler.ts';
import { DynamoReplayGuard } from '../../lib/adapters/slack-replay-guard.ts';
import { ackWebClient, notifyWebClient } from '../../lib/adapters/slack-web-client.ts';
import type { IdcKnobsInput } from '../../local/idc/index.ts';
import { startFakeSlack, type FakeSlack } from '../../local/slack/fake-slack.ts';
import { startApiTestCloud, type ApiTestCloud } from '../support/cloud.ts';
import { BOT_TOKEN, SIGNING_SECRET } from './harness.ts';

export const USERS = {
  // Bob's Slack email differs in case from Identity Store's bob@example.com.
  bob: { id: 'UBOB', name: 'bob', email: 'Bob@Example.COM' },
  carol: { id: 'UCAROL', name: 'carol', email: 'carol@example.com' },
  dave: { id: 'UDAVE', name: 'dave', email: 'dave@example.com' },
  alice: { id: 'UALICE', name: 'alice', email: 'alice@example.com' },
  eve: { id: 'UEVE', name: 'eve', email: 'eve@elsewhere.example' },
  noEmail: { id: 'UNOMAIL', name: 'ghost' },
} as const;

export const START_URL = 'https://d-9067aaaaaa.awsapps.com/start';
/** The fake Slack's id for `#prod-access`, the prod-poweruser rule's `slack.channel`. */
export const PROD_CHANNEL_ID = 'CPRODACCESS';
/** The fake Slack's id for `#jit-approvals`, the policy's default channel. */
export const DEFAULT_CHANNEL_ID = 'CJITAPPROVALS';

export interface SlackTestCloud {
  cloud: ApiTestCloud;
  runtime: Runtime;
  slack: FakeSlack;
  notifier: SlackNotifier;
  commands: ReturnType<typeof createSlackCommandsHandler>;
  interactions: ReturnType<typeof createSlackInteractionsHandler>;
  stop(): Promise<void>;
}

const quiet = process.env.SLACK_TEST_LOGS ? console : { info: () => undefined, warn: () => undefined, error: () => undefined };

export interface SlackTestCloudOptions {
  /** What the Slack endpoints log (default: nothing, or the console with SLACK_TEST_LOGS). */
  logger?: SlackEndpointDeps['logger'];
  /** Where ephemeral answers to a response_url go (default: fetch, as deployed). */
  postToResponseUrl?: SlackEndpointDeps['postToResponseUrl'];
  /** Identity Center emulator knobs (default: the real quotas). */
  knobs?: IdcKnobsInput;
}

export async function startSlackTestCloud(options: SlackTestCloudOptions = {}): Promise<SlackTestCloud> {
  const cloud = await startApiTestCloud(options.knobs ? { knobs: options.knobs } : {});
  const slack = await startFakeSlack({ users: Object.values(USERS), botToken: BOT_TOKEN });
  const messages = new DynamoSlackMessageStore(cloud.runtime.clients.dynamodb, cloud.runtime.config.GRANTS_TABLE);
  const notifier = new SlackNotifier({
    client: notifyWebClient(BOT_TOKEN, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 2, minTimeout: 0, maxTimeout: 10 } }),
    messages,
    channelForRule: (ruleId) => runtime.policy.rule(ruleId)?.slack?.channel,
    startUrl: START_URL,
    logger: quiet,
  });
  // Same env, table and workflow stubs as the cloud's runtime; its grant writes reach the Slack notifier.
  const runtime: Runtime = createRuntime(cloud.env, { clock: cloud.clock, workflows: cloud.runtime.workflows });
  streamGrantWrites(runtime.store, createSlackNotifyHandler({ notifier, store: runtime.store, logger: quiet }));
  const client = ackWebClient(BOT_TOKEN, { slackApiUrl: slack.apiUrl });
  const slackRuntime = { service: runtime.service, client, identity: new SlackIdentity(client, runtime.service) };
  const deps: SlackEndpointDeps = {
    runtime: async () => slackRuntime,
    signingSecret: async () => SIGNING_SECRET,
    replayGuard: new DynamoReplayGuard(runtime.clients.dynamodb, runtime.config.GRANTS_TABLE),
    logger: options.logger ?? quiet,
    ...(options.postToResponseUrl ? { postToResponseUrl: options.postToResponseUrl } : {}),
  };
  return {
    cloud,
    runtime,
    slack,
    notifier,
    commands: createSlackCommandsHandler(deps),
    interactions: createSlackInteractionsHandler(deps),
    async stop() {
      await slack.stop();
      await cloud.stop();
    },
  };
}

/**
 * The grants table's stream for this store: each grant write (create, transition) reaches
 * the notify handler as slackNotify would hear it, here before the write returns so tests
 * can look at Slack right after the call that caused it.
 */
function streamGrantWrites(store: Runtime['store'], notify: (event: { grantId: string }) => Promise<void>): void {
  const { create, transition } = store;
  store.create = async (grant) => {
    await create.call(store, grant);
    await notify({ grantId: grant.id });
  };
  store.transition = async (request) => {
    const changed = await transition.call(store, request);
    await notify({ grantId: changed.id });
    return changed;
  };
}
