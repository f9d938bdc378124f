/**
 * CloudFormation intrinsics evaluated with local values, as the deployed stack would
 * evaluate them: the functions' environment, state machine definitions, template secrets.
 */
import { LOCAL_ACCOUNT_ID } from '../protocol/aws.ts';
import { templateSecretArn } from '../secretsmanager.ts';
import { lambdaLogicalIdStem, type CloudFormationSection, type FunctionConfig, type ServerlessConfig } from './model.ts';
import { getPath } from './variables.ts';

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
      case 'AWS::S3::Bucket.Arn':
        return `arn:${partition}:s3:::${name}`;
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
    case 'AWS::S3::Bucket':
      // Generated bucket names are lower case.
      return props.BucketName !== undefined ? evaluate(props.BucketName) : generated.toLowerCase();
    case 'AWS::SecretsManager::Secret':
      // Ref is the secret's ARN; the local cloud creates the secret at this same ARN (local/cloud.ts).
      return templateSecretArn(props.Name !== undefined ? evaluate(props.Name) : generated, region, accountId, partition);
    default:
      return generated;
  }
}
