/**
 * The workflow tasks (prepareActivation, completeActivation, beginRevocation) and
 * their dependencies, built from the container's runtime once per container.
 */
import { DynamoCreateSlots } from '../adapters/dynamo-slots.ts';
import { DynamoRevocationWrites } from '../adapters/revocation-writes.ts';
import { StepFunctionsSlotWaker } from '../adapters/slot-waker.ts';
import type { WorkflowDeps } from '../ports/index.ts';
import { completeActivation, planOnHandedSlot, prepareActivation, SLOT_LEASE_MS, type ActivationInput, type CompleteActivationInput } from '../workflow/activation.ts';
import { beginRevocation, type RevocationInput } from '../workflow/revocation.ts';
import { getRuntime, type Runtime } from './runtime.ts';

const built = new WeakMap<Runtime, WorkflowDeps>();

export function workflowDeps(runtime: Runtime): WorkflowDeps {
  let deps = built.get(runtime);
  if (!deps) {
    const self: WorkflowDeps = {
      store: runtime.store,
      identityCenter: runtime.identityCenter,
      slots: new DynamoCreateSlots(runtime.clients.dynamodb, {
        tableName: runtime.config.GRANTS_TABLE,
        clock: runtime.clock,
        waker: new StepFunctionsSlotWaker(runtime.clients.sfn),
        handOverLeaseMs: SLOT_LEASE_MS,
        // A woken activation is told its plan on the slot, so its prepare task does not run twice.
        wakeOutput: async (owner, slot) => (await planOnHandedSlot(self, owner, slot)) ?? slot,
      }),
      revocationWrites: new DynamoRevocationWrites(runtime.config.CLOSED_GRANT_RETENTION_DAYS),
      workflows: runtime.workflows,
      clock: runtime.clock,
    };
    deps = self;
    built.set(runtime, deps);
  }
  return deps;
}

/**
 * Each Lambda task of the state machines, bound to the container's runtime (built, and env and
 * policy validated, when the function module loads). One builder per task, so a function's
 * bundle holds its own task and not its siblings.
 */
export function prepareActivationTask(runtime: Runtime = getRuntime()): (input: ActivationInput) => ReturnType<typeof prepareActivation> {
  const deps = workflowDeps(runtime);
  return (input) => prepareActivation(deps, input);
}

export function completeActivationTask(runtime: Runtime = getRuntime()): (input: CompleteActivationInput) => ReturnType<typeof completeActivation> {
  const deps = workflowDeps(runtime);
  return (input) => completeActivation(deps, input);
}

export function beginRevocationTask(runtime: Runtime = getRuntime()): (input: RevocationInput) => ReturnType<typeof beginRevocation> {
  const deps = workflowDeps(runtime);
  return (input) => beginRevocation(deps, input);
}
