/**
 * What publishGrantEvents and getAudit run, built from the container's runtime: the audit
 * trail on the grants table, the EventBridge publisher (its client loaded on first use) and
 * the audit export.
 */
import { withSdkRetry } from '../adapters/aws-retry.ts';
import { DynamoAuditTrail } from '../adapters/dynamo-audit-trail.ts';
import { EventBridgePublisher } from '../adapters/eventbridge-publisher.ts';
import { lazySdk } from '../adapters/lazy-sdk.ts';
import type { PublishHandlerDeps } from '../events/publish-handler.ts';
import { logger } from '../logger.ts';
import { GrantAuthorization } from '../policy/authorization.ts';
import { AuditService } from '../service/audit.ts';
import { getRuntime, type Runtime } from './runtime.ts';

/** The stream function's dependencies; call it at cold start (it validates the environment). */
export function grantEventsPublishing(runtime: Runtime = getRuntime()): PublishHandlerDeps {
  const client = async () => {
    const { EventBridgeClient } = await lazySdk.eventBridge();
    return withSdkRetry((retry) => new EventBridgeClient(retry));
  };
  return {
    publisher: new EventBridgePublisher(client, { eventBusName: runtime.config.EVENT_BUS_NAME }),
    audit: new DynamoAuditTrail(runtime.clients.dynamodb, runtime.config.GRANTS_TABLE),
    logger,
  };
}

/** The audit export (GET /audit). */
export function auditService(runtime: Runtime = getRuntime()): AuditService {
  return new AuditService({
    trail: new DynamoAuditTrail(runtime.clients.dynamodb, runtime.config.GRANTS_TABLE),
    authorization: new GrantAuthorization(runtime.policy),
    clock: runtime.clock,
  });
}
