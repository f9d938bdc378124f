/** The access policy: YAML schema and loader, the engine that evaluates it, and who may do what to a grant. */
export { parsePolicy, loadPolicyFile, loadPolicyFileSync, PolicyError, formatProblem, formatPath, type PolicyProblem } from './load.ts';
export {
  PolicyEngine,
  selectorMatches,
  type Caller,
  type RuleMatch,
  type EligibilityEntry,
  type ApprovalRequirement,
  type PolicyEngineOptions,
} from './engine.ts';
export { GrantAuthorization, type Action, type GrantAction, type ListAction, type Decision } from './authorization.ts';
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
