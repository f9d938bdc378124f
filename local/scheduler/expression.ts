/**
 * EventBridge Scheduler expressions: `at(yyyy-mm-ddThh:mm:ss)` in an IANA time zone
 * (evaluated here), `rate(...)` and `cron(...)` (validated, stored, not fired locally).
 */
export type ParsedExpression =
  | { kind: 'at'; /** Epoch ms of the wall-clock time in the schedule's time zone. */ epochMs: number }
  | { kind: 'rate' | 'cron' };

export class InvalidExpression extends Error {}

const AT = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/;
const RATE = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$/;
const CRON = /^cron\(\s*\S+(\s+\S+){5}\s*\)$/;

/** Zones already found valid: building a DateTimeFormat per schedule is costly in a storm of schedules. */
const validTimeZones = new Set<string>();

export function assertTimeZone(timeZone: string): void {
  if (validTimeZones.has(timeZone)) return;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new InvalidExpression(`Invalid ScheduleExpressionTimezone: ${timeZone}`);
  }
  validTimeZones.add(timeZone);
}

export function parseScheduleExpression(expression: string, timeZone = 'UTC'): ParsedExpression {
  assertTimeZone(timeZone);
  const at = AT.exec(expression);
  if (at) {
    const [y, mo, d, h, mi, s] = at.slice(1).map(Number) as [number, number, number, number, number, number];
    const wall = Date.UTC(y, mo - 1, d, h, mi, s);
    const check = new Date(wall);
    // Date.UTC rolls 2024-02-30 over to March; a real calendar date round-trips.
    if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
      throw new InvalidExpression(`Invalid Schedule Expression ${expression}.`);
    }
    return { kind: 'at', epochMs: zonedWallTimeToEpoch(wall, timeZone) };
  }
  if (RATE.test(expression)) {
    const n = Number(RATE.exec(expression)![1]);
    if (n < 1) throw new InvalidExpression(`Invalid Schedule Expression ${expression}.`);
    return { kind: 'rate' };
  }
  if (CRON.test(expression)) return { kind: 'cron' };
  throw new InvalidExpression(`Invalid Schedule Expression ${expression}.`);
}

/** Offset (ms) of `timeZone` from UTC at the instant `epochMs`. */
function zoneOffsetMs(epochMs: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(epochMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(epochMs / 1000) * 1000;
}

/** `wallAsUtcMs` is Date.UTC(...) of the wall-clock fields; returns the instant that wall time names in `timeZone`. */
export function zonedWallTimeToEpoch(wallAsUtcMs: number, timeZone: string): number {
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return wallAsUtcMs;
  // Two passes settle the offset, also across a DST change between guess and answer.
  const guess = wallAsUtcMs - zoneOffsetMs(wallAsUtcMs, timeZone);
  return wallAsUtcMs - zoneOffsetMs(guess, timeZone);
}
