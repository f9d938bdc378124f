/**
 * The packaged CloudFormation template (`.serverless/cloudformation-template-update-stack.json`,
 * written by `sls package`) read into the same model the local cloud builds from serverless.yml,
 * so the gateway, the state machines, the rules and the stream run from what would deploy:
 *  - functions from the AWS::Lambda::Function resources (handler, environment, timeout, role,
 *    artifact zip), routes and JWT authorizers from the AWS::ApiGatewayV2 resources;
 *  - rate rules from AWS::Events::Rule, the stream subscription from AWS::Lambda::EventSourceMapping;
 *  - state machines and roles straight from the template's resources (intrinsics evaluated
 *    by local/serverless-config.ts's evaluator, with the template's Parameters and Conditions).
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { PolicyDocument } from '../iam/policy.ts';
import { resolveIntrinsics, type CloudFormationSection, type FunctionConfig, type HttpRoute, type JwtAuthorizerConfig, type ServerlessConfig } from '../serverless-config.ts';

export const PACKAGED_TEMPLATE = 'cloudformation-template-update-stack.json';

type Resource = CloudFormationSection['Resources'][string];

export interface PackagedFunction extends FunctionConfig {
  logicalId: string;
  /** The function's zip in the package folder. */
  artifact: string;
  /** Logical id of its role (from `Role: !GetAtt X.Arn`). */
  roleLogicalId: string;
}

export interface PackagedRole {
  logicalId: string;
  arn: string;
  trustPolicy: PolicyDocument;
  /** Inline policies and the managed policies it lists (those of this template), intrinsics resolved. */
  policies: PolicyDocument[];
}

export interface PackagedConfig extends ServerlessConfig {
  functions: PackagedFunction[];
  /** Folder holding the template and the zips. */
  packageDir: string;
}

const str = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** A Ref/GetAtt target's logical id, for `{ Ref: X }` and `{ 'Fn::GetAtt': [X, attr] }`. */
function logicalIdOf(value: unknown): string | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.Ref === 'string') return v.Ref;
  const getAtt = v['Fn::GetAtt'];
  if (Array.isArray(getAtt)) return String(getAtt[0]);
  if (typeof getAtt === 'string') return getAtt.split('.')[0];
  return undefined;
}

