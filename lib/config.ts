/**
 * Environment configuration, validated once at cold start. A function with a
 * bad environment fails its init with a message naming every wrong variable,
 * instead of failing later on some request. Three schemas: every function's
 * (`configSchema`), the backstops' (`backstopEnvSchema`) and the Slack functions'
 * (`slackEnvSchema`); the composition root (lib/composition) loads them.
 */
import * as z from 'zod';
import { DEFAULT_SWEEPER_SETTINGS as SWEEPER_DEFAULTS, type SweeperSettings } from './backstops/sweeper.ts';
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
  /** The EventBridge bus the grant events go to (publishGrantEvents; deploy parameter eventBusName), in this account. */
  EVENT_BUS_NAME: z
    .string()
    .regex(/^[\w.\-/]{1,256}$/, 'must be an EventBridge event bus name (1-256 of letters, digits and ._-/)')
    .default('default'),
  /** Session revocation (deploy parameter sessionRevocation): `scp` cuts the sessions an ended grant had issued. */
  SESSION_REVOCATION: z.enum(['off', 'scp'], { message: 'must be off or scp' }).default('off'),
  /** The owner tag value (and name prefix) of the SCPs this system creates: the stack's name. */
  SESSION_SCP_OWNER: z.string().regex(/^[\w+=,.@-]{1,64}$/, 'must be a tag value of letters, digits and _+=,.@- (the stack name)').default('identity-center-jit'),
});

export type Config = z.infer<typeof configSchema>;

/** Parses `env` with `schema`; a ConfigError names every wrong variable. */
function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv, what: string): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`invalid ${what} configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return parseEnv(configSchema, env, 'environment');
}

/** Fails at cold start when a workflow-starting function lacks its state machine ARN. */
export function requireSetting<K extends keyof Config>(config: Config, key: K): NonNullable<Config[K]> {
  const value = config[key];
  if (value === undefined || value === null || value === '') throw new ConfigError(`${String(key)} must be set for this function`);
  return value as NonNullable<Config[K]>;
}

/** A duration setting in seconds, defaulting to the sweeper's own default (milliseconds). */
const seconds = (fallbackMs: number) => z.coerce.number().int().min(0).default(fallbackMs / 1000);

/** The sweeper's and the reconciler's settings (sweepGrants, reconcileAccess). */
export const backstopEnvSchema = z.object({
  SWEEP_ACTIVE_GRACE_SECONDS: seconds(SWEEPER_DEFAULTS.activeGraceMs),
  SWEEP_REVOKING_GRACE_SECONDS: seconds(SWEEPER_DEFAULTS.revokingGraceMs),
  SWEEP_START_GRACE_SECONDS: seconds(SWEEPER_DEFAULTS.startGraceMs),
  SWEEP_START_GIVE_UP_SECONDS: seconds(SWEEPER_DEFAULTS.startGiveUpMs),
  SWEEP_ACTIVATING_RESTART_SECONDS: seconds(SWEEPER_DEFAULTS.activatingRestartMs),
  SWEEP_ACTIVATING_ALERT_SECONDS: seconds(SWEEPER_DEFAULTS.activatingAlertMs),
  SWEEP_ATTEMPT_WINDOW_SECONDS: z.coerce.number().int().min(60).default(SWEEPER_DEFAULTS.attemptWindowMs / 1000),
  SWEEP_PAGE_SIZE: z.coerce.number().int().min(1).max(100).default(SWEEPER_DEFAULTS.pageSize),
  SWEEP_MAX_ACTIONS: z.coerce.number().int().min(1).default(SWEEPER_DEFAULTS.maxActions),
  /** The reconciler's share of Identity Center's 20 TPS (0.25: 5 calls per second), so grants being activated are not throttled. */
  RECONCILE_QUOTA_SHARE: z.coerce.number().positive().max(1).default(0.25),
  /** How a pass lists what exists: `auto` counts the calls each way at the start of a pass and takes the cheaper. */
  RECONCILE_STRATEGY: z.enum(['auto', 'per-account', 'per-principal']).default('auto'),
});

/** Identity Center's collective quota over sso-admin and identitystore (not adjustable). */
export const IDENTITY_CENTER_TPS = 20;

/** The reconciler's pace: its share of the quota, in calls per second. */
export const reconcileCallsPerSecond = (env: BackstopEnv): number => IDENTITY_CENTER_TPS * env.RECONCILE_QUOTA_SHARE;

export type BackstopEnv = z.infer<typeof backstopEnvSchema>;

export function loadBackstopEnv(env: NodeJS.ProcessEnv = process.env): BackstopEnv {
  return parseEnv(backstopEnvSchema, env, 'backstop');
}

export function sweeperSettings(env: BackstopEnv): SweeperSettings {
  return {
    activeGraceMs: env.SWEEP_ACTIVE_GRACE_SECONDS * 1000,
    revokingGraceMs: env.SWEEP_REVOKING_GRACE_SECONDS * 1000,
    startGraceMs: env.SWEEP_START_GRACE_SECONDS * 1000,
    startGiveUpMs: env.SWEEP_START_GIVE_UP_SECONDS * 1000,
    activatingRestartMs: env.SWEEP_ACTIVATING_RESTART_SECONDS * 1000,
    activatingAlertMs: env.SWEEP_ACTIVATING_ALERT_SECONDS * 1000,
    attemptWindowMs: env.SWEEP_ATTEMPT_WINDOW_SECONDS * 1000,
    pageSize: env.SWEEP_PAGE_SIZE,
    maxActions: env.SWEEP_MAX_ACTIONS,
  };
}

/** The Slack functions' settings (slackCommands, slackInteractions, slackNotify). */
export const slackEnvSchema = z.object({
  /** SSM parameter names (SecureString) of the signing secret and the bot token. */
  SLACK_SIGNING_SECRET_PARAM: z.string().min(1, 'SSM parameter name of the Slack signing secret is required'),
  SLACK_BOT_TOKEN_PARAM: z.string().min(1, 'SSM parameter name of the Slack bot token is required'),
  /** The approvals channel for rules without slack.channel. */
  SLACK_APPROVALS_CHANNEL: optionalString,
  /** The AWS access portal URL for the console links in DMs. */
  SSO_START_URL: optionalString,
  /** The slackNotify function: set, it enables the expiry-warning schedules. */
  SLACK_NOTIFY_FUNCTION_ARN: optionalString,
  /** The fake Slack locally and in tests; unset in AWS (slack.com). */
  SLACK_API_URL: optionalString,
});

export type SlackEnv = z.infer<typeof slackEnvSchema>;

export function loadSlackEnv(env: NodeJS.ProcessEnv = process.env): SlackEnv {
  return parseEnv(slackEnvSchema, env, 'Slack');
}
