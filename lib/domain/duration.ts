/** ISO 8601 durations limited to what access windows need: days, hours, minutes, seconds (PT30M, PT8H, P1D, P1DT2H). */
const PATTERN = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

export function parseDuration(text: string): number | undefined {
  const m = PATTERN.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return undefined;
  const [, d, h, min, s] = m;
  const ms = ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(min ?? 0)) * 60_000 + Number(s ?? 0) * 1000;
  return ms;
}

export function isDuration(text: string): boolean {
  return parseDuration(text) !== undefined;
}

/** Milliseconds of a duration already validated; throws on a malformed one (a programming error). */
export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`not an ISO 8601 duration: ${text}`);
  return ms;
}

export function formatDuration(ms: number): string {
  let s = Math.round(ms / 1000);
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  let out = 'P';
  if (d) out += `${d}D`;
  if (h || m || s || !d) {
    out += 'T';
    if (h) out += `${h}H`;
    if (m) out += `${m}M`;
    if (s || (!h && !m)) out += `${s}S`;
  }
  return out;
}

export function addDuration(iso: string, duration: string): string {
  return new Date(Date.parse(iso) + durationMs(duration)).toISOString();
}
