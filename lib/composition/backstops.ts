/**
 * The sweeper and the reconciler, built from the container's runtime and the
 * backstop settings (lib/config.ts backstopEnvSchema, validated at cold start).
 */
import { IdentityCenterInventory } from '../adapters/access-inventory.ts';
import { StepFunctionsExecutionStarter } from '../adapters/execution-starter.ts';
import { Pacer } from '../backstops/pacer.ts';
import { Reconciler } from '../backstops/reconciler.ts';
import { Sweeper } from '../backstops/sweeper.ts';
import { loadBackstopEnv, reconcileCallsPerSecond, requireSetting, sweeperSettings, type BackstopEnv } from '../config.ts';
import { logger } from '../logger.ts';
import type { BackstopLog, ReconcileStrategy } from '../ports/index.ts';
import { inventoryStore } from './access.ts';
import { getRuntime, type Runtime } from './runtime.ts';
import { sessionCutDeps } from './sessions.ts';
import { workflowDeps } from './workflow.ts';

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
      slots: workflowDeps(runtime).slots,
      expirePending: (grant) => runtime.service.expirePending(grant),
      // Also with revocation off: entries cut while it was on are still lifted when due.
      sessions: sessionCutDeps(runtime, { log }),
      clock: runtime.clock,
      log,
    },
    sweeperSettings(env),
  );
}

export interface ReconcilerOptions {
  env?: BackstopEnv;
  log?: BackstopLog;
  /** Overrides the policy's reconcile.removeUnmanaged. */
  removeUnmanaged?: boolean;
  /** Overrides RECONCILE_STRATEGY. */
  strategy?: ReconcileStrategy | 'auto';
}

export function createReconciler(runtime: Runtime, options: ReconcilerOptions = {}): Reconciler {
  const env = options.env ?? loadBackstopEnv();
  return new Reconciler(
    {
      workflow: workflowDeps(runtime),
      inventory: new IdentityCenterInventory(runtime.identityCenter),
      passes: inventoryStore(runtime),
      directory: runtime.directory,
      policy: runtime.policy.document,
      delegatedAdmin: runtime.config.DELEGATED_ADMIN,
      pacer: new Pacer(reconcileCallsPerSecond(env)),
      log: options.log ?? backstopLog,
    },
    { ...(options.removeUnmanaged !== undefined ? { removeUnmanaged: options.removeUnmanaged } : {}), strategy: options.strategy ?? env.RECONCILE_STRATEGY },
  );
}

/** What the sweepGrants and reconcileAccess functions run: built for each run from the container's runtime, as a run's pacing starts afresh. */
export interface Backstops {
  sweeper(): Sweeper;
  reconciler(): Reconciler;
}

/** Call it at cold start: it validates the environment, the policy and the backstop settings. */
export function backstops(runtime: () => Runtime = getRuntime): Backstops {
  runtime();
  const env = loadBackstopEnv();
  return {
    sweeper: () => createSweeper(runtime(), env),
    reconciler: () => createReconciler(runtime(), { env }),
  };
}
