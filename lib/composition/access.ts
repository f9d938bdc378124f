/** The access inventory (the reconciler's, in the grants table) and the service that answers GET /access. */
import { DynamoInventoryStore } from '../adapters/dynamo-inventory.ts';
import { AccessService } from '../service/access.ts';
import type { Runtime } from './runtime.ts';

export function inventoryStore(runtime: Runtime): DynamoInventoryStore {
  return new DynamoInventoryStore(runtime.clients.dynamodb, runtime.config.GRANTS_TABLE);
}

export function accessService(runtime: Runtime): AccessService {
  return new AccessService({ inventory: inventoryStore(runtime), store: runtime.store, directory: runtime.directory, policy: runtime.policy });
}
