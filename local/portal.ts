/**
 * The web portal on the gateway's port, as CloudFront serves it in AWS: the built app's
 * files, `/portal-config.json` (the runtime settings the app reads at start), and
 * `index.html` for every browser navigation so deep links (`/grants/<id>`) open the app.
 * A request that is not a navigation (curl's `*∕*`, the app's own JSON calls) goes on
 * to the HTTP API exactly as before.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import headers from '../config/portal/security-headers.cjs';
import { cacheControlOf, contentTypeOf, PORTAL_ASSETS_PREFIX as ASSETS_KEY_PREFIX, PORTAL_CONFIG_KEY, PORTAL_INDEX_KEY, PORTAL_SCOPES, type PortalRuntimeConfig } from '../lib/portal/files.ts';
import { send } from './protocol/http.ts';
import { LOCAL_ISSUER_PATH } from './jwt.ts';

export const PORTAL_CONFIG_PATH = `/${PORTAL_CONFIG_KEY}`;
export const PORTAL_ASSETS_PREFIX = `/${ASSETS_KEY_PREFIX}`;
/** The app's build entry point (portal/build.ts exports `buildPortal`). */
export const PORTAL_BUILD_SCRIPT = path.resolve(import.meta.dirname, '..', 'portal', 'build.ts');

/** Writes `index.html` and the hashed assets into outDir (the contract of portal/build.ts). */
export type BuildPortal = (options: { outDir: string; minify: boolean }) => Promise<void>;

/** The app's own build, when this checkout has one. */
export async function portalBuildFromSources(): Promise<BuildPortal | undefined> {
  if (!existsSync(PORTAL_BUILD_SCRIPT)) return undefined;
  const module = (await import(pathToFileURL(PORTAL_BUILD_SCRIPT).href)) as { buildPortal?: BuildPortal };
  if (typeof module.buildPortal !== 'function') throw new Error(`${PORTAL_BUILD_SCRIPT} exports no buildPortal function`);
  return module.buildPortal;
}

/** Builds the app into an emptied outDir (stale hashed assets would otherwise pile up) and checks it wrote its page. */
export async function buildPortalInto(outDir: string, build: BuildPortal): Promise<void> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await build({ outDir, minify: true });
  if (!existsSync(path.join(outDir, PORTAL_INDEX_KEY))) throw new Error(`the portal build wrote no index.html into ${outDir}`);
}

/**
 * A browser navigation: a GET or HEAD whose Accept names HTML, to a path that looks like a
 * page (no file extension) and is not the issuer's. Browsers send `text/html` first when
 * following a link or typing a URL; fetch() and curl send `*∕*` or JSON.
 */
export function isNavigation(method: string, rawPath: string, accept: string | undefined): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  if (rawPath === LOCAL_ISSUER_PATH || rawPath.startsWith(`${LOCAL_ISSUER_PATH}/`)) return false;
  if (path.posix.extname(rawPath.split('/').pop() ?? '')) return false;
  return (accept ?? '')
    .split(',')
    .some((part) => part.split(';')[0]!.trim().toLowerCase() === 'text/html');
}

export interface PortalSiteOptions {
  /** The folder the app was built into. */
  dir: string;
  clientId: string;
  ssoStartUrl: string;
}

export interface PortalRequestContext {
  gatewayUrl: string;
  issuer: string;
}

/** Answers the portal's requests; `handle` returns undefined for whatever belongs to the API. */
export class PortalSite {
  constructor(private readonly options: PortalSiteOptions) {}

  get dir(): string {
    return this.options.dir;
  }

  runtimeConfig(ctx: PortalRequestContext): PortalRuntimeConfig {
    return { apiUrl: ctx.gatewayUrl, issuer: ctx.issuer, clientId: this.options.clientId, ssoStartUrl: this.options.ssoStartUrl, scopes: PORTAL_SCOPES };
  }

  securityHeaders(ctx: PortalRequestContext): Record<string, string> {
    return headers.securityHeaders({ apiOrigin: new URL(ctx.gatewayUrl).origin, issuerOrigin: new URL(ctx.issuer).origin });
  }

  async handle(req: IncomingMessage, res: ServerResponse, rawPath: string, ctx: PortalRequestContext): Promise<number | undefined> {
    const method = (req.method ?? 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') return undefined;
    const respond = (status: number, extra: Record<string, string>, body: string | Buffer) =>
      send(res, status, { ...this.securityHeaders(ctx), ...extra }, method === 'HEAD' ? '' : body);

    if (rawPath === PORTAL_CONFIG_PATH) {
      // Read at every start of the app: a changed setting must not wait for a cache.
      return respond(200, { 'content-type': contentTypeOf(PORTAL_CONFIG_KEY), 'cache-control': cacheControlOf(PORTAL_CONFIG_KEY) }, JSON.stringify(this.runtimeConfig(ctx)));
    }
    if (rawPath.startsWith(PORTAL_ASSETS_PREFIX)) {
      const file = await this.fileAt(rawPath);
      if (!file) return respond(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }, `no asset ${rawPath}\n`);
      const key = rawPath.slice(1);
      return respond(200, { 'content-type': contentTypeOf(file), 'cache-control': cacheControlOf(key) }, await readFile(file));
    }
    if (isNavigation(method, rawPath, req.headers.accept)) {
      const index = await readFile(path.join(this.options.dir, PORTAL_INDEX_KEY));
      return respond(200, { 'content-type': contentTypeOf(PORTAL_INDEX_KEY), 'cache-control': cacheControlOf(PORTAL_INDEX_KEY) }, index);
    }
    return undefined;
  }

  /** The file a URL path names inside the build's assets folder, never outside it. */
  private async fileAt(rawPath: string): Promise<string | undefined> {
    let decoded: string;
    try {
      decoded = decodeURIComponent(rawPath);
    } catch {
      return undefined;
    }
    const assets = path.resolve(this.options.dir, `.${PORTAL_ASSETS_PREFIX}`);
    const file = path.resolve(this.options.dir, `.${path.posix.normalize(decoded)}`);
    if (!file.startsWith(`${assets}${path.sep}`)) return undefined;
    try {
      return (await stat(file)).isFile() ? file : undefined;
    } catch {
      return undefined;
    }
  }
}
