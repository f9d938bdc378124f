/**
 * serverless.yml as the local cloud reads it, one module per concern under local/serverless/:
 *   yaml.ts        YAML with CloudFormation's short-form tags
 *   variables.ts   Serverless variables (`${self:}`, `${param:}`, `${file()}`, `${sls:}`, ...)
 *   model.ts       the model: functions, HTTP routes, authorizers, resources
 *   intrinsics.ts  CloudFormation intrinsics evaluated with local values
 */
export { cloudFormationTags, parseCloudFormationYaml } from './serverless/yaml.ts';
export {
  findFunction,
  lambdaLogicalIdStem,
  loadServerlessConfig,
  type CloudFormationSection,
  type FunctionConfig,
  type HandlerRef,
  type HttpRoute,
  type JwtAuthorizerConfig,
  type LoadOptions,
  type ServerlessConfig,
} from './serverless/model.ts';
export { resolveFunctionEnvironment, resolveIntrinsics, type IntrinsicContext } from './serverless/intrinsics.ts';
