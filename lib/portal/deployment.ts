/**
 * Publishing the web portal into its bucket at deploy time: the built files with their cache
 * headers, then `portal-config.json` with the stack's values (so changing a setting never
 * needs a rebuild), the page last so no browser loads a page naming assets not yet there.
 * Assets of earlier releases stay: a page already open may still load them.
 */
import * as z from 'zod';
import type { PortalBucket, PortalBuild } from '../ports/portal.ts';
import { cacheControlOf, contentTypeOf, PORTAL_CONFIG_KEY, PORTAL_INDEX_KEY, PORTAL_SCOPES, type PortalRuntimeConfig } from './files.ts';

const httpsUrl = (what: string) =>
  z
    .string({ error: `${what} is required` })
    .url({ error: `${what} must be a URL` })
    .refine((v) => v.startsWith('https://'), { error: `${what} must be an https:// URL` });

/** The settings the stack passes (the custom resource's properties). */
export const portalSettingsSchema = z.object({
  BucketName: z.string({ error: 'BucketName is required' }).min(3, { error: 'BucketName is required' }),
  ApiUrl: httpsUrl('ApiUrl (the HTTP API URL)'),
  Issuer: httpsUrl('Issuer (the jwtIssuer deploy parameter)'),
  ClientId: z.string({ error: 'ClientId (the portalClientId deploy parameter) is required' }).min(1, { error: 'ClientId (the portalClientId deploy parameter) must not be empty' }),
  SsoStartUrl: z.union([z.literal(''), httpsUrl('SsoStartUrl (the ssoStartUrl deploy parameter)')]).default(''),
});
export type PortalSettings = z.infer<typeof portalSettingsSchema>;

/** The settings, or one sentence per thing wrong with them. */
export function parsePortalSettings(properties: unknown): { ok: true; settings: PortalSettings } | { ok: false; reason: string } {
  const parsed = portalSettingsSchema.safeParse(properties);
  if (parsed.success) return { ok: true, settings: parsed.data };
  return { ok: false, reason: parsed.error.issues.map((i) => i.message).join('; ') };
}

export function runtimeConfigOf(settings: PortalSettings): PortalRuntimeConfig {
  return { apiUrl: settings.ApiUrl.replace(/\/+$/, ''), issuer: settings.Issuer.replace(/\/+$/, ''), clientId: settings.ClientId, ssoStartUrl: settings.SsoStartUrl, scopes: PORTAL_SCOPES };
}

export class PortalBuildMissingError extends Error {
  constructor() {
    super(`the deployment package holds no portal build (${PORTAL_INDEX_KEY} missing): run \`npm run build:portal\` before \`sls deploy\` (\`npm run package\` does it)`);
    this.name = 'PortalBuildMissingError';
  }
}

/** Uploads the build and the settings; returns the keys written. */
export async function publishPortal(bucket: PortalBucket, build: PortalBuild, settings: PortalSettings): Promise<string[]> {
  const files = await build.files();
  if (!files.includes(PORTAL_INDEX_KEY)) throw new PortalBuildMissingError();
  const put = async (key: string, body: Uint8Array | string) => bucket.put({ key, body, contentType: contentTypeOf(key), cacheControl: cacheControlOf(key) });
  // The build's own portal-config.json (if any) is never shipped: the stack's values are.
  const assets = files.filter((f) => f !== PORTAL_INDEX_KEY && f !== PORTAL_CONFIG_KEY);
  for (const file of assets) await put(file, await build.read(file));
  await put(PORTAL_CONFIG_KEY, JSON.stringify(runtimeConfigOf(settings)));
  await put(PORTAL_INDEX_KEY, await build.read(PORTAL_INDEX_KEY));
  return [...assets, PORTAL_CONFIG_KEY, PORTAL_INDEX_KEY];
}

/** Removes everything, so CloudFormation can delete the bucket with the stack. */
export async function emptyPortal(bucket: PortalBucket): Promise<number> {
  const keys = await bucket.keys();
  if (keys.length) await bucket.delete(keys);
  return keys.length;
}
