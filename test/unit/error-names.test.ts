/**
 * Error names are fixed strings. The deployed bundles are minified, so a name taken from
 * the class (`new.target.name`, `constructor.name`, `SomeError.name`) becomes one letter:
 * Step Functions' Retry/Catch would never match it, logs would say `L: ...`. Each error
 * class in lib/ names itself with a literal, and nothing compares names with a class's.
 * (test/infra/workflow-bundles.test.ts checks the minified task bundles themselves.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as appErrors from '../../lib/errors.ts';
import { UnsupportedMediaTypeError } from '../../lib/http/middleware/json-body.ts';
import { PolicyError } from '../../lib/policy/load.ts';
import * as workflowErrors from '../../lib/workflow/errors.ts';

const ROOT = resolve(import.meta.dirname, '../..');

function sources(dir: string): { file: string; text: string }[] {
  return readdirSync(resolve(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => ({ file: join(dir, f), text: readFileSync(resolve(ROOT, dir, f), 'utf8') }));
}
const code = [...sources('lib'), ...sources('functions')];

describe('error names', () => {
  it('are the fixed strings Step Functions, logs and callers match on', () => {
    const expected: [Error, string][] = [
      [new appErrors.ValidationError('m'), 'ValidationError'],
      [new appErrors.UnauthenticatedError('m'), 'UnauthenticatedError'],
      [new appErrors.ForbiddenError('m'), 'ForbiddenError'],
      [new appErrors.NotFoundError('m'), 'NotFoundError'],
      [new appErrors.ConflictError('m'), 'ConflictError'],
      [new appErrors.UnprocessableError('m'), 'UnprocessableError'],
      [new appErrors.ConfigError('m'), 'ConfigError'],
      [new workflowErrors.HolderBusy('m'), 'HolderBusy'],
      [new workflowErrors.SlotsBusy('m'), 'SlotsBusy'],
      [new UnsupportedMediaTypeError('m'), 'UnsupportedMediaTypeError'],
      [new PolicyError('p.yaml', []), 'PolicyError'],
    ];
    for (const [error, name] of expected) {
      expect(error.name).toBe(name);
      expect(error.stack?.split('\n')[0]).toMatch(new RegExp(`^${name}\\b`));
      expect(error).toBeInstanceOf(Error);
    }
  });

  it('are literals in every error class under lib/ and functions/', () => {
    let classes = 0;
    for (const { file, text } of code) {
      for (const m of text.matchAll(/^(?:export )?(abstract )?class (\w+) extends (\w+)[^{]*\{/gm)) {
        const [, abstract, name, base] = m;
        if (!/Error$|Busy$/.test(base!) && base !== 'Error') continue;
        classes++;
        if (abstract) continue;
        const body = text.slice(m.index!, text.indexOf('\n}', m.index!));
        expect(body, `${file}: class ${name} names itself with the literal '${name}'`).toMatch(new RegExp(`(readonly name = |this\\.name = )'${name}'`));
      }
    }
    expect(classes).toBeGreaterThan(8);
  });

  it('are never taken from a class at runtime, nor compared with a class\'s name', () => {
    for (const { file, text } of code) {
      expect(text, file).not.toMatch(/new\.target\.name/);
      expect(text, file).not.toMatch(/\.constructor\.name/);
      expect(text, file).not.toMatch(/\b[A-Z]\w*(Error|Busy|Exception)\.name\b/);
    }
  });
});
