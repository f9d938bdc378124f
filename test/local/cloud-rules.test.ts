import { describe, expect, it } from 'vitest';
import { rateMs } from '../../local/cloud.ts';

describe('local EventBridge rules', () => {
  it('runs rate() expressions and leaves others alone', () => {
    expect(rateMs('rate(5 minutes)')).toBe(300_000);
    expect(rateMs('rate(1 hour)')).toBe(3_600_000);
    expect(rateMs('rate(1 day)')).toBe(86_400_000);
    expect(rateMs('cron(0 12 * * ? *)')).toBeUndefined();
    expect(rateMs(undefined)).toBeUndefined();
  });
});
