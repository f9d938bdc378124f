/**
 * A small AWS Secrets Manager for the local cloud (awsJson1_1, X-Amz-Target `secretsmanager.*`):
 * where the deployment's generated secrets live (the key that signs pagination cursors).
 * CreateSecret, GetSecretValue and DescribeSecret, one version per secret (AWSCURRENT).
 *
 * As AWS: a secret's ARN is `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 random
 * characters>`; a request names a secret by that ARN, by its name, or by the ARN without the
 * suffix (a partial ARN); errors are ResourceNotFoundException / ResourceExistsException /
 * InvalidParameterException / InvalidRequestException with AWS's messages and HTTP 400.
 *
 * The local cloud creates the template's AWS::SecretsManager::Secret resources at start with
 * {@link LocalSecretsManager.createFromTemplate}, at the ARN `Ref` resolves to
 * ({@link templateSecretArn}), so the functions' environment and the secret agree.
 */
import { createHash, randomInt, randomUUID } from 'node:crypto';
import { AwsError, LOCAL_ACCOUNT_ID, LOCAL_REGION, epochSeconds, optionalString, type JsonService, type JsonServiceContext } from './protocol/aws.ts';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
const NOT_FOUND = "Secrets Manager can't find the specified secret.";
/** Secrets Manager's code for a member of the wrong type. */
const INVALID_PARAMETER = 'InvalidParameterException';

interface StoredSecret {
  arn: string;
  name: string;
  region: string;
  accountId: string;
  description?: string;
  createdDate: number;
  lastChangedDate: number;
  /** The AWSCURRENT version; absent for a secret created without a value. */
  version?: { id: string; secretString?: string; secretBinary?: string; createdDate: number };
}

/** `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix>` */
export function secretArn(name: string, suffix: string, region = LOCAL_REGION, accountId = LOCAL_ACCOUNT_ID, partition = 'aws'): string {
  return `arn:${partition}:secretsmanager:${region}:${accountId}:secret:${name}-${suffix}`;
}

/**
 * The ARN of a template's secret as `Ref` resolves it locally: AWS's suffix is random, this one
 * is derived from the name so the environment (evaluated from the template) and the secret the
 * local cloud creates agree without sharing state.
 */
