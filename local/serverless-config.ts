/**
 * serverless.yml as the local cloud sees it: the one source of truth for functions,
 * HTTP routes, environment and the CloudFormation resources (state machines, table).
 *
 * Parses the file with the CloudFormation short-form tags turned into their long form
 * (`!Ref X` → `{ Ref: 'X' }`, `!Sub s` → `{ 'Fn::Sub': s }`), resolves the Serverless
 * variables this project uses (`${self:…}`, `${sls:stage}`, `${param:…}`, `${opt:…}`,
 * `${env:…}`, `${aws:region|accountId}`, `${file(…)}` with `, fallback`), and leaves
 * CloudFormation's own `${AWS::Region}` / `${Resource.Attr}` placeholders for
 * {@link resolveIntrinsics}, which evaluates the intrinsics with local values.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parse, type Tags, type YAMLMap, type YAMLSeq } from 'yaml';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './protocol/aws.ts';
import { templateSecretArn } from './secretsmanager.ts';

// ---------------------------------------------------------------------------
// YAML with CloudFormation short forms

const INTRINSIC_FUNCTIONS = [
  'Base64',
  'Cidr',
  'FindInMap',
  'GetAZs',
  'ImportValue',
  'Join',
  'Select',
  'Split',
  'Sub',
  'Transform',
  'And',
  'Equals',
  'If',
  'Not',
  'Or',
  'ToJsonString',
  'Length',
] as const;

function longForm(name: string, value: unknown): Record<string, unknown> {
  if (name === 'Ref' || name === 'Condition') return { [name]: value };
  if (name === 'GetAtt' && typeof value === 'string') {
    // `!GetAtt Resource.Attr.Nested` → ['Resource', 'Attr.Nested']
    const dot = value.indexOf('.');
    return { 'Fn::GetAtt': dot < 0 ? [value] : [value.slice(0, dot), value.slice(dot + 1)] };
  }
  return { [`Fn::${name}`]: value };
}

/** One tag definition per node kind (scalar, sequence, mapping) for every short form. */
export const cloudFormationTags: Tags = ['Ref', 'Condition', 'GetAtt', ...INTRINSIC_FUNCTIONS].flatMap((name) => [
  { tag: `!${name}`, resolve: (value: string) => longForm(name, value) },
  {
    tag: `!${name}`,
    collection: 'seq' as const,
    resolve: (seq: YAMLMap.Parsed | YAMLSeq.Parsed) => longForm(name, seq.toJSON()),
  },
  {
    tag: `!${name}`,
    collection: 'map' as const,
    resolve: (map: YAMLMap.Parsed | YAMLSeq.Parsed) => longForm(name, map.toJSON()),
  },
]);

/** Parses YAML text that may use CloudFormation short-form tags. */
export function parseCloudFormationYaml(text: string, fileName = 'serverless.yml'): unknown {
  try {
    return parse(text, { customTags: cloudFormationTags, merge: true, prettyErrors: true, maxAliasCount: -1 });
  } catch (err) {
    throw new Error(`${fileName}: ${(err as Error).message}`, { cause: err });
  }
}

// ---------------------------------------------------------------------------
// Serverless variables

export interface LoadOptions {
  /** Path to serverless.yml (default: `serverless.yml` in the working directory). */
  file?: string;
  /** `--stage` (default: provider.stage's fallback, i.e. `dev`). */
  stage?: string;
  region?: string;
  /** `--param` values; win over `params.<stage>` and `params.default`. */
  params?: Record<string, string>;
  /** Other CLI options for `${opt:…}`. */
  options?: Record<string, string>;
  /** Source of `${env:…}` (default process.env). */
  env?: NodeJS.ProcessEnv;
}

const VARIABLE_SOURCES = ['self', 'sls', 'param', 'opt', 'env', 'file', 'aws', 'strToBool'];
/** An innermost Serverless variable: a known source and no nested `${`. */
const INNERMOST_VARIABLE = new RegExp(`\\$\\{\\s*((?:${VARIABLE_SOURCES.join('|')})[:(][^\${}]*)\\}`);
const MISSING = Symbol('missing');

