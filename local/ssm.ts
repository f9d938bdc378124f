/**
 * A small SSM Parameter Store for the local cloud: where the Slack secrets live.
 * GetParameter / GetParameters / PutParameter, SecureString with WithDecryption.
 */
import { AwsError, LOCAL_ACCOUNT_ID, LOCAL_REGION, epochSeconds, requireString, type JsonService, type JsonServiceContext } from './protocol/aws.ts';

export type ParameterType = 'String' | 'StringList' | 'SecureString';

export interface ParameterSeed {
  value: string;
  type?: ParameterType;
}

interface StoredParameter {
  name: string;
  type: ParameterType;
  value: string;
  version: number;
  lastModified: number;
}

export interface LocalSsmOptions {
  /** name → value (a plain string seeds a SecureString, as secrets are the reason this exists). */
  seed?: Record<string, string | ParameterSeed>;
  now?: () => number;
}

export class LocalSsm implements JsonService {
  readonly targetPrefixes = ['AmazonSSM'];
  private readonly parameters = new Map<string, StoredParameter>();
  private readonly now: () => number;

  constructor(options: LocalSsmOptions = {}) {
    this.now = options.now ?? Date.now;
    for (const [name, seed] of Object.entries(options.seed ?? {})) {
      const { value, type } = typeof seed === 'string' ? { value: seed, type: 'SecureString' as const } : seed;
      this.parameters.set(name, { name, type: type ?? 'SecureString', value, version: 1, lastModified: this.now() });
    }
  }

  async handle(operation: string, input: Record<string, unknown>, ctx: JsonServiceContext): Promise<unknown> {
    switch (operation) {
      case 'GetParameter': {
        const parameter = this.parameters.get(requireString(input, 'Name'));
        if (!parameter) throw new AwsError('ParameterNotFound', '');
        return { Parameter: this.describe(parameter, input.WithDecryption === true, ctx) };
      }
      case 'GetParameters': {
        const names = input.Names;
        if (!Array.isArray(names) || names.length === 0 || names.length > 10 || names.some((n) => typeof n !== 'string' || n === '')) {
          throw new AwsError('ValidationException', 'Names must hold 1 to 10 parameter names');
        }
        const found: unknown[] = [];
        const invalid: string[] = [];
        for (const name of names as string[]) {
          const parameter = this.parameters.get(name);
          if (parameter) found.push(this.describe(parameter, input.WithDecryption === true, ctx));
          else invalid.push(name);
        }
        return { Parameters: found, InvalidParameters: invalid };
      }
      case 'PutParameter': {
        const name = requireString(input, 'Name');
        if (typeof input.Value !== 'string') throw new AwsError('ValidationException', 'Value is required');
        const existing = this.parameters.get(name);
        if (existing && input.Overwrite !== true) {
          throw new AwsError('ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
        }
        const type = (input.Type as ParameterType | undefined) ?? existing?.type ?? 'String';
        if (!['String', 'StringList', 'SecureString'].includes(type)) throw new AwsError('ValidationException', `Invalid Type ${type}`);
        const version = (existing?.version ?? 0) + 1;
        this.parameters.set(name, { name, type, value: input.Value, version, lastModified: this.now() });
        return { Version: version, Tier: 'Standard' };
      }
      default:
        throw new AwsError('UnknownOperationException', `Local SSM does not implement ${operation}`);
    }
  }

  private describe(parameter: StoredParameter, withDecryption: boolean, ctx: JsonServiceContext): Record<string, unknown> {
    // Without decryption SSM returns the KMS ciphertext, never the secret.
    const value =
      parameter.type === 'SecureString' && !withDecryption
        ? Buffer.from(`local-kms-ciphertext:${parameter.name}:${parameter.version}`).toString('base64')
        : parameter.value;
    const path = parameter.name.startsWith('/') ? parameter.name : `/${parameter.name}`;
    return {
      Name: parameter.name,
      Type: parameter.type,
      Value: value,
      Version: parameter.version,
      LastModifiedDate: epochSeconds(parameter.lastModified),
      ARN: `arn:aws:ssm:${ctx.region || LOCAL_REGION}:${ctx.accountId || LOCAL_ACCOUNT_ID}:parameter${path}`,
      DataType: 'text',
    };
  }
}
