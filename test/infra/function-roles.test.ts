/**
 * config/iam/functions.cjs is the one place a function's permissions are declared: every
 * function of serverless.yml has a row there and runs with the role generated from it, and
 * serverless.yml writes no function role (nor the managed policies they attach) by hand.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadServerlessConfig, parseCloudFormationYaml } from '../../local/serverless-config.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const require = createRequire(import.meta.url);
const table = require(path.join(ROOT, 'config/iam/functions.cjs')) as {
  functions: Record<string, Record<string, unknown>>;
  resources: () => { Resources: Record<string, { Type: string }> };
};
const { functionIamResources, roleLogicalId } = require(path.join(ROOT, 'config/iam/roles.cjs')) as {
  functionIamResources: (functions: Record<string, Record<string, unknown>>) => Record<string, unknown>;
  roleLogicalId: (functionName: string) => string;
};
const config = loadServerlessConfig({ file: path.join(ROOT, 'serverless.yml') });
const generated = table.resources().Resources;

describe('function roles generated from config/iam/functions.cjs', () => {
  it('has a row for every function of serverless.yml, and none for a function it does not have', () => {
    expect(Object.keys(table.functions).sort()).toEqual(config.functions.map((f) => f.name).sort());
  });

  it('runs every function with the role generated from its row', () => {
    for (const fn of config.functions) {
      expect(fn.role, fn.name).toBe(roleLogicalId(fn.name));
      expect(generated[roleLogicalId(fn.name)]?.Type, fn.name).toBe('AWS::IAM::Role');
      expect(config.resources.Resources[roleLogicalId(fn.name)]?.Type, fn.name).toBe('AWS::IAM::Role');
    }
  });

  it('leaves no function role or managed policy hand-written in serverless.yml', () => {
    const raw = parseCloudFormationYaml(readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8')) as { resources: unknown };
    const handWritten = Object.fromEntries(
      [raw.resources]
        .flat()
        .filter((block): block is { Resources: Record<string, { Type: string; Properties?: unknown }> } => typeof block === 'object' && block !== null)
        .flatMap((block) => Object.entries(block.Resources ?? {})),
    );
    expect(Object.keys(handWritten).length).toBeGreaterThan(0);
    for (const [id, resource] of Object.entries(handWritten)) {
      expect(generated[id], `${id} is both generated and hand-written`).toBeUndefined();
      expect(resource.Type, id).not.toBe('AWS::IAM::ManagedPolicy');
      if (resource.Type === 'AWS::IAM::Role') expect(JSON.stringify(resource.Properties), id).not.toContain('lambda.amazonaws.com');
    }
  });

  it('lets every function that leases slots wake a waiter: giving a slot back hands it to the first in line and wakes it', () => {
    const leasing = Object.entries(table.functions).filter(([, row]) => row.grantsTable === 'readWrite+slots');
    expect(leasing.map(([name]) => name)).toContain('beginRevocation');
    for (const [name, row] of leasing) expect(row.slotWaiters, name).toBe('wake');
  });

  it('refuses a word or a value it does not know, so a typo never drops a permission silently', () => {
    expect(() => functionIamResources({ f: { grantsTabel: 'read' } })).toThrow(/unknown capability "grantsTabel"/);
    expect(() => functionIamResources({ f: { grantsTable: 'write' } })).toThrow(/grantsTable has no "write"/);
  });
});
