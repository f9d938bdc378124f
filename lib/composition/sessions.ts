/**
 * Session revocation (lib/workflow/session-cut.ts) built from the container's runtime: the
 * Organizations SCPs, the cut entries in the grants table, the Identity Center reads.
 */
import { OrganizationsServiceControlPolicies } from '../adapters/organizations-scp.ts';
import { DynamoSessionCutStore } from '../adapters/session-cut-store.ts';
import { logger } from '../logger.ts';
import type { BackstopLog } from '../ports/index.ts';
import { cutSessions, type CutSessionsInput, type SessionCutDeps } from '../workflow/session-cut.ts';
import { getRuntime, type Runtime } from './runtime.ts';

const log: BackstopLog = {
  info: (message, fields) => logger.info(message, fields ?? {}),
  warn: (message, fields) => logger.warn(message, fields ?? {}),
  error: (message, fields) => logger.error(message, fields ?? {}),
};

const built = new WeakMap<Runtime, SessionCutDeps>();

export function sessionCutDeps(runtime: Runtime, overrides: Partial<SessionCutDeps> = {}): SessionCutDeps {
  let deps = built.get(runtime);
  if (!deps) {
    const { config, clients, clock } = runtime;
    deps = {
      store: runtime.store,
      cuts: new DynamoSessionCutStore(clients.dynamodb, { tableName: config.GRANTS_TABLE, clock }),
      scps: new OrganizationsServiceControlPolicies({ organizations: clients.organizations, owner: config.SESSION_SCP_OWNER }),
      access: runtime.sessionAccess,
      clock,
      log,
      scpNamePrefix: config.SESSION_SCP_OWNER,
    };
    built.set(runtime, deps);
  }
  return { ...deps, ...overrides };
}

/** The revoke workflow's CutSessions task, bound to the container's runtime. */
export function cutSessionsTask(runtime: Runtime = getRuntime()): (input: CutSessionsInput) => ReturnType<typeof cutSessions> {
  const deps = sessionCutDeps(runtime);
  // With revocation off the revoke workflow has no CutSessions state (statemachines/definitions.cjs); an execution
  // started under the scp definition before the stack switched to off may still reach it.
  if (runtime.config.SESSION_REVOCATION === 'off') return async () => ({ outcome: 'nothing-to-cut', accounts: [], detail: 'session revocation is off' });
  return (input) => cutSessions(deps, input);
}
