/**
 * A slice of the local cloud for API tests: dynalite + the Identity Center
 * emulator (seeded from the demo org) + Secrets Manager holding the cursor key
 * behind the edge endpoint, the runtime
 * built from env exactly as in Lambda, and the workflow clients mocked so tests
 * can assert which executions and schedules would start.
 */
import { SchedulerClient, type SchedulerClientResolvedConfig, type ServiceInputTypes as SchedulerIn, type ServiceOutputTypes as SchedulerOut } from '@aws-sdk/client-scheduler';
import { SFNClient, type SFNClientResolvedConfig, type ServiceInputTypes as SfnIn, type ServiceOutputTypes as SfnOut } from '@aws-sdk/client-sfn';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { resolve } from 'node:path';
import { StepFunctionsWorkflows } from '../../lib/adapters/workflows.ts';
import { ensureGrantsTable } from '../../lib/adapters/table-schema.ts';
import type { Clock } from '../../lib/ports/index.ts';
import { createRuntime, setRuntime, type Runtime } from '../../lib/composition/runtime.ts';
import { startDynamo } from '../../local/dynamodb.ts';
import { startEdge } from '../../local/edge.ts';
import { LocalSecretsManager, templateSecretArn } from '../../local/secretsmanager.ts';
import { createIdentityCenterEmulator, type IdentityCenterEmulator, type IdcKnobsInput } from '../../local/idc/index.ts';
import { setTestAwsEnv } from './aws-env.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
export const ORG_FIXTURE = resolve(ROOT, 'local/org.example.yaml');
export const LOCAL_POLICY = resolve(ROOT, 'config/policy.local.yaml');

export const GRANT_SM = 'arn:aws:states:us-east-1:000000000000:stateMachine:identity-center-jit-test-grant';
export const REVOKE_SM = 'arn:aws:states:us-east-1:000000000000:stateMachine:identity-center-jit-test-revoke';
/** The secret holding the key that signs pagination cursors (serverless.yml's CursorKeySecret). */
export const CURSOR_KEY_SECRET = templateSecretArn('identity-center-jit-test/cursor-key');

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
  const idc = createIdentityCenterEmulator({
    fixture: ORG_FIXTURE,
    knobs: { provisioningDelayMs: { minMs: 0, maxMs: 0 }, ...opts.knobs },
  });
  const dynamo = await startDynamo();
  const secretsManager = new LocalSecretsManager();
  secretsManager.createFromTemplate(CURSOR_KEY_SECRET, { GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true } });
  const edge = await startEdge({ port: 0, jsonServices: [...idc.services, secretsManager], dynamodb: dynamo, log: () => undefined });
  const tableName = `grants-${Date.now()}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ENDPOINT_URL: edge.url,
    GRANTS_TABLE: tableName,
    POLICY_PATH: opts.policyPath ?? LOCAL_POLICY,
    GRANT_STATE_MACHINE_ARN: GRANT_SM,
    REVOKE_STATE_MACHINE_ARN: REVOKE_SM,
    SCHEDULER_ROLE_ARN: 'arn:aws:iam::000000000000:role/scheduler',
    CURSOR_KEY_SECRET_ARN: CURSOR_KEY_SECRET,
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
  const previousEndpoint = process.env.AWS_ENDPOINT_URL;
  process.env.AWS_ENDPOINT_URL = edge.url; // SDK clients read it when they are built
  const runtime = createRuntime(env, { clock, workflows });
  await ensureGrantsTable(runtime.clients.dynamodb, tableName);
  setRuntime(runtime);
  return {
    runtime,
    idc,
    clock,
    sfn,
    scheduler,
    env,
    secretsManager,
    async stop() {
      setRuntime(undefined);
      if (previousEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
      else process.env.AWS_ENDPOINT_URL = previousEndpoint;
      await edge.close();
      await dynamo.close();
    },
  };
}
