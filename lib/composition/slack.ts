/**
 * The Slack functions' dependencies, built from the container's runtime and the
 * Slack settings (lib/config.ts slackEnvSchema, validated at cold start). The
 * secrets are read from SSM on the first request and cached; the Web API client
 * (the largest package of these functions) is built once the secrets are there.
 */
import { DynamoSlackMessageStore } from '../adapters/slack-message-store.ts';
import { DynamoReplayGuard } from '../adapters/slack-replay-guard.ts';
import { SchedulerExpiryWarnings } from '../adapters/slack-expiry-warnings.ts';
import { slackSecretsLoader, type SlackSecrets } from '../adapters/slack-secrets.ts';
import { ackWebClient, notifyWebClient } from '../adapters/slack-web-client.ts';
import { loadSlackEnv, type SlackEnv } from '../config.ts';
import { logger } from '../logger.ts';
import type { SlackEndpointDeps, SlackRuntime } from '../slack/endpoint.ts';
import { SlackIdentity } from '../slack/identity.ts';
import { SlackNotifier } from '../slack/notifier.ts';
import type { NotifyHandlerDeps } from '../slack/notify-handler.ts';
import { getRuntime, type Runtime } from './runtime.ts';

function slackSecrets(env: SlackEnv): () => Promise<SlackSecrets> {
  return slackSecretsLoader({ signingSecretParam: env.SLACK_SIGNING_SECRET_PARAM, botTokenParam: env.SLACK_BOT_TOKEN_PARAM });
}

const apiUrl = (env: SlackEnv) => (env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {});

/** What slackCommands and slackInteractions run; call it at cold start (it validates the environment and the policy). */
export function slackEndpoint(runtime: Runtime = getRuntime(), env: SlackEnv = loadSlackEnv()): SlackEndpointDeps {
  const secrets = slackSecrets(env);
  let slack: Promise<SlackRuntime> | undefined;
  return {
    signingSecret: async () => (await secrets()).signingSecret,
    replayGuard: new DynamoReplayGuard(runtime.clients.dynamodb, runtime.config.GRANTS_TABLE),
    runtime: () =>
      (slack ??= secrets().then(({ botToken }) => {
        const client = ackWebClient(botToken, apiUrl(env));
        return { service: runtime.service, client, identity: new SlackIdentity(client, runtime.service) };
      })).catch((e: unknown) => {
        slack = undefined;
        throw e;
      }),
    logger,
  };
}

function slackNotifier(runtime: Runtime, env: SlackEnv): SlackNotifier {
  const secrets = slackSecrets(env);
  let client: ReturnType<typeof notifyWebClient> | undefined;
  const notifyArn = env.SLACK_NOTIFY_FUNCTION_ARN;
  const roleArn = runtime.config.SCHEDULER_ROLE_ARN;
  return new SlackNotifier({
    client: async () => (client ??= notifyWebClient((await secrets()).botToken, apiUrl(env))),
    messages: new DynamoSlackMessageStore(runtime.clients.dynamodb, runtime.config.GRANTS_TABLE),
    channelForRule: (ruleId) => runtime.policy.rule(ruleId)?.slack?.channel,
    ...(env.SLACK_APPROVALS_CHANNEL ? { defaultChannel: env.SLACK_APPROVALS_CHANNEL } : {}),
    ...(env.SSO_START_URL ? { startUrl: env.SSO_START_URL } : {}),
    sessionTerms: (grant) => runtime.service.sessionTermsOf(grant.target),
    ...(notifyArn && roleArn
      ? {
          expiryWarnings: new SchedulerExpiryWarnings(runtime.clients.scheduler, {
            targetArn: notifyArn,
            roleArn,
            groupName: runtime.config.SCHEDULE_GROUP,
            now: () => runtime.clock.now().getTime(),
          }),
        }
      : {}),
    logger,
  });
}

/** What slackNotify runs; call it at cold start (it validates the environment and the policy). */
export function slackNotify(runtime: Runtime = getRuntime(), env: SlackEnv = loadSlackEnv()): NotifyHandlerDeps {
  return { notifier: slackNotifier(runtime, env), store: runtime.store, logger };
}
