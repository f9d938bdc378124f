import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { knobsFromEnv, parseKnobs } from '../../local/idc/knobs.ts';

describe('Identity Center knobs from a config file and the environment', () => {
  it('reads the documented example file, with env variables on top', () => {
    const knobs = parseKnobs(knobsFromEnv({ IDC_KNOBS_FILE: resolve(import.meta.dirname, '../../local/knobs.example.yaml'), IDC_THROTTLE_TPS: '5' }));
    expect(knobs.throttleTps).toBe(5);
    expect(knobs.maxOutstandingAsync).toBe(10);
    expect(knobs.faults.map((f) => f.effect.type)).toEqual(['fail', 'error', 'error']);
  });
  it('names the file and the field when the file is wrong', () => {
    const dir = mkdtempSync(join(tmpdir(), 'knobs-'));
    const file = join(dir, 'knobs.yaml');
    writeFileSync(file, 'throttleTps: fast\n');
    expect(() => knobsFromEnv({ IDC_KNOBS_FILE: file })).toThrow(/knobs\.yaml[\s\S]*throttleTps/);
    expect(() => knobsFromEnv({ IDC_KNOBS_FILE: join(dir, 'missing.yaml') })).toThrow(/cannot be read/);
  });
});
