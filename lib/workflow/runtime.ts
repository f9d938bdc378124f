/**
 * Builds the workflow task dependencies from the container's runtime (lib/runtime.ts),
 * once per container.
 */
import { DynamoCreateSlots } from '../adapters/dynamo-slots.ts';
import { DynamoRevocationWrites } from '../adapters/revocation-writes.ts';
import type { Runtime } from '../runtime.ts';
import type { WorkflowDeps } from '../ports/index.ts';

const built = new WeakMap<Runtime, WorkflowDeps>();

export function workflowDeps(runtime: Runtime): WorkflowDeps {
  let deps = built.get(runtime);
  if (!deps) {
    deps = {
      store: runtime.store,
      identityCenter: runtime.identityCenter,
      slots: new DynamoCreateSlots(runtime.clients.dynamodb, { tableName: runtime.config.GRANTS_TABLE, clock: runtime.clock }),
      revocationWrites: new DynamoRevocationWrites(runtime.config.CLOSED_GRANT_RETENTION_DAYS),
      workflows: runtime.workflows,
      clock: runtime.clock,
    };
    built.set(runtime, deps);
  }
  return deps;
}
