/**
 * The portal's content as a CloudFormation custom resource: Create and Update publish the
 * build and the stack's settings into the bucket, Delete empties the bucket so the stack can
 * remove it. CloudFormation waits for an answer at the response URL whatever happens, so
 * every outcome, a failure included, is answered with a reason a person can act on.
 */
import { emptyPortal, parsePortalSettings, publishPortal } from './deployment.ts';
import type { PortalBucket, PortalBuild } from '../ports/portal.ts';

export interface CustomResourceEvent {
  RequestType: 'Create' | 'Update' | 'Delete';
  ResponseURL: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  PhysicalResourceId?: string;
  ResourceProperties: Record<string, unknown>;
}

export interface CustomResourceResponse {
  Status: 'SUCCESS' | 'FAILED';
  Reason?: string;
  PhysicalResourceId: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  Data?: Record<string, string | number>;
}

export interface PortalResourceDeps {
  bucketNamed(name: string): PortalBucket;
  build: PortalBuild;
  respond(responseUrl: string, response: CustomResourceResponse): Promise<void>;
  log(message: string, fields?: Record<string, unknown>): void;
}

/** The physical id of a resource whose Create failed before it had a bucket: its Delete has nothing to empty. */
export const UNCREATED_PORTAL_ID = 'portal-content-not-created';
/** CloudFormation refuses response bodies over 4 KB. */
const MAX_REASON_LENGTH = 1000;

export async function handlePortalResource(event: CustomResourceEvent, deps: PortalResourceDeps): Promise<CustomResourceResponse> {
  const base = { StackId: event.StackId, RequestId: event.RequestId, LogicalResourceId: event.LogicalResourceId };
  let response: CustomResourceResponse;
  try {
    response = { ...base, Status: 'SUCCESS', ...(await apply(event, deps)) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    deps.log('portal deployment failed', { requestType: event.RequestType, reason });
    response = {
      ...base,
      Status: 'FAILED',
      Reason: `Portal ${event.RequestType.toLowerCase()} failed: ${reason}`.slice(0, MAX_REASON_LENGTH),
      PhysicalResourceId: event.PhysicalResourceId ?? UNCREATED_PORTAL_ID,
    };
  }
  await deps.respond(event.ResponseURL, response);
  return response;
}

async function apply(event: CustomResourceEvent, deps: PortalResourceDeps): Promise<Pick<CustomResourceResponse, 'PhysicalResourceId' | 'Data'>> {
  if (event.RequestType === 'Delete') {
    const bucket = event.PhysicalResourceId;
    if (!bucket || bucket === UNCREATED_PORTAL_ID) return { PhysicalResourceId: bucket ?? UNCREATED_PORTAL_ID };
    const removed = await emptyPortal(deps.bucketNamed(bucket));
    deps.log('portal bucket emptied', { bucket, removed });
    return { PhysicalResourceId: bucket, Data: { Removed: removed } };
  }
  const parsed = parsePortalSettings(event.ResourceProperties);
  if (!parsed.ok) throw new Error(parsed.reason);
  const written = await publishPortal(deps.bucketNamed(parsed.settings.BucketName), deps.build, parsed.settings);
  deps.log('portal published', { bucket: parsed.settings.BucketName, objects: written.length });
  // The bucket is the resource: a new bucket makes CloudFormation delete (empty) the old one.
  return { PhysicalResourceId: parsed.settings.BucketName, Data: { Objects: written.length } };
}