class VariableResolver {
  private readonly depth = new Set<string>();
  constructor(
    private readonly raw: Record<string, unknown>,
    private readonly dir: string,
    private readonly opts: { stage: string; region: string; params: Record<string, string>; options: Record<string, string>; env: NodeJS.ProcessEnv },
  ) {}

  resolve(value: unknown, at: string): unknown {
    if (typeof value === 'string') return this.resolveString(value, at);
    if (Array.isArray(value)) return value.map((v, i) => this.resolve(v, `${at}[${i}]`));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.resolve(v, at ? `${at}.${k}` : k)]));
    }
    return value;
  }

  private resolveString(text: string, at: string): unknown {
    let current: unknown = text;
    // Innermost first, so `${file(${param:policyFile})}` resolves the param, then the file.
    for (let guard = 0; typeof current === 'string' && guard < 100; guard++) {
      const match = INNERMOST_VARIABLE.exec(current);
      if (!match) return current;
      const whole = match[0] === current;
      const value = this.resolveVariable(match[1]!.trim(), at);
      if (value === MISSING) throw new Error(`serverless.yml: cannot resolve ${match[0]} at "${at}": value not found`);
      if (whole) return typeof value === 'string' ? value : this.resolve(value, at);
      if (value !== null && typeof value === 'object') {
        throw new Error(`serverless.yml: ${match[0]} at "${at}" is an object and cannot be part of a string`);
      }
      current = current.slice(0, match.index) + String(value) + current.slice(match.index + match[0].length);
    }
    return current;
  }

  /** `source:address` with an optional `, fallback` (quoted literal, number or another address). */
  private resolveVariable(expression: string, at: string): unknown {
    const [head, ...rest] = splitTopLevelComma(expression);
    const primary = this.lookup(head!.trim(), at);
    if (primary !== MISSING && primary !== undefined && primary !== null) return primary;
    if (rest.length === 0) return MISSING;
    const fallback = rest.join(',').trim();
    const quoted = /^(['"])(.*)\1$/s.exec(fallback);
    if (quoted) return quoted[2];
    if (/^-?\d+(\.\d+)?$/.test(fallback)) return Number(fallback);
    if (fallback === 'true' || fallback === 'false') return fallback === 'true';
    if (fallback === 'null') return null;
    return this.resolveVariable(fallback, at);
  }

  private lookup(reference: string, at: string): unknown {
    const fileMatch = /^file\(([^)]*)\)(?::(.*))?$/.exec(reference);
    if (fileMatch) return this.readFile(fileMatch[1]!.trim(), fileMatch[2]?.trim());
    const colon = reference.indexOf(':');
    if (colon < 0) return MISSING;
    const source = reference.slice(0, colon);
    const address = reference.slice(colon + 1);
    const { stage, region, params, options, env } = this.opts;
    switch (source) {
      case 'self': {
        const key = `self:${address}`;
        if (this.depth.has(key)) throw new Error(`serverless.yml: circular reference through \${${key}} at "${at}"`);
        this.depth.add(key);
        try {
          const found = getPath(this.raw, address);
          return found === undefined ? MISSING : this.resolve(found, address);
        } finally {
          this.depth.delete(key);
        }
      }
      case 'sls':
        if (address === 'stage') return stage;
        if (address === 'instanceId') return 'local';
        return MISSING;
      case 'aws':
        if (address === 'region') return region;
        if (address === 'accountId') return LOCAL_ACCOUNT_ID;
        return MISSING;
      case 'opt':
        if (address === 'stage') return options.stage ?? MISSING;
        if (address === 'region') return options.region ?? MISSING;
        return options[address] ?? MISSING;
      case 'env':
        return env[address] ?? MISSING;
      case 'param': {
        if (address in params) return params[address];
        const byStage = getPath(this.raw, `params.${stage}.${address}`);
        if (byStage !== undefined) return this.resolve(byStage, `params.${stage}.${address}`);
        const byDefault = getPath(this.raw, `params.default.${address}`);
        return byDefault === undefined ? MISSING : this.resolve(byDefault, `params.default.${address}`);
      }
      default:
        return MISSING;
    }
  }

  private readFile(relative: string, address: string | undefined): unknown {
    const file = path.resolve(this.dir, relative);
    if (!existsSync(file)) return MISSING;
    if (/\.c?js$/.test(file)) {
      // A JavaScript file's export (or what its exported function returns), as Serverless resolves it.
      const exported = createRequire(import.meta.url)(file) as unknown;
      const found = address ? getPath(exported, address) : exported;
      if (found === undefined) return MISSING;
      return typeof found === 'function' ? (found as () => unknown)() : found;
    }
    const text = readFileSync(file, 'utf8');
    const content = file.endsWith('.json') ? (JSON.parse(text) as unknown) : parseCloudFormationYaml(text, relative);
    if (!address) return content;
    const found = getPath(content, address);
    return found === undefined ? MISSING : found;
  }
}

