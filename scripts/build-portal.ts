/**
 * `npm run build:portal`: builds the web portal (portal/build.ts) into portal-dist/, the
 * folder the deployPortal package carries to the bucket. `npm run package` runs it first.
 * A checkout without portal/ packages without a build (and says so); deploying it then
 * fails at the portal's custom resource with that reason.
 */
import path from 'node:path';
import { rm } from 'node:fs/promises';
import { PORTAL_BUILD_DIR } from '../lib/portal/files.ts';
import { buildPortalInto, portalBuildFromSources } from '../local/portal.ts';

const outDir = path.resolve(import.meta.dirname, '..', PORTAL_BUILD_DIR);
const build = await portalBuildFromSources();
if (!build) {
  await rm(outDir, { recursive: true, force: true });
  process.stderr.write(`build:portal: no portal/build.ts in this checkout: the package carries no web portal\n`);
} else {
  const started = Date.now();
  await buildPortalInto(outDir, build);
  process.stderr.write(`build:portal: built into ${PORTAL_BUILD_DIR}/ in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}