export function templateSecretArn(name: string, region = LOCAL_REGION, accountId = LOCAL_ACCOUNT_ID, partition = 'aws'): string {
  const digest = createHash('sha256').update(name).digest();
  const suffix = [...digest.subarray(0, 6)].map((b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join('');
  return secretArn(name, suffix, region, accountId, partition);
}

/** CloudFormation's GenerateSecretString (the members this project may use), with crypto-random characters. */
export interface GenerateSecretString {
  PasswordLength?: number;
  ExcludeCharacters?: string;
  ExcludeLowercase?: boolean;
  ExcludeNumbers?: boolean;
  ExcludePunctuation?: boolean;
  ExcludeUppercase?: boolean;
  IncludeSpace?: boolean;
  RequireEachIncludedType?: boolean;
  SecretStringTemplate?: string;
  GenerateStringKey?: string;
}

export function generateSecretString(spec: GenerateSecretString = {}): string {
  const length = spec.PasswordLength ?? 32;
  if (!Number.isInteger(length) || length < 1 || length > 4096) throw new Error(`GenerateSecretString.PasswordLength ${length} is not within 1..4096`);
  const exclude = new Set(spec.ExcludeCharacters ?? '');
  const classes = [
    spec.ExcludeUppercase ? '' : ALPHANUMERIC.slice(0, 26),
    spec.ExcludeLowercase ? '' : ALPHANUMERIC.slice(26, 52),
    spec.ExcludeNumbers ? '' : ALPHANUMERIC.slice(52),
    spec.ExcludePunctuation ? '' : PUNCTUATION,
    spec.IncludeSpace ? ' ' : '',
  ]
    .map((chars) => [...chars].filter((c) => !exclude.has(c)).join(''))
    .filter((chars) => chars.length > 0);
  const all = classes.join('');
  if (all.length === 0) throw new Error('GenerateSecretString excludes every character');
  const chars = Array.from({ length }, () => all[randomInt(all.length)]!);
  if (spec.RequireEachIncludedType !== false && classes.length <= length) {
    // One of each included type, at distinct random positions.
    const positions = new Set<number>();
    while (positions.size < classes.length) positions.add(randomInt(length));
    [...positions].forEach((at, i) => (chars[at] = classes[i]![randomInt(classes[i]!.length)]!));
  }
  const password = chars.join('');
  if (spec.SecretStringTemplate === undefined) return password;
  const template = JSON.parse(spec.SecretStringTemplate) as Record<string, unknown>;
  return JSON.stringify({ ...template, [spec.GenerateStringKey ?? 'password']: password });
}

export interface LocalSecretsManagerOptions {
  now?: () => number;
}

export class LocalSecretsManager implements JsonService {
  readonly targetPrefixes = ['secretsmanager'];
  private readonly secrets = new Map<string, StoredSecret>();
  private readonly now: () => number;

  constructor(options: LocalSecretsManagerOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  /**
   * A template's AWS::SecretsManager::Secret as CloudFormation would create it: at `arn`, with
   * SecretString as given or generated from GenerateSecretString. Not an API operation.
   */
  createFromTemplate(arn: string, properties: { Name?: string; Description?: string; SecretString?: string; GenerateSecretString?: GenerateSecretString }): void {
    const parsed = parseArn(arn);
    if (!parsed) throw new Error(`${arn} is not a Secrets Manager secret ARN`);
    const value = properties.SecretString ?? generateSecretString(properties.GenerateSecretString);
    const at = this.now();
    this.secrets.set(arn, {
      arn,
      // Without a Name, CloudFormation generates one; the ARN carries it before the suffix.
      name: properties.Name ?? parsed.resource.replace(/-[A-Za-z0-9]{6}$/, ''),
      region: parsed.region,
      accountId: parsed.accountId,
      ...(properties.Description ? { description: properties.Description } : {}),
      createdDate: at,
      lastChangedDate: at,
      version: { id: randomUUID(), secretString: value, createdDate: at },
    });
  }

  /** The full ARN of the secret a SecretId names (ARN, partial ARN or name); undefined when there is none. IAM authorizes against it. */
  arnOf(secretId: string, region: string, accountId: string): string | undefined {
    return this.find(secretId, { region, accountId })?.arn;
  }

  async handle(operation: string, input: Record<string, unknown>, ctx: JsonServiceContext): Promise<unknown> {
    switch (operation) {
      case 'CreateSecret':
        return this.createSecret(input, ctx);
      case 'GetSecretValue': {
        const secret = this.mustFind(input.SecretId, ctx);
        const version = secret.version;
        const versionId = optionalString(input, 'VersionId', INVALID_PARAMETER);
        const stage = optionalString(input, 'VersionStage', INVALID_PARAMETER);
        if (versionId !== undefined && versionId !== version?.id) {
          throw new AwsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`);
        }
        if (!version || (stage !== undefined && stage !== 'AWSCURRENT')) {
          throw new AwsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for staging label: ${stage ?? 'AWSCURRENT'}`);
        }
        return {
          ARN: secret.arn,
          Name: secret.name,
          VersionId: version.id,
          ...(version.secretString !== undefined ? { SecretString: version.secretString } : { SecretBinary: version.secretBinary }),
          VersionStages: ['AWSCURRENT'],
          CreatedDate: epochSeconds(version.createdDate),
        };
      }
      case 'DescribeSecret': {
        const secret = this.mustFind(input.SecretId, ctx);
        return {
          ARN: secret.arn,
          Name: secret.name,
          ...(secret.description ? { Description: secret.description } : {}),
          LastChangedDate: epochSeconds(secret.lastChangedDate),
          CreatedDate: epochSeconds(secret.createdDate),
          ...(secret.version ? { VersionIdsToStages: { [secret.version.id]: ['AWSCURRENT'] } } : {}),
        };
      }
      default:
        throw new AwsError('UnknownOperationException', `Local Secrets Manager does not implement ${operation}`);
    }
  }

  private createSecret(input: Record<string, unknown>, ctx: JsonServiceContext): unknown {
    const name = input.Name;
    if (typeof name !== 'string' || name === '') throw new AwsError('InvalidParameterException', 'You must provide a name for the secret.');
    const secretString = optionalString(input, 'SecretString', INVALID_PARAMETER);
    const secretBinary = optionalString(input, 'SecretBinary', INVALID_PARAMETER);
    if (secretString !== undefined && secretBinary !== undefined) {
      throw new AwsError('InvalidParameterException', 'You can\'t specify both a binary secret value and a string secret value in the same secret.');
    }
    const token = optionalString(input, 'ClientRequestToken', INVALID_PARAMETER);
    if (token !== undefined && (token.length < 32 || token.length > 64)) throw new AwsError('InvalidParameterException', 'ClientRequestToken must be 32-64 characters long.');
    const existing = this.find(name, ctx, { byNameOnly: true });
    if (existing) {
      // A retry of the same request (same token, same value) is answered as the first one was.
      const v = existing.version;
      if (token !== undefined && v?.id === token && v.secretString === secretString && v.secretBinary === secretBinary) {
        return { ARN: existing.arn, Name: existing.name, VersionId: v.id };
      }
      throw new AwsError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
    }
    const suffix = Array.from({ length: 6 }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join('');
    const arn = secretArn(name, suffix, ctx.region || LOCAL_REGION, ctx.accountId || LOCAL_ACCOUNT_ID);
    const at = this.now();
    const hasValue = secretString !== undefined || secretBinary !== undefined;
    const description = optionalString(input, 'Description', INVALID_PARAMETER);
    const secret: StoredSecret = {
      arn,
      name,
      region: ctx.region || LOCAL_REGION,
      accountId: ctx.accountId || LOCAL_ACCOUNT_ID,
      ...(description ? { description } : {}),
      createdDate: at,
      lastChangedDate: at,
      ...(hasValue
        ? { version: { id: token ?? randomUUID(), createdDate: at, ...(secretString !== undefined ? { secretString } : { secretBinary: secretBinary! }) } }
        : {}),
    };
    this.secrets.set(arn, secret);
    return { ARN: arn, Name: name, ...(secret.version ? { VersionId: secret.version.id } : {}) };
  }

  private mustFind(secretId: unknown, ctx: JsonServiceContext): StoredSecret {
    if (typeof secretId !== 'string' || secretId === '') throw new AwsError('InvalidParameterException', 'You must provide a SecretId.');
    const secret = this.find(secretId, ctx);
    if (!secret) throw new AwsError('ResourceNotFoundException', NOT_FOUND);
    return secret;
  }

  /** By full ARN, by partial ARN (no suffix) or by name, in the caller's region and account. */
  private find(secretId: string, ctx: { region: string; accountId: string }, options: { byNameOnly?: boolean } = {}): StoredSecret | undefined {
    const inScope = (s: StoredSecret) => s.region === (ctx.region || LOCAL_REGION) && s.accountId === (ctx.accountId || LOCAL_ACCOUNT_ID);
    if (!options.byNameOnly) {
      const exact = this.secrets.get(secretId);
      if (exact) return exact;
      const parsed = secretId.startsWith('arn:') ? parseArn(secretId) : undefined;
      if (parsed) return [...this.secrets.values()].find((s) => s.region === parsed.region && s.accountId === parsed.accountId && s.name === parsed.resource);
      if (secretId.startsWith('arn:')) return undefined;
    }
    return [...this.secrets.values()].find((s) => inScope(s) && s.name === secretId);
  }
}

function parseArn(arn: string): { region: string; accountId: string; resource: string } | undefined {
  const m = /^arn:[\w-]+:secretsmanager:([a-z0-9-]+):(\d{12}):secret:(.+)$/.exec(arn);
  return m ? { region: m[1]!, accountId: m[2]!, resource: m[3]! } : undefined;
}
