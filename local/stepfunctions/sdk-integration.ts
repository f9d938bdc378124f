/**
 * `arn:aws:states:::aws-sdk:<service>:<action>` Task states, run the way Step Functions
 * runs them: one call of the real AWS SDK v3 client for <service> (pointed at the local
 * edge), PascalCase parameters in, PascalCase output back, and errors renamed
 * `<ServiceName>.<ErrorName>Exception` so Retry/Catch match what AWS would raise.
 */
export interface SdkServiceInfo {
  /** npm package of the v3 client. */
  pkg: string;
  /** Exported client class. */
  client: string;
  /** Prefix of error names in Step Functions (PascalCase service name, e.g. `SsoAdmin`). */
  errorPrefix: string;
  /** The service's own member names are camelCase (Step Functions still speaks PascalCase). */
  camelCaseMembers?: boolean;
}

/**
 * Service names as they appear in the Resource ARN. Step Functions' error prefix is the
 * service name in PascalCase as AWS spells it, which cannot be derived from the lowercase
 * ARN form (`ssoadmin` → `SsoAdmin`, `dynamodb` → `DynamoDb`), hence the table.
 */
export const SDK_SERVICES: Record<string, SdkServiceInfo> = {
  ssoadmin: { pkg: '@aws-sdk/client-sso-admin', client: 'SSOAdminClient', errorPrefix: 'SsoAdmin' },
  identitystore: { pkg: '@aws-sdk/client-identitystore', client: 'IdentitystoreClient', errorPrefix: 'Identitystore' },
  dynamodb: { pkg: '@aws-sdk/client-dynamodb', client: 'DynamoDBClient', errorPrefix: 'DynamoDb' },
  scheduler: { pkg: '@aws-sdk/client-scheduler', client: 'SchedulerClient', errorPrefix: 'Scheduler' },
  sfn: { pkg: '@aws-sdk/client-sfn', client: 'SFNClient', errorPrefix: 'Sfn', camelCaseMembers: true },
  ssm: { pkg: '@aws-sdk/client-ssm', client: 'SSMClient', errorPrefix: 'Ssm' },
  organizations: { pkg: '@aws-sdk/client-organizations', client: 'OrganizationsClient', errorPrefix: 'Organizations' },
  sts: { pkg: '@aws-sdk/client-sts', client: 'STSClient', errorPrefix: 'Sts' },
};

export interface SdkTaskResource {
  service: string;
  action: string;
}

/** Parses `arn:aws:states:::aws-sdk:ssoadmin:createAccountAssignment`; undefined for other resources. */
export function parseSdkResource(resource: string): SdkTaskResource | undefined {
  const match = /^arn:aws[a-z-]*:states:::aws-sdk:([a-z0-9]+):([A-Za-z0-9]+)$/.exec(resource);
  if (!match) return undefined;
  return { service: match[1]!, action: match[2]! };
}

/** An error whose `name` is what Retry/Catch `ErrorEquals` compares against. */
export class TaskError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

interface SdkErrorShape {
  name?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $fault?: unknown;
}

/** `ThrottlingException` from sso-admin → `SsoAdmin.ThrottlingException`; the suffix is added when the service omits it. */
export function stepFunctionsErrorName(errorPrefix: string, sdkErrorName: string): string {
  const name = sdkErrorName.endsWith('Exception') ? sdkErrorName : `${sdkErrorName}Exception`;
  return `${errorPrefix}.${name}`;
}

export function toTaskError(info: SdkServiceInfo, error: unknown): TaskError {
  const e = (error ?? {}) as SdkErrorShape;
  const message = typeof e.message === 'string' ? e.message : String(error);
  if (e.$metadata && typeof e.name === 'string') {
    const status = e.$metadata.httpStatusCode ?? 400;
    return new TaskError(
      stepFunctionsErrorName(info.errorPrefix, e.name),
      `${message} (Service: ${info.errorPrefix}, Status Code: ${status}, Request ID: ${e.$metadata.requestId ?? 'local'})`,
    );
  }
  // Not an answer from the service (connection refused, bad parameters caught by the SDK):
  // Step Functions reports these as a generic task failure.
  return new TaskError('States.TaskFailed', message);
}

