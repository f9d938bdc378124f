/**
 * The state machines declared in serverless.yml (resources.Resources of type
 * AWS::StepFunctions::StateMachine), so the local cloud runs the very definitions
 * that deploy. serverless.yml is read by local/serverless-config.ts (the one reader
 * of that file: CloudFormation short tags, Serverless variables, `${file(...)}`);
 * this module only turns the resources into definitions, evaluating
 * DefinitionSubstitutions with the same intrinsic evaluator.
 */
import { loadServerlessConfig, resolveIntrinsics, type IntrinsicContext, type ServerlessConfig } from '../serverless-config.ts';
import type { LocalStepFunctions } from './service.ts';

/** (logicalId, attribute?) → value: `!Ref X` asks (X), `!GetAtt X.Arn` asks (X, 'Arn'). */
export type CfnResolver = (logicalId: string, attribute?: string) => string;

export interface LoadServerlessOptions {
  /** Overrides for Ref / GetAtt; without it, local/serverless-config.ts's local names apply. */
  resolve?: CfnResolver;
  stage?: string;
  region?: string;
  accountId?: string;
  env?: Record<string, string | undefined>;
  /** `${param:x}` values; serverless.yml's own `params:` (stage, then default) are used after these. */
  params?: Record<string, string>;
}

export interface LoadedStateMachine {
  logicalId: string;
  name: string;
  /** The ASL definition with DefinitionSubstitutions applied. */
  definition: Record<string, unknown>;
  roleArn?: string;
  type: 'STANDARD' | 'EXPRESS';
}

/** The state machines of an already loaded serverless.yml. */
export function stateMachinesOf(config: ServerlessConfig, context: Partial<IntrinsicContext> = {}): LoadedStateMachine[] {
  const evaluate = (value: unknown, where: string): string => {
    const out = resolveIntrinsics(value, config, context);
    if (typeof out !== 'string') throw new Error(`${where}: expected a string, got ${JSON.stringify(out)}`);
    return out;
  };
  const loaded: LoadedStateMachine[] = [];
  for (const [logicalId, resource] of Object.entries(config.resources.Resources)) {
    if (resource.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const properties = (resource.Properties ?? {}) as Record<string, unknown>;
    const where = `${config.file}: ${logicalId}`;

    const substitutions: Record<string, string> = {};
    for (const [key, value] of Object.entries((properties.DefinitionSubstitutions ?? {}) as Record<string, unknown>)) {
      substitutions[key] = evaluate(value, `${where} DefinitionSubstitutions.${key}`);
    }

    let definition: Record<string, unknown>;
    if (properties.Definition && typeof properties.Definition === 'object') {
      definition = substituteInValues(properties.Definition, substitutions) as Record<string, unknown>;
    } else if (properties.DefinitionString !== undefined) {
      definition = JSON.parse(substituteInJsonText(evaluate(properties.DefinitionString, `${where} DefinitionString`), substitutions)) as Record<string, unknown>;
    } else if (typeof properties.Definition === 'string') {
      definition = JSON.parse(substituteInJsonText(properties.Definition, substitutions)) as Record<string, unknown>;
    } else {
      throw new Error(`${where}: no Definition or DefinitionString (DefinitionS3Location is not supported locally)`);
    }
    const unresolved = JSON.stringify(definition).match(/\$\{[A-Za-z0-9_.:-]+\}/g);
    if (unresolved) throw new Error(`${where}: definition still holds ${[...new Set(unresolved)].join(', ')} (missing from DefinitionSubstitutions)`);

    let roleArn: string | undefined;
    if (properties.RoleArn !== undefined) {
      try {
        roleArn = evaluate(properties.RoleArn, `${where} RoleArn`);
      } catch {
        roleArn = undefined; // The local engine needs no role; an unresolvable one is not worth failing over.
      }
    }
    loaded.push({
      logicalId,
      name: properties.StateMachineName !== undefined ? evaluate(properties.StateMachineName, `${where} StateMachineName`) : logicalId,
      definition,
      ...(roleArn ? { roleArn } : {}),
      type: properties.StateMachineType === 'EXPRESS' ? 'EXPRESS' : 'STANDARD',
    });
  }
  return loaded;
}

/** Reads serverless.yml and returns its state machines; `resolve` (if given) answers Ref / GetAtt. */
export function loadStateMachinesFromServerless(serverlessYmlPath: string, resolverOrOptions: CfnResolver | LoadServerlessOptions = {}): LoadedStateMachine[] {
  const options: LoadServerlessOptions = typeof resolverOrOptions === 'function' ? { resolve: resolverOrOptions } : resolverOrOptions;
  const config = loadServerlessConfig({
    file: serverlessYmlPath,
    ...(options.stage ? { stage: options.stage } : {}),
    ...(options.region ? { region: options.region } : {}),
    ...(options.params ? { params: options.params } : {}),
    ...(options.env ? { env: options.env as NodeJS.ProcessEnv } : {}),
  });
  const resolve = options.resolve;
  return stateMachinesOf(config, {
    ...(options.accountId ? { accountId: options.accountId } : {}),
    // Pseudo parameters (AWS::Region, ...) keep their local values; the resolver answers resources.
    ...(resolve ? { ref: (id: string) => (id.startsWith('AWS::') ? undefined : resolve(id)), getAtt: (id: string, attribute: string) => resolve(id, attribute) } : {}),
  });
}

/** Registers (or replaces) each loaded state machine; returns logicalId → state machine ARN. */
export function registerStateMachines(sfn: LocalStepFunctions, machines: LoadedStateMachine[]): Record<string, string> {
  const arns: Record<string, string> = {};
  for (const m of machines) {
    arns[m.logicalId] = sfn.putStateMachine({ name: m.name, definition: m.definition, type: m.type, ...(m.roleArn ? { roleArn: m.roleArn } : {}) });
  }
  return arns;
}

function substituteInValues(value: unknown, substitutions: Record<string, string>): unknown {
  if (typeof value === 'string') return value.replace(/\$\{([^}]+)\}/g, (whole, key: string) => substitutions[key] ?? whole);
  if (Array.isArray(value)) return value.map((v) => substituteInValues(v, substitutions));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteInValues(v, substitutions)]));
  }
  return value;
}

/** CloudFormation substitutes textually; placeholders sit inside JSON strings, so values are JSON-escaped. */
function substituteInJsonText(text: string, substitutions: Record<string, string>): string {
  return text.replace(/\$\{([^}]+)\}/g, (whole, key: string) =>
    substitutions[key] !== undefined ? JSON.stringify(substitutions[key]).slice(1, -1) : whole,
  );
}
