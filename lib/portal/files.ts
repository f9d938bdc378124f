/**
 * How each file of the built web portal is served, the same locally (local/portal.ts) and
 * from the S3 bucket behind CloudFront (lib/portal/deployment.ts): its content type and
 * how long browsers and CloudFront may keep it.
 */
import headers from '../../config/portal/security-headers.cjs';

/** The runtime settings file the app reads at start; written at deploy time, never built. */
export const PORTAL_CONFIG_KEY = 'portal-config.json';
export const PORTAL_INDEX_KEY = 'index.html';
/** Hashed, immutable build output lives under this prefix. */
export const PORTAL_ASSETS_PREFIX = 'assets/';
/** The scopes the app asks the issuer for. */
export const PORTAL_SCOPES = 'openid email profile';

/** What `portal-config.json` holds: the settings the app needs and never bakes in. */
export interface PortalRuntimeConfig {
  apiUrl: string;
  issuer: string;
  clientId: string;
  /** The AWS access portal, linked once a grant is ACTIVE ('' when not configured). */
  ssoStartUrl: string;
  scopes: string;
}

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json',
  map: 'application/json',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  webp: 'image/webp',
  woff2: 'font/woff2',
  txt: 'text/plain; charset=utf-8',
  webmanifest: 'application/manifest+json',
};

export function contentTypeOf(key: string): string {
  const extension = /\.([a-z0-9]+)$/i.exec(key)?.[1]?.toLowerCase() ?? '';
  return CONTENT_TYPES[extension] ?? 'application/octet-stream';
}

/**
 * Assets carry their content hash in their name: cached for a year. Everything else (the page
 * naming the current assets, the settings) is revalidated on every load, so a deployment shows at once.
 */
export function cacheControlOf(key: string): string {
  return key.startsWith(PORTAL_ASSETS_PREFIX) ? `public, max-age=${headers.ASSET_MAX_AGE_SECONDS}, immutable` : 'no-cache';
}

/** Where `npm run build:portal` writes the app and where the deployPortal package carries it (serverless.yml's patterns). */
export const PORTAL_BUILD_DIR = 'portal-dist';
