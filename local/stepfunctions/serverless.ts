/**
 * Reads the state machines declared in serverless.yml (resources.Resources of type
 * AWS::StepFunctions::StateMachine) so the local cloud runs the very definitions that deploy.
 *
 * Handles the pieces such a file uses: CloudFormation short tags (!Ref, !GetAtt, !Sub, ...),
 * the Serverless variables `${file(...)}`, `${self:...}`, `${sls:stage}`, `${opt:stage}`,
 * `${env:...}`, `${aws:region|accountId}` (with `, 'default'` fallbacks), and
 * DefinitionSubstitutions whose values are intrinsics, evaluated through the caller's resolver.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { parse, type Tags } from 'yaml';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../aws-protocol.ts';
import type { LocalStepFunctions } from './service.ts';

/** (logicalId, attribute?) → value: `!Ref X` asks (X), `!GetAtt X.Arn` asks (X, 'Arn'). */
export type CfnResolver = (logicalId: string, attribute?: string) => string;

export interface LoadServerlessOptions {
  resolve: CfnResolver;
  stage?: string;
  region?: string;
  accountId?: string;
  env?: Record<string, string | undefined>;
  /** `${param:x}` values; serverless.yml's own `params:` (stage, then default) are used after these. */
  params?: Record<string, unknown>;
}

export interface LoadedStateMachine {
  logicalId: string;
  name: string;
  /** The ASL definition with DefinitionSubstitutions applied. */
  definition: Record<string, unknown>;
  roleArn?: string;
  type: 'STANDARD' | 'EXPRESS';
}

const FN_TAGS = ['GetAtt', 'Sub', 'Join', 'Select', 'Split', 'If', 'Equals', 'Not', 'And', 'Or', 'FindInMap', 'Base64', 'Cidr', 'GetAZs', 'ImportValue'];

/** CloudFormation short-form tags → the long form objects (`!Ref X` → `{ Ref: X }`). */
export const cloudFormationTags: Tags = [
  { tag: '!Ref', resolve: (v: string) => ({ Ref: v }) },
  { tag: '!Condition', resolve: (v: string) => ({ Condition: v }) },
  ...FN_TAGS.flatMap((fn) => [
    { tag: `!${fn}`, resolve: (v: string) => ({ [`Fn::${fn}`]: fn === 'GetAtt' ? splitOnce(v) : v }) },
    { tag: `!${fn}`, collection: 'seq' as const, resolve: (seq: { toJSON(): unknown }) => ({ [`Fn::${fn}`]: seq.toJSON() }) },
    { tag: `!${fn}`, collection: 'map' as const, resolve: (map: { toJSON(): unknown }) => ({ [`Fn::${fn}`]: map.toJSON() }) },
  ]),
];

function splitOnce(v: string): string[] {
  const dot = v.indexOf('.');
  return dot < 0 ? [v] : [v.slice(0, dot), v.slice(dot + 1)];
}

