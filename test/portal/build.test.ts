/**
 * The portal's build as deployed: hashed assets that index.html references, no inline
 * script or style a strict CSP would refuse, and nothing of zod or Node in the bundle
 * (the app takes the API's types from lib/http/schemas.ts, never its code).
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPortal, type PortalBuild } from '../../portal/build.ts';

describe('portal build', () => {
  let outDir: string;
  let built: PortalBuild;
  let html: string;

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'portal-build-test-'));
    built = await buildPortal({ outDir });
    html = await readFile(join(outDir, 'index.html'), 'utf8');
  });
  afterAll(async () => rm(outDir, { recursive: true, force: true }));

  it('writes index.html referencing content-hashed script and stylesheet under /assets/', async () => {
    const assets = await readdir(join(outDir, 'assets'));
    expect(built.files.sort()).toEqual(['index.html', ...assets.map((a) => `assets/${a}`)].sort());
    const script = assets.find((a) => a.endsWith('.js'));
    const style = assets.find((a) => a.endsWith('.css'));
    expect(script).toMatch(/^main-[A-Z0-9]{8}\.js$/);
    expect(style).toMatch(/^main-[A-Z0-9]{8}\.css$/);
    expect(html).toContain(`<script type="module" src="/assets/${script}"></script>`);
    expect(html).toContain(`<link rel="stylesheet" href="/assets/${style}" />`);
    expect(html).not.toContain('<!-- build:');
  });

  it('has no inline script, inline style or style attribute (script-src and style-src are self only)', async () => {
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style\b/);
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).not.toMatch(/\son[a-z]+=/);
    const sources = await readdir(join(import.meta.dirname, '../../portal/src'), { recursive: true });
    for (const file of sources.filter((f) => f.endsWith('.tsx'))) {
      const text = await readFile(join(import.meta.dirname, '../../portal/src', file), 'utf8');
      expect(text, file).not.toMatch(/\sstyle=\{/);
      expect(text, file).not.toContain('dangerouslySetInnerHTML');
    }
  });

  it('bundles Preact and the app, and nothing of zod or Node', () => {
    const inputs = Object.values(built.metafile.outputs).flatMap((o) => Object.keys(o.inputs));
    const packages = new Set(inputs.flatMap((i) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(i)?.[1] ?? []));
    expect([...packages]).toEqual(['preact']);
    expect(inputs.filter((i) => /lib\/http\/|node:/.test(i))).toEqual([]);
  });
});
