/** CloudFormation custom resource (PortalContent): publishes the web portal into its bucket, empties it on delete. */
import { portalResourceHandler } from '../lib/composition/portal.ts';

export const handler = portalResourceHandler();