/** Loads the packaged template; `service`, `stage` and `region` come from osls's serverless-state.json. */
export function loadPackagedConfig(packageDir: string): PackagedConfig {
  const templateFile = path.join(packageDir, PACKAGED_TEMPLATE);
  if (!existsSync(templateFile)) throw new Error(`${templateFile} is missing: run \`npm run package\` first`);
  const template = JSON.parse(readFileSync(templateFile, 'utf8')) as CloudFormationSection & { Mappings?: unknown };
  const state = JSON.parse(readFileSync(path.join(packageDir, 'serverless-state.json'), 'utf8')) as {
    service: { service: string; provider: { stage: string; region: string } };
  };
  const resources = template.Resources;

  const config: PackagedConfig = {
    file: templateFile,
    serviceDir: packageDir,
    packageDir,
    service: state.service.service,
    stage: state.service.provider.stage,
    region: state.service.provider.region,
    provider: {},
    custom: {},
    functions: [],
    httpRoutes: [],
    jwtAuthorizers: {},
    resources: template,
    document: template as unknown as Record<string, unknown>,
  };
  const evaluate = (value: unknown) => resolveIntrinsics(value, config);

  // Functions: osls names each `<Name>LambdaFunction` and its zip after the function's key.
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const props = (resource.Properties ?? {}) as Record<string, unknown>;
    const code = (props.Code ?? {}) as { S3Key?: string };
    const artifactName = path.basename(String(code.S3Key ?? ''));
    const name = artifactName.replace(/\.zip$/, '');
    if (!name) throw new Error(`${templateFile}: ${logicalId} has no Code.S3Key`);
    const handler = String(props.Handler);
    const dot = handler.lastIndexOf('.');
    const roleLogicalId = logicalIdOf(props.Role);
    if (!roleLogicalId) throw new Error(`${templateFile}: ${logicalId}.Role must reference a role of this template`);
    config.functions.push({
      name,
      logicalId,
      lambdaName: String(props.FunctionName ?? `${config.service}-${config.stage}-${name}`),
      handler: { reference: handler, file: handler.slice(0, dot), relativeFile: handler.slice(0, dot), exportName: handler.slice(dot + 1) },
      environment: ((props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}) as Record<string, unknown>,
      timeoutSeconds: Number(props.Timeout ?? 3),
      memorySize: Number(props.MemorySize ?? 128),
      role: props.Role,
      roleLogicalId,
      artifact: path.join(packageDir, artifactName),
      httpRoutes: [],
      events: [],
      raw: props,
    });
  }
  const functionByLogicalId = new Map(config.functions.map((f) => [f.logicalId, f]));
  const functionOf = (value: unknown, where: string): PackagedFunction => {
    const fn = functionByLogicalId.get(logicalIdOf(value) ?? '');
    if (!fn) throw new Error(`${templateFile}: ${where} does not name a function of this template`);
    return fn;
  };

  // HTTP API: route → integration → function; authorizer → JWT configuration.
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type === 'AWS::ApiGatewayV2::Authorizer') {
      const props = resource.Properties as { Name: string; AuthorizerType?: string; IdentitySource?: string[]; JwtConfiguration?: { Audience?: unknown; Issuer?: unknown } };
      if (props.AuthorizerType !== 'JWT') continue;
      const jwt = evaluate(props.JwtConfiguration ?? {}) as { Audience?: string[]; Issuer?: string };
      config.jwtAuthorizers[logicalId] = {
        name: props.Name,
        issuerUrl: String(jwt.Issuer ?? ''),
        audience: (jwt.Audience ?? []).map(String),
        identitySource: props.IdentitySource?.[0] ?? '$request.header.Authorization',
      } satisfies JwtAuthorizerConfig;
    }
    if (resource.Type === 'AWS::ApiGatewayV2::Api') {
      const cors = (resource.Properties as { CorsConfiguration?: Record<string, unknown> }).CorsConfiguration;
      if (cors) {
        config.cors = {
          allowedOrigins: cors.AllowOrigins,
          allowedHeaders: cors.AllowHeaders,
          allowedMethods: cors.AllowMethods,
          ...(cors.ExposeHeaders ? { exposedResponseHeaders: cors.ExposeHeaders } : {}),
          ...(cors.MaxAge !== undefined ? { maxAge: cors.MaxAge } : {}),
          ...(cors.AllowCredentials !== undefined ? { allowCredentials: cors.AllowCredentials } : {}),
        };
      }
    }
  }
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::ApiGatewayV2::Route') continue;
    const props = resource.Properties as { RouteKey: string; Target?: unknown; AuthorizationType?: string; AuthorizerId?: unknown; AuthorizationScopes?: string[] };
    const target = JSON.stringify(props.Target ?? '');
    const integrationId = /"Ref":"([^"]+)"/.exec(target)?.[1];
    const integration = integrationId ? resources[integrationId] : undefined;
    if (!integration) throw new Error(`${templateFile}: route ${logicalId} has no integration`);
    const fn = functionOf((integration.Properties as { IntegrationUri?: unknown }).IntegrationUri, `${integrationId}.IntegrationUri`);
    const [method, routePath] = props.RouteKey === '$default' ? ['*', '*'] : props.RouteKey.split(/\s+/);
    const authorizer = props.AuthorizationType === 'JWT' ? logicalIdOf(props.AuthorizerId) : undefined;
    const route: HttpRoute = {
      method: method === 'ANY' ? '*' : method!,
      path: routePath!,
      routeKey: props.RouteKey,
      functionName: fn.name,
      ...(authorizer ? { authorizer } : {}),
      ...(props.AuthorizationScopes ? { scopes: props.AuthorizationScopes } : {}),
    };
    fn.httpRoutes.push(route);
    config.httpRoutes.push(route);
  }

  // Rules and the stream subscription, in the shape serverless.yml's `events` would have.
  for (const resource of Object.values(resources)) {
    if (resource.Type === 'AWS::Events::Rule') {
      const props = resource.Properties as { ScheduleExpression?: string; State?: string; Targets?: Array<{ Arn: unknown }> };
      if (!props.ScheduleExpression || props.State === 'DISABLED') continue;
      for (const target of props.Targets ?? []) functionOf(target.Arn, 'an Events::Rule target').events.push({ schedule: props.ScheduleExpression });
    }
    if (resource.Type === 'AWS::Lambda::EventSourceMapping') {
      const props = resource.Properties as { FunctionName: unknown; EventSourceArn: unknown; Enabled?: boolean; BatchSize?: number; FilterCriteria?: { Filters?: Array<{ Pattern: string }> } };
      if (props.Enabled === false) continue;
      const filterPatterns = (props.FilterCriteria?.Filters ?? []).map((f) => JSON.parse(f.Pattern) as unknown);
      functionOf(props.FunctionName, 'an EventSourceMapping').events.push({
        stream: { type: 'dynamodb', arn: str(evaluate(props.EventSourceArn)), ...(props.BatchSize ? { batchSize: props.BatchSize } : {}), ...(filterPatterns.length ? { filterPatterns } : {}) },
      });
    }
  }
  return config;
}

