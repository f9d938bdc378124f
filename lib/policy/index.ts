/** The access policy: YAML schema and loader, and the engine that evaluates it. */
export { parsePolicy, loadPolicyFile, loadPolicyFileSync, PolicyError, formatProblem, formatPath, type PolicyProblem } from './load.ts';
export {
  PolicyEngine,
  selectorMatches,
  type Caller,
  type AccessRequest,
  type RuleMatch,
  type EligibilityEntry,
  type ApprovalRequirement,
  type PolicyEngineOptions,
} from './engine.ts';
export type {
  PolicyDocument,
  PolicyRule,
  Principals,
  DurationBounds,
  AccountSelector,
  RuleTargets,
  AccountRuleTargets,
  GroupRuleTargets,
  ApprovalPolicy,
} from './schema.ts';