export function loadStateMachinesFromServerless(serverlessYmlPath: string, resolverOrOptions: CfnResolver | LoadServerlessOptions): LoadedStateMachine[] {
  const options: LoadServerlessOptions = typeof resolverOrOptions === 'function' ? { resolve: resolverOrOptions } : resolverOrOptions;
  const baseDir = dirname(resolvePath(serverlessYmlPath));
  const document = parse(readFileSync(serverlessYmlPath, 'utf8'), { customTags: cloudFormationTags }) as Record<string, any>;
  const variables = new ServerlessVariables(document, baseDir, options);
  const resources = (document?.resources?.Resources ?? {}) as Record<string, { Type?: string; Properties?: Record<string, unknown> }>;
  const intrinsics = new Intrinsics(options);

  const loaded: LoadedStateMachine[] = [];
  for (const [logicalId, rawResource] of Object.entries(resources)) {
    if (rawResource?.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const properties = variables.resolve(rawResource.Properties ?? {}, `resources.Resources.${logicalId}.Properties`) as Record<string, unknown>;
    const where = `${serverlessYmlPath}: ${logicalId}`;

    const substitutions: Record<string, string> = {};
    for (const [key, value] of Object.entries((properties.DefinitionSubstitutions ?? {}) as Record<string, unknown>)) {
      substitutions[key] = intrinsics.evaluate(value, `${where} DefinitionSubstitutions.${key}`);
    }

    let definition: Record<string, unknown>;
    if (properties.Definition && typeof properties.Definition === 'object') {
      definition = substituteInValues(properties.Definition, substitutions) as Record<string, unknown>;
    } else if (properties.DefinitionString !== undefined) {
      const text = intrinsics.evaluate(properties.DefinitionString, `${where} DefinitionString`);
      definition = JSON.parse(substituteInJsonText(text, substitutions)) as Record<string, unknown>;
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
        roleArn = intrinsics.evaluate(properties.RoleArn, `${where} RoleArn`);
      } catch {
        roleArn = undefined; // The local engine needs no role; an unresolvable one is not worth failing over.
      }
    }
    loaded.push({
      logicalId,
      name: properties.StateMachineName !== undefined ? intrinsics.evaluate(properties.StateMachineName, `${where} StateMachineName`) : logicalId,
      definition,
      ...(roleArn ? { roleArn } : {}),
      type: properties.StateMachineType === 'EXPRESS' ? 'EXPRESS' : 'STANDARD',
    });
  }
  return loaded;
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

class Intrinsics {
  constructor(private readonly options: LoadServerlessOptions) {}

  evaluate(value: unknown, where: string): string {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${where}: cannot evaluate ${JSON.stringify(value)}`);
    const [fn, arg] = Object.entries(value)[0] ?? [];
    switch (fn) {
      case 'Ref':
        return this.ref(String(arg), where);
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(arg) ? arg.map(String) : splitOnce(String(arg));
        return this.call(logicalId!, attribute, where);
      }
      case 'Fn::Sub': {
        const [template, vars] = Array.isArray(arg) ? [String(arg[0]), (arg[1] ?? {}) as Record<string, unknown>] : [String(arg), {}];
        return template.replace(/\$\{(!?)([^}]+)\}/g, (_whole, bang: string, name: string) => {
          if (bang) return `\${${name}}`;
          if (name in vars) return this.evaluate(vars[name], `${where} Fn::Sub ${name}`);
          if (name.includes('.') && !name.startsWith('AWS::')) {
            const [logicalId, attribute] = splitOnce(name);
            return this.call(logicalId!, attribute, where);
          }
          return this.ref(name, where);
        });
      }
      case 'Fn::Join': {
        const [separator, parts] = arg as [string, unknown[]];
        return parts.map((p) => this.evaluate(p, where)).join(separator);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        const items = Array.isArray(list) ? list : [];
        const item = items[Number(this.evaluate(index, where))];
        if (item === undefined) throw new Error(`${where}: Fn::Select index out of range`);
        return this.evaluate(item, where);
      }
      default:
        throw new Error(`${where}: intrinsic ${fn} is not supported by the local loader`);
    }
  }

  private ref(name: string, where: string): string {
    switch (name) {
      case 'AWS::Region':
        return this.options.region ?? LOCAL_REGION;
      case 'AWS::AccountId':
        return this.options.accountId ?? LOCAL_ACCOUNT_ID;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      default:
        return this.call(name, undefined, where);
    }
  }

  private call(logicalId: string, attribute: string | undefined, where: string): string {
    const result = this.options.resolve(logicalId, attribute);
    if (typeof result !== 'string') throw new Error(`${where}: resolver returned no value for ${logicalId}${attribute ? `.${attribute}` : ''}`);
    return result;
  }
}

/** The subset of Serverless Framework variables a state machine resource can use. */
class ServerlessVariables {
  private depth = 0;

  constructor(
    private readonly document: Record<string, any>,
    private readonly baseDir: string,
    private readonly options: LoadServerlessOptions,
  ) {}

  resolve(value: unknown, where: string): unknown {
    if (++this.depth > 50) throw new Error(`${where}: Serverless variables nest too deep (a cycle?)`);
    try {
      if (typeof value === 'string') return this.resolveString(value, where);
      if (Array.isArray(value)) return value.map((v, i) => this.resolve(v, `${where}[${i}]`));
      if (value && typeof value === 'object') {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.resolve(v, `${where}.${k}`)]));
      }
      return value;
    } finally {
      this.depth--;
    }
  }

  private resolveString(text: string, where: string): unknown {
    // Only `${source:...}` / `${file(...)}` are Serverless variables; a bare `${Name}` is a
    // DefinitionSubstitutions / Fn::Sub placeholder and is left alone. Innermost first,
    // so `${file(${param:policyFile})}` works.
    const whole = /^\$\{((?:self|sls|opt|env|aws|file|param)\b[^{}]*)\}$/;
    const inner = /\$\{((?:self|sls|opt|env|aws|file|param)\b[^{}]*)\}/g;
    let current = text;
    for (let round = 0; round < 20; round++) {
      const single = whole.exec(current);
      if (single) {
        const value = this.variable(single[1]!, where);
        if (typeof value !== 'string') return value;
        current = value;
        continue;
      }
      const next = current.replace(inner, (_m, expr: string) => {
        const v = this.variable(expr, where);
        if (v !== null && typeof v === 'object') throw new Error(`${where}: \${${expr}} is an object and cannot be part of a string`);
        return String(v);
      });
      if (next === current) return current;
      current = next;
    }
    throw new Error(`${where}: Serverless variables in '${text}' do not settle (a cycle?)`);
  }

  private variable(expression: string, where: string): unknown {
    // `${source:address, 'fallback'}` — split on the first top-level comma.
    const comma = expression.search(/,(?![^(]*\))/);
    const primary = (comma < 0 ? expression : expression.slice(0, comma)).trim();
    const fallbackText = comma < 0 ? undefined : expression.slice(comma + 1).trim();
    const value = this.source(primary, where);
    if (value !== undefined) return value;
    if (fallbackText !== undefined) {
      const quoted = /^(['"])(.*)\1$/.exec(fallbackText);
      if (quoted) return quoted[2];
      if (/^-?\d+(\.\d+)?$/.test(fallbackText)) return Number(fallbackText);
      if (/^(self|sls|opt|env|aws|file|param)\b/.test(fallbackText)) return this.variable(fallbackText, where);
      return fallbackText; // an inner variable already resolved to this literal

    }
    throw new Error(`${where}: cannot resolve Serverless variable \${${expression}}`);
  }

  private source(expr: string, where: string): unknown {
    const file = /^file\(([^)]+)\)(?::(.+))?$/.exec(expr);
    if (file) {
      const path = resolvePath(this.baseDir, file[1]!.trim().replace(/^['"]|['"]$/g, ''));
      const text = readFileSync(path, 'utf8');
      const loaded: unknown = /\.json$/i.test(path) ? JSON.parse(text) : parse(text, { customTags: cloudFormationTags });
      const picked = file[2] ? getPath(loaded, file[2]) : loaded;
      return this.resolve(picked, `${where} (${file[1]})`);
    }
    const [source, ...rest] = expr.split(':');
    const address = rest.join(':');
    switch (source) {
      case 'self':
        return this.resolve(getPath(this.document, address), `${where} (self:${address})`);
      case 'param': {
        const params = (this.document.params ?? {}) as Record<string, Record<string, unknown> | undefined>;
        const stage = this.options.stage ?? 'dev';
        return this.options.params?.[address] ?? params[stage]?.[address] ?? params.default?.[address];
      }
      case 'sls':
        if (address === 'stage') return this.options.stage ?? 'dev';
        if (address === 'instanceId') return 'local';
        return undefined;
      case 'opt':
        if (address === 'stage') return this.options.stage;
        if (address === 'region') return this.options.region;
        return undefined;
      case 'env':
        return (this.options.env ?? process.env)[address];
      case 'aws':
        if (address === 'region') return this.options.region ?? LOCAL_REGION;
        if (address === 'accountId') return this.options.accountId ?? LOCAL_ACCOUNT_ID;
        if (address === 'partition') return 'aws';
        return undefined;
      default:
        return undefined;
    }
  }
}

function getPath(root: unknown, path: string): unknown {
  if (path === '' || path === undefined) return root;
  let node: unknown = root;
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}
