/**
 * Builds the web portal: one esbuild bundle of portal/src (Preact, JSX) and its
 * stylesheet under content-hashed names in `assets/`, and index.html pointing
 * at them. Nothing deployment-specific goes in: the app reads
 * /portal-config.json at start. `npm run build:portal` (scripts/build-portal.ts) builds
 * it into portal-dist/ for packaging; the local cloud builds it at start.
 */
import { build, type Metafile } from 'esbuild';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';

const PORTAL_DIR = import.meta.dirname;

export interface PortalBuild {
  /** Paths relative to outDir: index.html and everything under assets/. */
  files: string[];
  metafile: Metafile;
}

export async function buildPortal({ outDir, minify = true }: { outDir: string; minify?: boolean }): Promise<PortalBuild> {
  const assetsDir = resolve(outDir, 'assets');
  // Stale hashed files from an earlier build would be served forever under long cache headers.
  await rm(assetsDir, { recursive: true, force: true });
  await mkdir(assetsDir, { recursive: true });
  const result = await build({
    entryPoints: [resolve(PORTAL_DIR, 'src/main.tsx')],
    outdir: assetsDir,
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    bundle: true,
    splitting: false,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome111', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify,
    sourcemap: false,
    metafile: true,
    legalComments: 'none',
    logLevel: 'silent',
    tsconfig: resolve(PORTAL_DIR, 'tsconfig.json'),
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => resolve(p));
  const asUrl = (file: string) => '/' + relative(outDir, file).split('\\').join('/');
  const scripts = outputs.filter((f) => f.endsWith('.js')).map((f) => `<script type="module" src="${asUrl(f)}"></script>`);
  const styles = outputs.filter((f) => f.endsWith('.css')).map((f) => `<link rel="stylesheet" href="${asUrl(f)}" />`);
  const template = await readFile(resolve(PORTAL_DIR, 'index.html'), 'utf8');
  const html = template.replace('<!-- build: styles -->', styles.join('\n    ')).replace('<!-- build: scripts -->', scripts.join('\n    '));
  await writeFile(resolve(outDir, 'index.html'), html);
  return { files: ['index.html', ...outputs.map((f) => relative(outDir, f).split('\\').join('/'))], metafile: result.metafile };
}

