/**
 * The local cloud for API tests, read at stage `test`: DynamoDB, the Identity Center
 * emulator (seeded from the demo org, assignments settling at once) and Secrets Manager
 * holding the cursor key, behind the edge endpoint; the runtime built from env exactly
 * as in Lambda, and the workflow clients mocked so tests can assert which executions and
 * schedules would start.
 */
import { SchedulerClient, type SchedulerClientResolvedConfig, type ServiceInputTypes as SchedulerIn, type ServiceOutputTypes as SchedulerOut } from '@aws-sdk/client-scheduler';
import { SFNClient, type SFNClientResolvedConfig, type ServiceInputTypes as SfnIn, type ServiceOutputTypes as SfnOut } from '@aws-sdk/client-sfn';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { resolve } from 'node:path';
import { StepFunctionsWorkflows } from '../../lib/adapters/workflows.ts';
import { ensureGrantsTable } from '../../lib/adapters/table-schema.ts';
import type { Clock } from '../../lib/ports/index.ts';
import { createRuntime, setRuntime, type Runtime } from '../../lib/composition/runtime.ts';
import { startLocalCloud } from '../../local/cloud.ts';
import type { LocalSecretsManager } from '../../local/secretsmanager.ts';
import type { IdentityCenterEmulator, IdcKnobsInput } from '../../local/idc/index.ts';
import { setTestAwsEnv } from './aws-env.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
export const ORG_FIXTURE = resolve(ROOT, 'local/org.example.yaml');
export const LOCAL_POLICY = resolve(ROOT, 'config/policy.local.yaml');

/** The stage the API tests read serverless.yml with: it names the resources below. */
const STAGE = 'test';
export const GRANT_SM = 'arn:aws:states:us-east-1:000000000000:stateMachine:identity-center-jit-test-grant';
export const REVOKE_SM = 'arn:aws:states:us-east-1:000000000000:stateMachine:identity-center-jit-test-revoke';

export class TestClock implements Clock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export interface ApiTestCloud {
  runtime: Runtime;
  idc: IdentityCenterEmulator;
  clock: TestClock;
  sfn: AwsStub<SfnIn, SfnOut, SFNClientResolvedConfig>;
  scheduler: AwsStub<SchedulerIn, SchedulerOut, SchedulerClientResolvedConfig>;
  env: NodeJS.ProcessEnv;
  secretsManager: LocalSecretsManager;
  stop(): Promise<void>;
}

export async function startApiTestCloud(opts: { policyPath?: string; knobs?: IdcKnobsInput; env?: Record<string, string> } = {}): Promise<ApiTestCloud> {
  setTestAwsEnv();
  // The runtime gets this process's environment as it is before the local cloud adds the functions'.
  const processEnv = { ...process.env };
  const policyPath = opts.policyPath ?? LOCAL_POLICY;
  const cloud = await startLocalCloud({
    stage: STAGE,
    dataDir: false,
    port: 0,
    edgePort: 0,
    log: false,
    orgFixture: ORG_FIXTURE,
    policyFile: policyPath,
    idcKnobs: { provisioningDelayMs: { minMs: 0, maxMs: 0 }, ...opts.knobs },
    // The tests run the code in-process with the runtime below; no function runs in the cloud.
    functions: [],
    slack: false,
  });
  const env: NodeJS.ProcessEnv = {
    ...processEnv,
    AWS_ENDPOINT_URL: cloud.edgeUrl,
    GRANTS_TABLE: cloud.tableName,
    POLICY_PATH: policyPath,
    GRANT_STATE_MACHINE_ARN: GRANT_SM,
    REVOKE_STATE_MACHINE_ARN: REVOKE_SM,
    SCHEDULER_ROLE_ARN: 'arn:aws:iam::000000000000:role/scheduler',
    // serverless.yml's CursorKeySecret, generated at start as CloudFormation would.
    CURSOR_KEY_SECRET_ARN: cloud.functionEnv.CURSOR_KEY_SECRET_ARN,
    ...opts.env,
  };
  const clock = new TestClock();
  const sfnClient = new SFNClient({ region: 'us-east-1' });
  const schedulerClient = new SchedulerClient({ region: 'us-east-1' });
  const sfn = mockClient(sfnClient);
  const scheduler = mockClient(schedulerClient);
  sfn.onAnyCommand().resolves({});
  scheduler.onAnyCommand().resolves({});
  const workflows = new StepFunctionsWorkflows(sfnClient, schedulerClient, {
    grantStateMachineArn: GRANT_SM,
    revokeStateMachineArn: REVOKE_SM,
    scheduleGroup: 'identity-center-jit',
    schedulerRoleArn: 'arn:aws:iam::000000000000:role/scheduler',
    clock,
  });
  // The local cloud set AWS_ENDPOINT_URL, which SDK clients read when they are built.
  const runtime = createRuntime(env, { clock, workflows });
  // Through the runtime's own client, so its first call (credentials, connection) comes before
  // any test's: the race tests time their requests against each other.
  await ensureGrantsTable(runtime.clients.dynamodb, cloud.tableName);
  setRuntime(runtime);
  return {
    runtime,
    idc: cloud.idc,
    clock,
    sfn,
    scheduler,
    env,
    secretsManager: cloud.secretsManager,
    async stop() {
      setRuntime(undefined);
      await cloud.stop();
    },
  };
}
