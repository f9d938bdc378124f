/**
 * The Slack signing secret and bot token, read from SSM Parameter Store once per
 * container. The values are never logged; errors name the parameter, not the value.
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import { clientProvider, lazy, lazySdk, type ClientSource } from './lazy-sdk.ts';
import { ConfigError } from '../errors.ts';

export interface SlackSecrets {
  signingSecret: string;
  botToken: string;
}

/** The SSM parameter names (SLACK_SIGNING_SECRET_PARAM, SLACK_BOT_TOKEN_PARAM in lib/config.ts). */
export interface SlackSecretNames {
  signingSecretParam: string;
  botTokenParam: string;
}

async function readParameter(ssm: () => Promise<SSMClient>, name: string): Promise<string> {
  let value: string | undefined;
  try {
    const { GetParameterCommand } = await lazySdk.ssm();
    const out = await (await ssm()).send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    value = out.Parameter?.Value;
  } catch (e) {
    throw new ConfigError(`cannot read SSM parameter ${name}: ${(e as Error).name}`);
  }
  if (!value) throw new ConfigError(`SSM parameter ${name} is empty`);
  return value;
}

/**
 * Returns a loader that fetches both secrets on first use and then serves them from memory.
 * The SSM client module (one of the SDK's largest, ~40 ms to load) is loaded then too, with them.
 */
export function slackSecretsLoader(
  names: SlackSecretNames,
  ssmSource: ClientSource<SSMClient> = async () => new (await lazySdk.ssm()).SSMClient({ maxAttempts: 5 }),
): () => Promise<SlackSecrets> {
  const ssm = clientProvider(ssmSource);
  // A failed read must not poison the container: `lazy` lets the next request try again.
  return lazy(async () => {
    const [signingSecret, botToken] = await Promise.all([readParameter(ssm, names.signingSecretParam), readParameter(ssm, names.botTokenParam)]);
    return { signingSecret, botToken };
  });
}
