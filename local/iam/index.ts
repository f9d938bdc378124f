/** IAM enforcement for the local cloud: policy evaluation, the action table, AWS-shaped denials. */
export * from './policy.ts';
export * from './actions.ts';
export * from './access-denied.ts';
