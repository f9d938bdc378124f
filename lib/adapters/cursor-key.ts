/**
 * The key that seals pagination cursors (lib/http/cursor.ts): a Secrets Manager secret the
 * deployment generates (serverless.yml `CursorKeySecret`), read once per container on first
 * use. The value is never logged; errors name the secret, not the value.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../errors.ts';
import { MIN_KEY_BYTES } from '../http/cursor.ts';
import { clientProvider, lazy, lazySdk, type ClientSource } from './lazy-sdk.ts';

/** Returns a loader that reads the secret on its first call and then serves it from memory; a failed read is tried again next time. */
export function cursorKeyLoader(
  secretArn: string,
  source: ClientSource<SecretsManagerClient> = async () => new (await lazySdk.secretsManager()).SecretsManagerClient({ maxAttempts: 5 }),
): () => Promise<Buffer> {
  const client = clientProvider(source);
  return lazy(() => readKey(client, secretArn));
}

async function readKey(client: () => Promise<SecretsManagerClient>, secretArn: string): Promise<Buffer> {
  let value: string | undefined;
  try {
    const { GetSecretValueCommand } = await lazySdk.secretsManager();
    const out = await (await client()).send(new GetSecretValueCommand({ SecretId: secretArn }));
    value = out.SecretString;
  } catch (e) {
    throw new ConfigError(`cannot read the cursor key secret ${secretArn}: ${(e as Error).name}`);
  }
  const key = Buffer.from(value ?? '', 'utf8');
  if (key.length < MIN_KEY_BYTES) throw new ConfigError(`the cursor key secret ${secretArn} holds fewer than ${MIN_KEY_BYTES} bytes`);
  return key;
}