function splitTopLevelComma(expression: string): string[] {
  const parts: string[] = [];
  let quote: string | undefined;
  let start = 0;
  let parens = 0;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '(') parens++;
    else if (c === ')') parens--;
    else if (c === ',' && parens === 0) {
      parts.push(expression.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(expression.slice(start));
  return parts;
}

function getPath(value: unknown, dotted: string): unknown {
  let current = value;
  for (const key of dotted.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

// ---------------------------------------------------------------------------
// The model

export interface HttpRoute {
  /** Upper-case method, or `*` for any. */
  method: string;
  /** Path template as in serverless.yml, e.g. `/grants/{id}/approve`; `*` is the catch-all route. */
  path: string;
  /** API Gateway's route key, e.g. `POST /grants/{id}/approve`, `$default`. */
  routeKey: string;
  functionName: string;
  /** Name of the `provider.httpApi.authorizers` entry guarding the route; absent = public. */
  authorizer?: string;
  /** Scopes the route requires (any one of them), when configured. */
  scopes?: string[];
}

export interface HandlerRef {
  /** As written in serverless.yml, e.g. `functions/createGrant.handler`. */
  reference: string;
  /** Absolute path of the source file (`.ts` preferred; the file need not exist yet). */
  file: string;
  /** Path relative to the service directory, e.g. `functions/createGrant.ts`. */
  relativeFile: string;
  exportName: string;
}

export interface FunctionConfig {
  /** Key under `functions:`, e.g. `createGrant`. */
  name: string;
  /** Deployed Lambda name: `<service>-<stage>-<name>` unless `name:` overrides it. */
  lambdaName: string;
  handler: HandlerRef;
  /** provider.environment merged with the function's own; values may be intrinsics (see resolveIntrinsics). */
  environment: Record<string, unknown>;
  timeoutSeconds: number;
  memorySize: number;
  /** Logical id of the function's IAM role (`role:`), when it names one. */
  role?: unknown;
  httpRoutes: HttpRoute[];
  /** The function's events with variables resolved. */
  events: Record<string, unknown>[];
  /** The function's whole resolved configuration. */
  raw: Record<string, unknown>;
}

export interface JwtAuthorizerConfig {
  name: string;
  issuerUrl: string;
  audience: string[];
  identitySource: string;
}

export interface CloudFormationSection {
  Parameters?: Record<string, Record<string, unknown>>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; Condition?: string; [key: string]: unknown }>;
  Outputs?: Record<string, unknown>;
}

export interface ServerlessConfig {
  file: string;
  /** Directory holding serverless.yml; handler paths are relative to it. */
  serviceDir: string;
  service: string;
  stage: string;
  region: string;
  provider: Record<string, unknown>;
  custom: Record<string, unknown>;
  functions: FunctionConfig[];
  httpRoutes: HttpRoute[];
  jwtAuthorizers: Record<string, JwtAuthorizerConfig>;
  /** provider.httpApi.cors as written (true, or an object), if any. */
  cors?: unknown;
  /** `resources:` with variables resolved and intrinsics left in long form. */
  resources: CloudFormationSection;
  /** The whole resolved document. */
  document: Record<string, unknown>;
}

const DEFAULT_TIMEOUT_SECONDS = 6; // the framework's default
const DEFAULT_MEMORY_MB = 1024;

export function loadServerlessConfig(options: LoadOptions = {}): ServerlessConfig {
  const file = path.resolve(options.file ?? 'serverless.yml');
  const serviceDir = path.dirname(file);
  const raw = parseCloudFormationYaml(readFileSync(file, 'utf8'), path.basename(file));
  if (!raw || typeof raw !== 'object') throw new Error(`${file}: not a YAML mapping`);
  const rawDoc = raw as Record<string, unknown>;

  const cliOptions: Record<string, string> = { ...options.options };
  if (options.stage) cliOptions.stage = options.stage;
  if (options.region) cliOptions.region = options.region;
  // Stage and region first (they feed everything else), then the whole document.
  const bootstrap = new VariableResolver(rawDoc, serviceDir, {
    stage: options.stage ?? 'dev',
    region: options.region ?? LOCAL_REGION,
    params: options.params ?? {},
    options: cliOptions,
    env: options.env ?? process.env,
  });
  const stage = String(bootstrap.resolve(getPath(rawDoc, 'provider.stage') ?? 'dev', 'provider.stage'));
  const region = String(bootstrap.resolve(getPath(rawDoc, 'provider.region') ?? LOCAL_REGION, 'provider.region'));
  const resolver = new VariableResolver(rawDoc, serviceDir, {
    stage,
    region,
    params: options.params ?? {},
    options: cliOptions,
    env: options.env ?? process.env,
  });
  const document = resolver.resolve(rawDoc, '') as Record<string, unknown>;

  const service = String(document.service);
  const provider = (document.provider ?? {}) as Record<string, unknown>;
  const httpApi = (provider.httpApi ?? {}) as Record<string, unknown>;
  const providerEnv = (provider.environment ?? {}) as Record<string, unknown>;

  const jwtAuthorizers: Record<string, JwtAuthorizerConfig> = {};
  for (const [name, value] of Object.entries((httpApi.authorizers ?? {}) as Record<string, Record<string, unknown>>)) {
    if (value.type !== undefined && String(value.type).toLowerCase() !== 'jwt') continue;
    const audience = value.audience;
    jwtAuthorizers[name] = {
      name,
      issuerUrl: String(value.issuerUrl),
      audience: (Array.isArray(audience) ? audience : [audience]).map(String),
      identitySource: String(value.identitySource ?? '$request.header.Authorization'),
    };
  }

  const functions: FunctionConfig[] = [];
  for (const [name, value] of Object.entries((document.functions ?? {}) as Record<string, Record<string, unknown>>)) {
    const events = ((value.events ?? []) as Record<string, unknown>[]).filter((e) => e && typeof e === 'object');
    const httpRoutes = events.flatMap((event) => (event.httpApi === undefined ? [] : [toHttpRoute(name, event.httpApi)]));
    functions.push({
      name,
      lambdaName: typeof value.name === 'string' ? value.name : `${service}-${stage}-${name}`,
      handler: handlerRef(serviceDir, String(value.handler)),
      environment: { ...providerEnv, ...((value.environment ?? {}) as Record<string, unknown>) },
      timeoutSeconds: Number(value.timeout ?? provider.timeout ?? DEFAULT_TIMEOUT_SECONDS),
      memorySize: Number(value.memorySize ?? provider.memorySize ?? DEFAULT_MEMORY_MB),
      ...(value.role !== undefined ? { role: value.role } : {}),
      httpRoutes,
      events,
      raw: value,
    });
  }

  const resources = (document.resources ?? {}) as Partial<CloudFormationSection>;
  return {
    file,
    serviceDir,
    service,
    stage,
    region,
    provider,
    custom: (document.custom ?? {}) as Record<string, unknown>,
    functions,
    httpRoutes: functions.flatMap((f) => f.httpRoutes),
    jwtAuthorizers,
    ...(httpApi.cors !== undefined ? { cors: httpApi.cors } : {}),
    resources: { ...resources, Resources: resources.Resources ?? {} },
    document,
  };
}

function toHttpRoute(functionName: string, event: unknown): HttpRoute {
  let method: string;
  let routePath: string;
  let authorizer: string | undefined;
  let scopes: string[] | undefined;
  if (typeof event === 'string') {
    // `httpApi: 'GET /path'` or `httpApi: '*'`
    const [m, p] = event.trim() === '*' ? ['*', '*'] : event.trim().split(/\s+/);
    method = m ?? '*';
    routePath = p ?? '*';
  } else {
    const e = (event ?? {}) as Record<string, unknown>;
    method = String(e.method ?? '*');
    routePath = String(e.path ?? '*');
    const auth = e.authorizer;
    if (typeof auth === 'string') authorizer = auth;
    else if (auth && typeof auth === 'object') {
      const a = auth as Record<string, unknown>;
      authorizer = String(a.name ?? a.id);
      if (Array.isArray(a.scopes)) scopes = a.scopes.map(String);
    }
  }
  method = method.toUpperCase() === 'ANY' ? '*' : method.toUpperCase();
  const routeKey = method === '*' && routePath === '*' ? '$default' : `${method === '*' ? 'ANY' : method} ${routePath}`;
  return {
    method,
    path: routePath,
    routeKey,
    functionName,
    ...(authorizer !== undefined ? { authorizer } : {}),
    ...(scopes ? { scopes } : {}),
  };
}

const SOURCE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs', '.cjs'];

function handlerRef(serviceDir: string, reference: string): HandlerRef {
  const dot = reference.lastIndexOf('.');
  if (dot < 0) throw new Error(`serverless.yml: handler "${reference}" must be <file>.<export>`);
  const base = reference.slice(0, dot);
  const exportName = reference.slice(dot + 1);
  const extension = SOURCE_EXTENSIONS.find((ext) => existsSync(path.join(serviceDir, base + ext))) ?? '.ts';
  const relativeFile = base + extension;
  return { reference, file: path.join(serviceDir, relativeFile), relativeFile, exportName };
}

export function findFunction(config: ServerlessConfig, name: string): FunctionConfig {
  const fn = config.functions.find((f) => f.name === name);
  if (!fn) throw new Error(`serverless.yml has no function "${name}"`);
  return fn;
}

// ---------------------------------------------------------------------------
// CloudFormation intrinsics, evaluated with local values

export interface IntrinsicContext {
  region: string;
  accountId: string;
  partition: string;
  stackName: string;
  /** `Ref` value of a logical id or parameter. Return undefined to fall back to the defaults. */
  ref?: (logicalId: string) => unknown;
  /** `Fn::GetAtt` value. Return undefined to fall back to the defaults. */
  getAtt?: (logicalId: string, attribute: string) => unknown;
  /** Parameter values overriding the template's defaults. */
  parameters?: Record<string, string>;
}

/**
 * Evaluates CloudFormation intrinsics (Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::If and the
 * condition functions, Fn::Select, Fn::Split, Fn::FindInMap, Fn::Base64, Fn::ToJsonString)
 * in `value` the way the deployed stack would, using local names: a table's Ref is its
 * TableName, a state machine's Ref its ARN built from StateMachineName, a secret's Ref its
 * ARN with a suffix derived from its Name, a function's `<Name>LambdaFunction` Ref its
 * Lambda name, and so on. `ctx.ref` / `ctx.getAtt` override.
 */
export function resolveIntrinsics(value: unknown, config: ServerlessConfig, context: Partial<IntrinsicContext> = {}): unknown {
  const ctx: IntrinsicContext = {
    region: config.region,
    accountId: LOCAL_ACCOUNT_ID,
    partition: 'aws',
    stackName: `${config.service}-${config.stage}`,
    ...context,
  };
  return new IntrinsicEvaluator(config, ctx).evaluate(value);
}

/** A function's environment with every intrinsic evaluated, as Lambda would see it. */
export function resolveFunctionEnvironment(
  config: ServerlessConfig,
  fn: FunctionConfig,
  context: Partial<IntrinsicContext> = {},
): Record<string, string> {
  const env = resolveIntrinsics(fn.environment, config, context) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

class IntrinsicEvaluator {
  constructor(
    private readonly config: ServerlessConfig,
    private readonly ctx: IntrinsicContext,
  ) {}

  evaluate(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.evaluate(v)).filter((v) => v !== NO_VALUE);
    if (!value || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    if (entries.length === 1) {
      const [key, arg] = entries[0]!;
      if (key === 'Ref' || key.startsWith('Fn::') || key === 'Condition') return this.intrinsic(key, arg);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const evaluated = this.evaluate(v);
      if (evaluated !== NO_VALUE) out[k] = evaluated;
    }
    return out;
  }

  private intrinsic(name: string, arg: unknown): unknown {
    const list = (v: unknown): unknown[] => {
      const evaluated = this.evaluate(v);
      if (!Array.isArray(evaluated)) throw new Error(`${name}: expected a list, got ${JSON.stringify(evaluated)}`);
      return evaluated;
    };
    switch (name) {
      case 'Ref':
        return this.ref(String(arg));
      case 'Condition':
        return this.condition(String(arg));
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(arg) ? arg.map(String) : String(arg).split(/\.(.*)/s);
        return this.getAtt(logicalId!, attribute ?? '');
      }
      case 'Fn::Sub':
        return this.sub(arg);
      case 'Fn::Join': {
        const [separator, items] = list(arg) as [string, unknown];
        return (this.evaluate(items) as unknown[]).join(separator);
      }
      case 'Fn::Select': {
        const [index, items] = list(arg) as [unknown, unknown];
        return (this.evaluate(items) as unknown[])[Number(index)];
      }
      case 'Fn::Split': {
        const [separator, text] = list(arg) as [string, string];
        return String(text).split(separator);
      }
      case 'Fn::If': {
        const [conditionName, whenTrue, whenFalse] = arg as [string, unknown, unknown];
        return this.condition(conditionName) ? this.evaluate(whenTrue) : this.evaluate(whenFalse);
      }
      case 'Fn::Equals': {
        const [a, b] = list(arg);
        return JSON.stringify(a) === JSON.stringify(b);
      }
      case 'Fn::Not':
        return !list(arg)[0];
      case 'Fn::And':
        return list(arg).every(Boolean);
      case 'Fn::Or':
        return list(arg).some(Boolean);
      case 'Fn::FindInMap': {
        const [map, top, second] = list(arg).map(String);
        const mappings = (this.config.resources as unknown as { Mappings?: Record<string, unknown> }).Mappings ?? {};
        return getPath(mappings, `${map}.${top}.${second}`);
      }
      case 'Fn::Base64':
        return Buffer.from(String(this.evaluate(arg))).toString('base64');
      case 'Fn::ToJsonString':
        return JSON.stringify(this.evaluate(arg));
      case 'Fn::ImportValue':
        throw new Error(`Fn::ImportValue ${JSON.stringify(arg)} has no local value`);
      default:
        throw new Error(`${name} is not supported locally`);
    }
  }

  private condition(name: string): boolean {
    const definition = this.config.resources.Conditions?.[name];
    if (definition === undefined) throw new Error(`unknown condition ${name}`);
    return Boolean(this.evaluate(definition));
  }

  private sub(arg: unknown): string {
    const [template, variables] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>?]) : [String(arg), undefined];
    const locals = variables ? (this.evaluate(variables) as Record<string, unknown>) : {};
    return template.replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
      if (name in locals) return String(locals[name]);
      const dot = name.indexOf('.');
      const value = dot > 0 && !name.startsWith('AWS::') ? this.getAtt(name.slice(0, dot), name.slice(dot + 1)) : this.ref(name);
      return String(value);
    }).replace(/\$\{!/g, '${');
  }

  private ref(logicalId: string): unknown {
    const overridden = this.ctx.ref?.(logicalId);
    if (overridden !== undefined) return overridden;
    switch (logicalId) {
      case 'AWS::Region':
        return this.ctx.region;
      case 'AWS::AccountId':
        return this.ctx.accountId;
      case 'AWS::Partition':
        return this.ctx.partition;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return this.ctx.stackName;
      case 'AWS::StackId':
        return `arn:${this.ctx.partition}:cloudformation:${this.ctx.region}:${this.ctx.accountId}:stack/${this.ctx.stackName}/local`;
      case 'AWS::NoValue':
        return NO_VALUE;
    }
    const parameter = this.config.resources.Parameters?.[logicalId];
    if (parameter) return this.ctx.parameters?.[logicalId] ?? parameter.Default ?? '';
    const lambda = this.lambdaFor(logicalId);
    if (lambda) return lambda.lambdaName;
    const logGroupOf = this.logGroupFor(logicalId);
    if (logGroupOf) return `/aws/lambda/${logGroupOf.lambdaName}`;
    const resource = this.config.resources.Resources[logicalId];
    if (!resource) throw new Error(`Ref ${logicalId}: no such parameter or resource in serverless.yml`);
    return defaultRef(resource, logicalId, this.ctx, this.config);
  }

  private getAtt(logicalId: string, attribute: string): unknown {
    const overridden = this.ctx.getAtt?.(logicalId, attribute);
    if (overridden !== undefined) return overridden;
    const { partition, region, accountId } = this.ctx;
    const lambda = this.lambdaFor(logicalId);
    if (lambda && attribute === 'Arn') return `arn:${partition}:lambda:${region}:${accountId}:function:${lambda.lambdaName}`;
    const logGroupOf = this.logGroupFor(logicalId);
    if (logGroupOf && attribute === 'Arn') return `arn:${partition}:logs:${region}:${accountId}:log-group:/aws/lambda/${logGroupOf.lambdaName}:*`;
    const resource = this.config.resources.Resources[logicalId];
    if (!resource) throw new Error(`Fn::GetAtt ${logicalId}.${attribute}: no such resource in serverless.yml`);
    const name = String(defaultRef(resource, logicalId, this.ctx, this.config));
    const props = (resource.Properties ?? {}) as Record<string, unknown>;
    switch (`${resource.Type}.${attribute}`) {
      case 'AWS::DynamoDB::Table.Arn':
        return `arn:${partition}:dynamodb:${region}:${accountId}:table/${name}`;
      case 'AWS::DynamoDB::Table.StreamArn':
        return `arn:${partition}:dynamodb:${region}:${accountId}:table/${name}/stream/local`;
      case 'AWS::StepFunctions::StateMachine.Arn':
        return name;
      case 'AWS::StepFunctions::StateMachine.Name':
        return name.split(':').pop();
      case 'AWS::SQS::Queue.Arn':
        return `arn:${partition}:sqs:${region}:${accountId}:${this.evaluate(props.QueueName ?? logicalId)}`;
      case 'AWS::SQS::Queue.QueueName':
        return String(this.evaluate(props.QueueName ?? logicalId));
      case 'AWS::IAM::Role.Arn':
        return `arn:${partition}:iam::${accountId}:role/${name}`;
      case 'AWS::Scheduler::ScheduleGroup.Arn':
        return `arn:${partition}:scheduler:${region}:${accountId}:schedule-group/${name}`;
      case 'AWS::Logs::LogGroup.Arn':
        return `arn:${partition}:logs:${region}:${accountId}:log-group:${name}:*`;
      case 'AWS::SNS::Topic.TopicArn':
        return name;
      default:
        throw new Error(`Fn::GetAtt ${logicalId}.${attribute} (${resource.Type}) has no local value; pass ctx.getAtt`);
    }
  }

  /** osls names each function's resource `<Name>LambdaFunction` (first letter upper-cased). */
  private lambdaFor(logicalId: string): FunctionConfig | undefined {
    if (!logicalId.endsWith('LambdaFunction')) return undefined;
    const stem = logicalId.slice(0, -'LambdaFunction'.length);
    return this.config.functions.find((f) => lambdaLogicalIdStem(f.name) === stem);
  }

  /** …and each function's log group `<Name>LogGroup`. */
  private logGroupFor(logicalId: string): FunctionConfig | undefined {
    if (!logicalId.endsWith('LogGroup') || this.config.resources.Resources[logicalId]) return undefined;
    const stem = logicalId.slice(0, -'LogGroup'.length);
    return this.config.functions.find((f) => lambdaLogicalIdStem(f.name) === stem);
  }
}

