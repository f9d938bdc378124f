/**
 * serverless.yml as the local cloud sees it: the one source of truth for functions, HTTP
 * routes, JWT authorizers, environment and the CloudFormation resources (state machines,
 * table, secrets). The file is parsed with CloudFormation's short forms (yaml.ts), its
 * Serverless variables resolved (variables.ts); intrinsics stay in long form for
 * intrinsics.ts to evaluate with local values.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LOCAL_REGION } from '../protocol/aws.ts';
import { getPath, VariableResolver } from './variables.ts';
import { parseCloudFormationYaml } from './yaml.ts';

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

  const resources = mergeBlocks(document.resources) as Partial<CloudFormationSection>;
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

/** osls's logical id stem for a function name: first letter upper-cased, `-` → `Dash`, `_` → `Underscore`. */
export function lambdaLogicalIdStem(functionName: string): string {
  const normalized = functionName.replace(/-/g, 'Dash').replace(/_/g, 'Underscore');
  return normalized.charAt(0).toUpperCase() + normalized.slice(1);
}

/** `resources:` may be a list of blocks (the generated IAM roles and the rest): merged into one, as osls does. */
function mergeBlocks(value: unknown): Record<string, unknown> {
  const isMapping = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  const merge = (into: Record<string, unknown>, block: unknown): Record<string, unknown> => {
    if (!isMapping(block)) return into;
    for (const [key, v] of Object.entries(block)) into[key] = isMapping(into[key]) && isMapping(v) ? merge({ ...into[key] }, v) : v;
    return into;
  };
  return (Array.isArray(value) ? value : [value]).reduce<Record<string, unknown>>(merge, {});
}
