/**
 * Every port: the interfaces the domain, the policy, the service, the workflow
 * tasks, the backstops and the Slack code depend on, one file per area. Adapters
 * in lib/adapters implement them with the AWS SDK (and the Slack Web API); nothing
 * that depends on a port imports the SDK.
 */
export * from './grants.ts';
export * from './workflow.ts';
export * from './backstops.ts';
export * from './slack.ts';
export * from './portal.ts';
export * from './events.ts';
export * from './sessions.ts';