const NO_VALUE = Symbol('AWS::NoValue');

/** osls's logical id stem for a function name: first letter upper-cased, `-` → `Dash`, `_` → `Underscore`. */
export function lambdaLogicalIdStem(functionName: string): string {
  const normalized = functionName.replace(/-/g, 'Dash').replace(/_/g, 'Underscore');
  return normalized.charAt(0).toUpperCase() + normalized.slice(1);
}

function defaultRef(
  resource: CloudFormationSection['Resources'][string],
  logicalId: string,
  ctx: IntrinsicContext,
  config: ServerlessConfig,
): unknown {
  const props = (resource.Properties ?? {}) as Record<string, unknown>;
  const evaluate = (v: unknown) => String(new IntrinsicEvaluator(config, ctx).evaluate(v));
  // CloudFormation generates a name when none is given; locally, stack-logicalId is stable enough.
  const generated = `${ctx.stackName}-${logicalId}`;
  const { partition, region, accountId } = ctx;
  switch (resource.Type) {
    case 'AWS::DynamoDB::Table':
      return props.TableName !== undefined ? evaluate(props.TableName) : generated;
    case 'AWS::StepFunctions::StateMachine': {
      const name = props.StateMachineName !== undefined ? evaluate(props.StateMachineName) : generated;
      return `arn:${partition}:states:${region}:${accountId}:stateMachine:${name}`;
    }
    case 'AWS::SQS::Queue': {
      const name = props.QueueName !== undefined ? evaluate(props.QueueName) : generated;
      return `https://sqs.${region}.amazonaws.com/${accountId}/${name}`;
    }
    case 'AWS::IAM::Role':
      return props.RoleName !== undefined ? evaluate(props.RoleName) : generated;
    case 'AWS::IAM::ManagedPolicy':
      return `arn:${partition}:iam::${accountId}:policy/${props.ManagedPolicyName !== undefined ? evaluate(props.ManagedPolicyName) : generated}`;
    case 'AWS::Scheduler::ScheduleGroup':
      return props.Name !== undefined ? evaluate(props.Name) : generated;
    case 'AWS::Logs::LogGroup':
      return props.LogGroupName !== undefined ? evaluate(props.LogGroupName) : generated;
    case 'AWS::SNS::Topic':
      return `arn:${partition}:sns:${region}:${accountId}:${props.TopicName !== undefined ? evaluate(props.TopicName) : generated}`;
    case 'AWS::SSM::Parameter':
      return props.Name !== undefined ? evaluate(props.Name) : generated;
    case 'AWS::SecretsManager::Secret':
      // Ref is the secret's ARN; the local cloud creates the secret at this same ARN (local/cloud.ts).
      return templateSecretArn(props.Name !== undefined ? evaluate(props.Name) : generated, region, accountId, partition);
    default:
      return generated;
  }
}
