import type { PortalConfig } from './types.ts';

/** Reads the deployment's settings; a missing field is a deployment error worth saying plainly. */
export async function loadConfig(): Promise<PortalConfig> {
  const res = await fetch('/portal-config.json', { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`the portal's settings (/portal-config.json) could not be read: HTTP ${res.status}`);
  const config = (await res.json()) as Partial<PortalConfig>;
  for (const key of ['apiUrl', 'issuer', 'clientId'] as const) {
    if (typeof config[key] !== 'string' || !config[key]) throw new Error(`the portal's settings (/portal-config.json) lack "${key}"`);
  }
  return { scopes: 'openid email profile', ...config } as PortalConfig;
}
