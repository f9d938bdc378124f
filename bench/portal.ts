/**
 * The web portal's weight on first load: the JavaScript and CSS that index.html
 * references, built as deployed (portal/build.ts, minified), raw, gzipped and
 * Brotli-compressed. Budget: ≤ 150 KB of JavaScript gzipped. Also the largest
 * modules in the bundle (from esbuild's metafile), and whether any zod
 * reached it (the app imports the API's schemas for their types only).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { buildPortal } from '../portal/build.ts';
import { fmt, machineLine, verdict, writeSection } from './report.ts';

const BUDGET_JS_GZIP_KB = 150;
const kb = (bytes: number) => bytes / 1024;

export async function runPortalBench(): Promise<void> {
  const outDir = await mkdtemp(join(tmpdir(), 'portal-bench-'));
  try {
    const { files, metafile } = await buildPortal({ outDir, minify: true });
    const html = await readFile(join(outDir, 'index.html'), 'utf8');
    const firstLoad = files.filter((f) => f.startsWith('assets/') && html.includes(`/${f}`));
    const rows: { file: string; kind: 'JS' | 'CSS'; raw: number; gzip: number; brotli: number }[] = [];
    for (const file of firstLoad) {
      const bytes = await readFile(join(outDir, file));
      rows.push({ file, kind: file.endsWith('.css') ? 'CSS' : 'JS', raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, brotli: brotliCompressSync(bytes).length });
    }
    const total = (kind: 'JS' | 'CSS', key: 'raw' | 'gzip' | 'brotli') => rows.filter((r) => r.kind === kind).reduce((sum, r) => sum + r[key], 0);
    const jsGzip = kb(total('JS', 'gzip'));

    const inputs = new Map<string, number>();
    for (const output of Object.values(metafile.outputs)) {
      for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
        const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? input.replace(/^.*?(portal\/|lib\/)/, '$1');
        inputs.set(name, (inputs.get(name) ?? 0) + bytesInOutput);
      }
    }
    const largest = [...inputs].sort((a, b) => b[1] - a[1]).slice(0, 8);
    const zodInBundle = [...inputs.keys()].some((n) => n === 'zod' || n.startsWith('zod/'));

    const lines = [
      '## Web portal: first-load size',
      '',
      machineLine(),
      '',
      `\`BENCH=portal npm run bench\`: portal/build.ts (minified, as deployed); every asset index.html references; gzip level 9 and Brotli (Node zlib defaults). Budget: ≤ ${BUDGET_JS_GZIP_KB} KB of JavaScript gzipped.`,
      '',
      '| asset | raw KB | gzip KB | brotli KB |',
      '|---|---:|---:|---:|',
      ...rows.map((r) => `| ${r.kind} \`${r.file}\` | ${fmt(kb(r.raw))} | ${fmt(kb(r.gzip))} | ${fmt(kb(r.brotli))} |`),
      `| **JavaScript total** | ${fmt(kb(total('JS', 'raw')))} | **${fmt(jsGzip)}** | ${fmt(kb(total('JS', 'brotli')))} |`,
      `| CSS total | ${fmt(kb(total('CSS', 'raw')))} | ${fmt(kb(total('CSS', 'gzip')))} | ${fmt(kb(total('CSS', 'brotli')))} |`,
      '',
      `JavaScript gzipped: ${fmt(jsGzip)} KB of ${BUDGET_JS_GZIP_KB} KB — ${verdict(jsGzip <= BUDGET_JS_GZIP_KB)}. zod in the bundle: ${zodInBundle ? '**yes**' : 'no'}.`,
      '',
      `Largest modules (minified bytes in the output): ${largest.map(([n, b]) => `${n} ${fmt(kb(b))} KB`).join(', ')}.`,
    ];
    writeSection('portal', lines.join('\n'));
    console.log(lines.join('\n'));
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}
