/**
 * The ASL files validate, and they are what runs: the definitions local Step Functions
 * loads from serverless.yml are the files with only the DefinitionSubstitutions applied.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { STATE_MACHINE_SUBSTITUTIONS } from '../../lib/table/keys.ts';
import { loadStateMachinesFromServerless } from '../../local/stepfunctions/serverless.ts';
import { visitStates } from '../../local/stepfunctions/service.ts';

// asl-validator ships no type declarations.
const aslValidator = createRequire(import.meta.url)('asl-validator') as (definition: unknown) => { isValid: boolean; errors: unknown[] };
const ROOT = resolve(import.meta.dirname, '../..');
const files = { GrantStateMachine: 'statemachines/grant.asl.json', RevokeStateMachine: 'statemachines/revoke.asl.json' } as const;
const read = (path: string) => JSON.parse(readFileSync(resolve(ROOT, path), 'utf8')) as Record<string, unknown>;
const definitions = createRequire(import.meta.url)('../../statemachines/definitions.cjs') as { withoutSessionCut: (definition: unknown) => Record<string, unknown> };
/** What serverless.yml deploys by default (sessionRevocation off): the revoke workflow ends at the grant's final write. */
const deployed = (path: string) => (path.includes('revoke') ? definitions.withoutSessionCut(read(path)) : read(path));
/** Every definition a deploy parameter may choose. */
const variants = (path: string) => (path.includes('revoke') ? [read(path), deployed(path)] : [read(path)]);

describe('state machine definitions', () => {
  for (const [logicalId, path] of Object.entries(files)) {
    it(`${path} runs every Identity Center call with the Identity Center role (cross-account ready)`, () => {
      const tasks: string[] = [];
      visitStates(read(path) as { States?: Record<string, unknown> }, (name, state) => {
        const resource = (state as { Resource?: string }).Resource ?? '';
        if (/^arn:aws:states:::aws-sdk:(ssoadmin|identitystore):/.test(resource)) {
          tasks.push(name);
          expect((state as { Credentials?: unknown }).Credentials, name).toEqual({ RoleArn: '${IdentityCenterRoleArn}' });
        }
      });
      expect(tasks.length).toBeGreaterThan(2);
    });

    it(`${path} is valid ASL (in each variant a deploy parameter may choose)`, () => {
      for (const variant of variants(path)) {
        const { isValid, errors } = aslValidator(variant as never);
        expect(errors).toEqual([]);
        expect(isValid).toBe(true);
      }
    });

    it(`${path} is the definition serverless.yml deploys as ${logicalId}`, () => {
      const loaded = loadStateMachinesFromServerless(resolve(ROOT, 'serverless.yml'), {
        stage: 'dev',
        env: {},
        resolve: (id, attribute) => `resolved:${id}:${attribute ?? 'Ref'}`,
      }).find((m) => m.logicalId === logicalId);
      expect(loaded).toBeDefined();
      // The file with each `${Placeholder}` allowed to be any resolved value must match what runs.
      // The table layout's placeholders stand for fixed values; the others for resolved resources.
      const fileText = JSON.stringify(deployed(path)).replace(/\$\{([A-Za-z]+)\}/g, (whole, name: string) => STATE_MACHINE_SUBSTITUTIONS[name] ?? whole);
      const parts = fileText.split(/\$\{[A-Za-z]+\}/);
      expect(parts.length).toBeGreaterThan(1);
      const pattern = new RegExp(`^${parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('resolved:[A-Za-z]+:(?:Arn|Ref)')}$`);
      expect(JSON.stringify(loaded!.definition)).toMatch(pattern);
    });

    it(`${path}: every Identity Center and DynamoDB task retries throttling with backoff, cap and full jitter; the delete of an expired assignment at a pace that never grows`, () => {
      visitStates(read(path) as never, (name, state) => {
        const s = state as { Type?: string; Resource?: string; Retry?: Array<{ ErrorEquals: string[]; IntervalSeconds?: number; BackoffRate?: number; MaxDelaySeconds?: number; JitterStrategy?: string }> };
        if (s.Type !== 'Task') return;
        expect(s.Retry, name).toBeDefined();
        const throttling = s.Retry!.find((r) => r.ErrorEquals.some((e) => /Throttling|TooManyRequests|ProvisionedThroughput/.test(e)));
        expect(throttling, `${name} retries throttling`).toBeDefined();
        expect(throttling!.JitterStrategy, name).toBe('FULL');
        if (s.Resource === 'arn:aws:states:::aws-sdk:ssoadmin:deleteAccountAssignment') {
          // Every pause is drawn from 0–1 s: a throttled delete is not held back for seconds past the expiry.
          expect({ interval: throttling!.IntervalSeconds, rate: throttling!.BackoffRate, cap: throttling!.MaxDelaySeconds }, name).toEqual({ interval: 1, rate: 1, cap: 1 });
          expect(throttling!.ErrorEquals, name).not.toContain('SsoAdmin.ConflictException');
          return;
        }
        expect(throttling!.BackoffRate, name).toBeGreaterThan(1);
        expect(throttling!.MaxDelaySeconds, name).toBeDefined();
      });
    });
  }

  it('the revoke workflow enters CutSessions after FinishGrant only with sessionRevocation=scp; with off it ends at FinishGrant', () => {
    const finishGrant = (sessionRevocation: string) => {
      const revoke = loadStateMachinesFromServerless(resolve(ROOT, 'serverless.yml'), {
        stage: 'dev',
        env: {},
        params: { sessionRevocation },
        // The CloudFormation parameter takes the deploy parameter's value (its Default).
        resolve: (id, attribute) => (id === 'SessionRevocation' ? sessionRevocation : `resolved:${id}:${attribute ?? 'Ref'}`),
      }).find((m) => m.logicalId === 'RevokeStateMachine')!;
      return (revoke.definition as { States: Record<string, { Next?: string; End?: boolean; Type?: string; Catch?: Array<{ Next: string }> }> }).States;
    };
    const off = finishGrant('off');
    expect(off.FinishGrant!.End).toBe(true);
    expect(off.FinishGrant!.Next).toBeUndefined();
    // A repeat run's failed final write ends too; no session state is left to reach.
    expect(off.FinishGrant!.Catch!.map((c) => c.Next)).toEqual(['Ended']);
    expect(Object.keys(off)).not.toContain('CutSessions');
    expect(Object.keys(off)).not.toContain('RecordSessionsPending');
    const scp = finishGrant('scp');
    expect(scp.FinishGrant!.Next).toBe('CutSessions');
    expect(scp.CutSessions!.Type).toBe('Task');
  });
});
