/**
 * The API's shapes, taken from the zod schemas that validate and document it
 * (lib/http/schemas.ts). Type-only imports: no zod reaches the bundle.
 */
import type * as z from 'zod';
import type { createGrantBodySchema, eligibilitySchema, grantPageSchema, grantSchema } from '../../lib/http/schemas.ts';
import type { Target } from '../../lib/domain/grant.ts';

/** What a deployment tells the app at start (`/portal-config.json`), never baked into the build. */
export interface PortalConfig {
  apiUrl: string;
  issuer: string;
  clientId: string;
  ssoStartUrl?: string;
  scopes: string;
}

/** Session duration facts an eligibility entry may carry: how long a console/CLI session outlives the grant. */
export interface SessionCaveat {
  duration?: string;
  revocation?: string;
  note?: string;
}

export type Grant = z.infer<typeof grantSchema> & { sessionsValidUntil?: string };
export type GrantPage = z.infer<typeof grantPageSchema>;
export type GrantRequest = z.input<typeof createGrantBodySchema>;
type EligibilityItem = z.infer<typeof eligibilitySchema>['items'][number];
export type EligibilityEntry = Omit<EligibilityItem, 'targets'> & { targets: Target[]; session?: SessionCaveat };
export type { Target };
export type GrantStatus = Grant['status'];
