/**
 * Shared pieces of the benchmarks: percentiles and the results file. Each
 * benchmark owns one section of bench/results.md (between marker comments) and
 * rewrites only that section, so benchmarks can be run one at a time.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const RESULTS_FILE = resolve(import.meta.dirname, 'results.md');

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] as number;
}

export function summarize(samples: number[]): { n: number; p50: number; p95: number; p99: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s.at(-1) ?? Number.NaN };
}

export const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
export const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');

export function machineLine(): string {
  return `Node ${process.version} on ${process.platform}/${process.arch}, ${new Date().toISOString()}`;
}

/** Replaces (or appends) the section `id` of bench/results.md. */
export function writeSection(id: string, markdown: string): void {
  const begin = `<!-- bench:${id}:begin -->`;
  const end = `<!-- bench:${id}:end -->`;
  const header = '# Benchmark results\n\nWritten by `npm run bench` (bench/run.ts). Figures from one run on this machine; compare ratios within a run, not across machines.\n';
  let text = existsSync(RESULTS_FILE) ? readFileSync(RESULTS_FILE, 'utf8') : header;
  const block = `${begin}\n${markdown.trim()}\n${end}`;
  const start = text.indexOf(begin);
  const stop = text.indexOf(end);
  text = start >= 0 && stop > start ? text.slice(0, start) + block + text.slice(stop + end.length) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(RESULTS_FILE, text);
}
