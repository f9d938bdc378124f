/**
 * The composition root: config, SDK clients, adapters and the grant service,
 * built once per container. Environment and policy are validated here, so a
 * misconfigured function fails at init with a message, not on a request.
 * The endpoints come from the SDK's standard settings (AWS_ENDPOINT_URL*), which
 * is also how the local cloud is reached: there is no local branch here.
 *
 * What only some functions run is built beside this file, from this runtime, by
 * the function that runs it: the workflow tasks (workflow.ts), the sweeper and the
 * reconciler (backstops.ts), the Slack endpoints and notifier (slack.ts). A function
 * imports only the part it runs, so no bundle carries (or loads at cold start)
 * another function's code and packages, the Slack Web API client above all.
 *
 * Only DynamoDB and Identity Store clients are built here: every invocation
 * needs them. Step Functions, Scheduler, SSO Admin, Organizations (and STS for
 * an assumed role, Secrets Manager for the cursor key) are loaded and built on
 * their first call, so a function
 * that never calls them does not pay their module load at cold start
 * (lib/adapters/lazy-sdk.ts; bench/api.ts measures both).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { withSdkRetry } from '../adapters/aws-retry.ts';
import { cursorKeyLoader } from '../adapters/cursor-key.ts';
import { DynamoStore } from '../adapters/dynamo-store.ts';
import { createIdentityCenterClients, IdentityCenterDirectory, IdentityCenterWriter, type IdentityCenterClients, type IdentityCenterConfig } from '../adapters/identity-center.ts';
import { lazy, lazySdk } from '../adapters/lazy-sdk.ts';
import { IdentityCenterSessionAccess, IdentityCenterSessionTerms } from '../adapters/organizations-scp.ts';
import { StepFunctionsWorkflows } from '../adapters/workflows.ts';
import { loadConfig, requireSetting, type Config } from '../config.ts';
import { CursorCodec } from '../http/cursor.ts';
import { loadPolicyFileSync, PolicyEngine } from '../policy/index.ts';
import { systemClock, type Clock, type Directory, type GrantStore, type HolderStore, type Workflows } from '../ports/index.ts';
import { GrantService } from '../service/grants.ts';

/**
 * The container's object graph. Functions take the service they run from it (the
 * HTTP API: `service`, `cursors`); the builders beside this file take the adapters
 * and clients from it for the parts only some functions run.
 */
export interface Runtime {
  config: Config;
  clock: Clock;
  store: GrantStore & HolderStore;
  directory: Directory;
  /** Concrete: the reconciler's inventory (lib/adapters/access-inventory.ts) lists through its clients and instance. */
  identityCenter: IdentityCenterWriter;
  policy: PolicyEngine;
  workflows: Workflows;
  service: GrantService;
  /** The Identity Center reads of session revocation: a permission set's SessionDuration (cached), a group's assignments. */
  sessionAccess: IdentityCenterSessionAccess;
  /** Seals and opens the HTTP API's pagination cursors; the key is read from Secrets Manager on the first call (CURSOR_KEY_SECRET_ARN). */
  cursors: () => Promise<CursorCodec>;
  /** `sfn`, `scheduler`, `ssoAdmin` and `organizations` are providers: the client is built (and its package loaded) on the first call. */
  clients: { dynamodb: DynamoDBClient; sfn: () => Promise<SFNClient>; scheduler: () => Promise<SchedulerClient> } & IdentityCenterClients;
}

export interface RuntimeOverrides {
  clock?: Clock;
  workflows?: Workflows;
}

/** Placeholder ARNs keep read-only functions (list, get) free of workflow settings; starting a workflow without them fails loudly. */
const UNSET_ARN = 'arn:aws:states:unset';

export function createRuntime(env: NodeJS.ProcessEnv = process.env, overrides: RuntimeOverrides = {}): Runtime {
  const config = loadConfig(env);
  const clock = overrides.clock ?? systemClock;
  const policyDocument = loadPolicyFileSync(config.POLICY_PATH);

  const dynamodb = withSdkRetry((retry) => new DynamoDBClient(retry));
  const sfn = lazy(async () => {
    const { SFNClient } = await lazySdk.sfn();
    return withSdkRetry((retry) => new SFNClient(retry));
  });
  const scheduler = lazy(async () => {
    const { SchedulerClient } = await lazySdk.scheduler();
    return withSdkRetry((retry) => new SchedulerClient(retry));
  });
  const idcConfig: IdentityCenterConfig = {
    ...(config.IDC_INSTANCE_ARN ? { instanceArn: config.IDC_INSTANCE_ARN } : {}),
    ...(config.IDENTITY_STORE_ID ? { identityStoreId: config.IDENTITY_STORE_ID } : {}),
    ...(config.IDC_ROLE_ARN ? { assumeRole: { roleArn: config.IDC_ROLE_ARN, ...(config.IDC_EXTERNAL_ID ? { externalId: config.IDC_EXTERNAL_ID } : {}), sessionName: 'identity-center-jit' } } : {}),
  };
  const idcClients = createIdentityCenterClients(idcConfig);
  const idcOptions = { ...idcConfig, clients: idcClients, now: () => clock.now().getTime() };
  const directory = new IdentityCenterDirectory(idcOptions);
  const identityCenter = new IdentityCenterWriter(idcOptions);

  const store = new DynamoStore(dynamodb, { tableName: config.GRANTS_TABLE, retentionDays: config.CLOSED_GRANT_RETENTION_DAYS });
  const policy = new PolicyEngine(policyDocument, directory, { delegatedAdmin: config.DELEGATED_ADMIN, clock });
  const workflows =
    overrides.workflows ??
    new StepFunctionsWorkflows(sfn, scheduler, {
      grantStateMachineArn: config.GRANT_STATE_MACHINE_ARN ?? UNSET_ARN,
      revokeStateMachineArn: config.REVOKE_STATE_MACHINE_ARN ?? UNSET_ARN,
      scheduleGroup: config.SCHEDULE_GROUP,
      schedulerRoleArn: config.SCHEDULER_ROLE_ARN ?? 'arn:aws:iam::000000000000:role/unset',
      ...(config.SCHEDULER_DLQ_ARN ? { deadLetterQueueArn: config.SCHEDULER_DLQ_ARN } : {}),
      clock,
    });
  const sessionAccess = new IdentityCenterSessionAccess({
    ssoAdmin: idcClients.ssoAdmin,
    instanceArn: async () => (await identityCenter.instance()).instanceArn,
    managementAccountId: () => directory.managementAccountId(),
    now: () => clock.now().getTime(),
  });
  const service = new GrantService({
    store,
    directory,
    policy,
    workflows,
    clock,
    maxStartAheadMs: config.MAX_START_AHEAD_DAYS * 86_400_000,
    sessionTerms: new IdentityCenterSessionTerms(sessionAccess, config.SESSION_REVOCATION),
  });
  const cursors = lazy(async () => {
    const key = cursorKeyLoader(requireSetting(config, 'CURSOR_KEY_SECRET_ARN'));
    return new CursorCodec(await key(), { now: () => clock.now().getTime() });
  });
  return { config, clock, store, directory, identityCenter, policy, workflows, service, cursors, sessionAccess, clients: { dynamodb, sfn, scheduler, ...idcClients } };
}

let current: Runtime | undefined;

/** The container's runtime, built on first use (handlers call it at module load to fail fast). */
export function getRuntime(): Runtime {
  current ??= createRuntime();
  return current;
}

/** Replaces the container's runtime (local cloud, tests). */
export function setRuntime(runtime: Runtime | undefined): void {
  current = runtime;
}
