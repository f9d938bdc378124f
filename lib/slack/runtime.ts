/**
 * Composition of the Slack functions from the environment, once per container.
 * Env: SLACK_SIGNING_SECRET_PARAM, SLACK_BOT_TOKEN_PARAM (SSM names),
 * SLACK_APPROVALS_CHANNEL (default channel), SSO_START_URL, SLACK_API_URL
 * (fake Slack locally; unset in AWS), SLACK_NOTIFY_FUNCTION_ARN (enables the
 * expiry-warning schedules), plus the grant service's own settings.
 */
import type { Runtime } from '../runtime.ts';
import { logger } from '../logger.ts';
import type { SlackEndpointDeps, SlackRuntime } from './endpoint.ts';
import { SchedulerExpiryWarnings } from '../adapters/slack-expiry-warnings.ts';
import { SlackIdentity } from './identity.ts';
import { DynamoSlackMessageStore } from '../adapters/slack-message-store.ts';
import { SlackNotifier } from './notifier.ts';
import { DynamoReplayGuard } from '../adapters/slack-replay-guard.ts';
import { slackSecretNamesFromEnv, slackSecretsLoader, type SlackSecrets } from '../adapters/slack-secrets.ts';
import { ackWebClient, notifyWebClient } from '../adapters/slack-web-client.ts';

export function slackSecretsFromEnv(env: NodeJS.ProcessEnv = process.env): () => Promise<SlackSecrets> {
  return slackSecretsLoader(slackSecretNamesFromEnv(env));
}

/** Dependencies of the two HTTP endpoints. The grant runtime is built by the caller (at module load, to fail fast). */
export function slackEndpointDeps(runtime: Runtime, secrets: () => Promise<SlackSecrets>): SlackEndpointDeps {
  let slack: Promise<SlackRuntime> | undefined;
  return {
    signingSecret: async () => (await secrets()).signingSecret,
    replayGuard: new DynamoReplayGuard(runtime.clients.dynamodb, runtime.config.GRANTS_TABLE),
    runtime: () =>
      (slack ??= secrets().then(({ botToken }) => {
        const client = ackWebClient(botToken);
        return { service: runtime.service, client, identity: new SlackIdentity(client, runtime.service) };
      })).catch((e: unknown) => {
        slack = undefined;
        throw e;
      }),
    logger,
  };
}

export function slackNotifierFromEnv(runtime: Runtime, secrets: () => Promise<SlackSecrets>, env: NodeJS.ProcessEnv = process.env): SlackNotifier {
  let client: ReturnType<typeof notifyWebClient> | undefined;
  const notifyArn = env.SLACK_NOTIFY_FUNCTION_ARN?.trim();
  const roleArn = runtime.config.SCHEDULER_ROLE_ARN;
  return new SlackNotifier({
    client: async () => (client ??= notifyWebClient((await secrets()).botToken)),
    messages: new DynamoSlackMessageStore(runtime.clients.dynamodb, runtime.config.GRANTS_TABLE),
    channelForRule: (ruleId) => runtime.policy.rule(ruleId)?.slack?.channel,
    ...(env.SLACK_APPROVALS_CHANNEL?.trim() ? { defaultChannel: env.SLACK_APPROVALS_CHANNEL.trim() } : {}),
    ...(env.SSO_START_URL?.trim() ? { startUrl: env.SSO_START_URL.trim() } : {}),
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
