/**
 * Builds the sweeper and the reconciler from the container's runtime (lib/runtime.ts)
 * and their settings from the environment (validated at cold start, like lib/config.ts).
 */
import * as z from 'zod';
import { requireSetting } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { logger } from '../logger.ts';
import type { BackstopLog, Notifier } from '../ports/index.ts';
import type { Runtime } from '../runtime.ts';
import { workflowDeps } from '../workflow/runtime.ts';
import { IdentityCenterInventory } from '../adapters/access-inventory.ts';
import { StepFunctionsExecutionStarter } from '../adapters/execution-starter.ts';
import { Pacer } from './pacer.ts';
import { Reconciler } from './reconciler.ts';
import { DEFAULT_SWEEPER_SETTINGS as DEFAULTS, Sweeper, type SweeperSettings } from './sweeper.ts';

/** A duration setting in seconds, defaulting to the sweeper's own default (milliseconds). */
const seconds = (fallbackMs: number) => z.coerce.number().int().min(0).default(fallbackMs / 1000);

export const backstopEnvSchema = z.object({
  SWEEP_ACTIVE_GRACE_SECONDS: seconds(DEFAULTS.activeGraceMs),
  SWEEP_REVOKING_GRACE_SECONDS: seconds(DEFAULTS.revokingGraceMs),
  SWEEP_START_GRACE_SECONDS: seconds(DEFAULTS.startGraceMs),
  SWEEP_START_GIVE_UP_SECONDS: seconds(DEFAULTS.startGiveUpMs),
  SWEEP_ACTIVATING_RESTART_SECONDS: seconds(DEFAULTS.activatingRestartMs),
  SWEEP_ACTIVATING_ALERT_SECONDS: seconds(DEFAULTS.activatingAlertMs),
  SWEEP_ATTEMPT_WINDOW_SECONDS: z.coerce.number().int().min(60).default(DEFAULTS.attemptWindowMs / 1000),
  SWEEP_PAGE_SIZE: z.coerce.number().int().min(1).max(100).default(DEFAULTS.pageSize),
  SWEEP_MAX_ACTIONS: z.coerce.number().int().min(1).default(DEFAULTS.maxActions),
  /** The reconciler's share of Identity Center's 20 TPS (calls per second). */
  RECONCILE_MAX_TPS: z.coerce.number().positive().max(20).default(5),
});

export type BackstopEnv = z.infer<typeof backstopEnvSchema>;

export function loadBackstopEnv(env: NodeJS.ProcessEnv = process.env): BackstopEnv {
  const parsed = backstopEnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid backstop configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
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

/** Powertools logger behind the BackstopLog port. */
export const backstopLog: BackstopLog = {
  info: (message, fields) => logger.info(message, fields ?? {}),
  warn: (message, fields) => logger.warn(message, fields ?? {}),
  error: (message, fields) => logger.error(message, fields ?? {}),
};

export function createSweeper(runtime: Runtime, env: BackstopEnv = loadBackstopEnv(), log: BackstopLog = backstopLog): Sweeper {
  return new Sweeper(
    {
      store: runtime.store,
      executions: new StepFunctionsExecutionStarter(runtime.clients.sfn, {
        grant: requireSetting(runtime.config, 'GRANT_STATE_MACHINE_ARN'),
        revoke: requireSetting(runtime.config, 'REVOKE_STATE_MACHINE_ARN'),
      }),
      expirePending: (grant) => runtime.service.expirePending(grant),
      clock: runtime.clock,
      log,
    },
    sweeperSettings(env),
  );
}

export interface ReconcilerOptions {
  env?: BackstopEnv;
  log?: BackstopLog;
  notifier?: Notifier;
  /** Overrides the policy's reconcile.removeUnmanaged. */
  removeUnmanaged?: boolean;
}

export function createReconciler(runtime: Runtime, options: ReconcilerOptions = {}): Reconciler {
  const env = options.env ?? loadBackstopEnv();
  return new Reconciler(
    {
      workflow: workflowDeps(runtime),
      inventory: new IdentityCenterInventory(runtime.identityCenter),
      directory: runtime.directory,
      policy: runtime.policy.document,
      delegatedAdmin: runtime.config.DELEGATED_ADMIN,
      pacer: new Pacer(env.RECONCILE_MAX_TPS),
      log: options.log ?? backstopLog,
      ...(options.notifier ? { notifier: options.notifier } : {}),
    },
    options.removeUnmanaged !== undefined ? { removeUnmanaged: options.removeUnmanaged } : {},
  );
}