/** Every role of the template with its trust policy and resolved identity policies (conditions applied). */
export function packagedRoles(config: PackagedConfig): PackagedRole[] {
  const resources = config.resources.Resources;
  const evaluate = (value: unknown) => resolveIntrinsics(value, config);
  const active = (resource: Resource) => resource.Condition === undefined || (evaluate({ Condition: resource.Condition }) as boolean);
  const roles: PackagedRole[] = [];
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::IAM::Role' || !active(resource)) continue;
    const props = (resource.Properties ?? {}) as { AssumeRolePolicyDocument?: unknown; Policies?: Array<{ PolicyDocument: unknown }>; ManagedPolicyArns?: unknown[] };
    const policies: PolicyDocument[] = (props.Policies ?? []).map((p) => evaluate(p.PolicyDocument) as PolicyDocument);
    for (const resolved of (evaluate(props.ManagedPolicyArns ?? []) as unknown[])) {
      // Managed policies of this template are evaluated; an AWS managed policy ARN is not known locally.
      const managed = findManagedPolicy(resources, String(resolved), config);
      if (!managed) throw new Error(`${config.file}: role ${logicalId} lists ${String(resolved)}, which the local cloud cannot evaluate (not a policy of this template)`);
      policies.push(evaluate((managed.Properties as { PolicyDocument: unknown }).PolicyDocument) as PolicyDocument);
    }
    for (const [, policy] of Object.entries(resources)) {
      // AWS::IAM::Policy resources attach to roles by name.
      if (policy.Type !== 'AWS::IAM::Policy' || !active(policy)) continue;
      const props2 = policy.Properties as { Roles?: unknown[]; PolicyDocument: unknown };
      if ((props2.Roles ?? []).some((r) => logicalIdOf(r) === logicalId)) policies.push(evaluate(props2.PolicyDocument) as PolicyDocument);
    }
    roles.push({
      logicalId,
      arn: String(evaluate({ 'Fn::GetAtt': [logicalId, 'Arn'] })),
      trustPolicy: evaluate(props.AssumeRolePolicyDocument ?? { Statement: [] }) as PolicyDocument,
      policies,
    });
  }
  return roles;
}

function findManagedPolicy(resources: CloudFormationSection['Resources'], arn: string, config: PackagedConfig): Resource | undefined {
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::IAM::ManagedPolicy') continue;
    if (resolveIntrinsics({ Ref: logicalId }, config) === arn) return resource;
  }
  return undefined;
}

/** CreateTable inputs for the template's DynamoDB tables, keys and indexes as they would deploy. */
export function tableDefinitions(config: PackagedConfig): CreateTableCommandInput[] {
  const definitions: CreateTableCommandInput[] = [];
  for (const resource of Object.values(config.resources.Resources)) {
    if (resource.Type !== 'AWS::DynamoDB::Table') continue;
    const props = resolveIntrinsics(resource.Properties ?? {}, config) as Record<string, unknown>;
    definitions.push({
      TableName: String(props.TableName),
      AttributeDefinitions: props.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
      KeySchema: props.KeySchema as CreateTableCommandInput['KeySchema'],
      BillingMode: (props.BillingMode as CreateTableCommandInput['BillingMode']) ?? 'PROVISIONED',
      ...(props.GlobalSecondaryIndexes ? { GlobalSecondaryIndexes: props.GlobalSecondaryIndexes as CreateTableCommandInput['GlobalSecondaryIndexes'] } : {}),
      ...(props.LocalSecondaryIndexes ? { LocalSecondaryIndexes: props.LocalSecondaryIndexes as CreateTableCommandInput['LocalSecondaryIndexes'] } : {}),
      ...(props.ProvisionedThroughput ? { ProvisionedThroughput: props.ProvisionedThroughput as CreateTableCommandInput['ProvisionedThroughput'] } : {}),
    });
  }
  return definitions;
}