const upperFirst = (s: string) => (s === '' ? s : s[0]!.toUpperCase() + s.slice(1));
const lowerFirst = (s: string) => (s === '' ? s : s[0]!.toLowerCase() + s.slice(1));

function mapKeys(value: unknown, rename: (key: string) => string): unknown {
  if (Array.isArray(value)) return value.map((v) => mapKeys(v, rename));
  if (value instanceof Date || value instanceof Uint8Array) return value;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [rename(k), mapKeys(v, rename)]));
  }
  return value;
}

/** SDK output → what the Task state sees: no `$metadata`, dates as ISO strings, binary as base64. */
export function toStateOutput(info: SdkServiceInfo, output: Record<string, unknown>): unknown {
  const { $metadata: _metadata, ...rest } = output;
  const renamed = info.camelCaseMembers ? mapKeys(rest, upperFirst) : rest;
  return JSON.parse(
    JSON.stringify(renamed, (_key, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v)),
  );
}

export function toSdkInput(info: SdkServiceInfo, parameters: unknown): Record<string, unknown> {
  const input = (parameters && typeof parameters === 'object' && !Array.isArray(parameters) ? parameters : {}) as Record<string, unknown>;
  return (info.camelCaseMembers ? mapKeys(input, lowerFirst) : input) as Record<string, unknown>;
}

export interface SdkCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SdkClientConfig {
  endpoint: string;
  region: string;
  credentials: SdkCredentials;
}

/** The part of an SDK v3 client used here. */
interface AnyClient {
  send(command: unknown): Promise<unknown>;
  destroy(): void;
}
type CommandCtor = new (input: Record<string, unknown>) => unknown;

/** One client per (service, endpoint); commands are looked up by `<Action>Command`. */
export class SdkTaskInvoker {
  private readonly clients = new Map<string, AnyClient>();
  private readonly modules = new Map<string, Promise<Record<string, unknown>>>();

  constructor(private readonly config: () => SdkClientConfig) {}

  /** One task's call; `credentials` (the task's role) replace the default ones when given. */
  async invoke(resource: SdkTaskResource, parameters: unknown, credentials?: SdkCredentials): Promise<unknown> {
    const info = SDK_SERVICES[resource.service];
    if (!info) {
      throw new TaskError('States.Runtime', `The local cloud has no SDK mapping for service '${resource.service}' (add it to SDK_SERVICES)`);
    }
    const mod = await this.load(info.pkg);
    const commandName = `${upperFirst(resource.action)}Command`;
    const Command = mod[commandName] as CommandCtor | undefined;
    if (typeof Command !== 'function') {
      throw new TaskError('States.Runtime', `${info.pkg} has no ${commandName} (Resource aws-sdk:${resource.service}:${resource.action})`);
    }
    const client = this.client(info, mod, credentials);
    try {
      const output = (await client.send(new Command(toSdkInput(info, parameters)))) as Record<string, unknown>;
      return toStateOutput(info, output);
    } catch (error) {
      throw toTaskError(info, error);
    }
  }

  destroy(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }

  private load(pkg: string): Promise<Record<string, unknown>> {
    let mod = this.modules.get(pkg);
    if (!mod) {
      mod = import(pkg) as Promise<Record<string, unknown>>;
      this.modules.set(pkg, mod);
    }
    return mod;
  }

  private client(info: SdkServiceInfo, mod: Record<string, unknown>, credentials?: SdkCredentials): AnyClient {
    const config = { ...this.config(), ...(credentials ? { credentials } : {}) };
    const key = `${info.pkg} ${config.endpoint} ${config.region} ${config.credentials.accessKeyId}`;
    let client = this.clients.get(key);
    if (!client) {
      const ClientCtor = mod[info.client] as new (config: object) => AnyClient;
      // maxAttempts 1: Step Functions does not retry inside a task; the state's Retry does.
      client = new ClientCtor({ ...config, maxAttempts: 1 });
      this.clients.set(key, client);
    }
    return client;
  }
}
