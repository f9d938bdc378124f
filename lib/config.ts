/**
 * Environment configuration, validated once at cold start. A function with a
 * bad environment fails its init with a message naming every wrong variable,
 * instead of failing later on some request.
 */
import * as z from 'zod';
import { ConfigError } from './errors.ts';

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const booleanFlag = z
  .enum(['true', 'false', ''])
  .optional()
  .transform((v) => v === 'true');

export const configSchema = z.object({
  GRANTS_TABLE: z.string().min(1, 'name of the DynamoDB grants table is required'),
  POLICY_PATH: z.string().min(1).default('config/policy.yaml'),
  IDENTITY_CLAIM: z.string().min(1).default('email'),
  IDC_INSTANCE_ARN: optionalString.pipe(
    z.string().regex(/^arn:aws[a-z-]*:sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/, 'must be an IAM Identity Center instance ARN').optional(),
  ),
  IDENTITY_STORE_ID: optionalString.pipe(z.string().regex(/^d-[0-9a-f]{10}$|^[0-9a-f-]{36}$/, 'must be an identity store id like d-1234567890').optional()),
  IDC_ROLE_ARN: optionalString.pipe(z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN').optional()),
  IDC_EXTERNAL_ID: optionalString,
  DELEGATED_ADMIN: booleanFlag,
  GRANT_STATE_MACHINE_ARN: optionalString,
  REVOKE_STATE_MACHINE_ARN: optionalString,
  SCHEDULE_GROUP: z.string().min(1).default('identity-center-jit'),
  SCHEDULER_ROLE_ARN: optionalString,
  SCHEDULER_DLQ_ARN: optionalString,
  CLOSED_GRANT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(400),
  /** The secret holding the key that seals pagination cursors (listGrants only; lib/http/cursor.ts). */
  CURSOR_KEY_SECRET_ARN: optionalString.pipe(
    z.string().regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$/, 'must be a Secrets Manager secret ARN').optional(),
  ),
  /** Horizon for future starts: a request may not start later than this many days ahead. */
  MAX_START_AHEAD_DAYS: z.coerce.number().int().min(0).max(365).default(30),
});

export type Config = z.infer<typeof configSchema>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`invalid environment configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/** Fails at cold start when a workflow-starting function lacks its state machine ARN. */
export function requireSetting<K extends keyof Config>(config: Config, key: K): NonNullable<Config[K]> {
  const value = config[key];
  if (value === undefined || value === null || value === '') throw new ConfigError(`${String(key)} must be set for this function`);
  return value as NonNullable<Config[K]>;
}
