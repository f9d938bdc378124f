/** The deployPortal custom resource: the S3 bucket, the build the package carries, CloudFormation's response URL. */
import { S3Client } from '@aws-sdk/client-s3';
import path from 'node:path';
import { sendCustomResourceResponse } from '../adapters/cloudformation-response.ts';
import { DirectoryPortalBuild } from '../adapters/portal-build-directory.ts';
import { S3PortalBucket } from '../adapters/s3-portal-bucket.ts';
import { logger } from '../logger.ts';
import { handlePortalResource, type CustomResourceEvent, type CustomResourceResponse, type PortalResourceDeps } from '../portal/custom-resource.ts';
import { PORTAL_BUILD_DIR } from '../portal/files.ts';

export function portalResourceDeps(): PortalResourceDeps {
  const s3 = new S3Client({});
  return {
    bucketNamed: (name) => new S3PortalBucket(s3, name),
    // The package root: /var/task in Lambda.
    build: new DirectoryPortalBuild(path.resolve(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), PORTAL_BUILD_DIR)),
    respond: sendCustomResourceResponse,
    log: (message, fields) => logger.info(message, fields ?? {}),
  };
}

export function portalResourceHandler(deps: () => PortalResourceDeps = portalResourceDeps): (event: CustomResourceEvent) => Promise<CustomResourceResponse> {
  let built: PortalResourceDeps | undefined;
  return (event) => handlePortalResource(event, (built ??= deps()));
}
