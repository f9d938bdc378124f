/**
 * The slice of the local cloud the workflow tests need, composed from the real
 * pieces: dynalite, the Identity Center emulator and the local Scheduler behind the
 * edge endpoint, and local Step Functions running the state machines that
 * serverless.yml declares (the very statemachines/*.asl.json files) with the
 * workflow task handlers registered under their deployed function names.
 * (local/cloud.ts will compose the same for `npm start`.)
 */
import { resolve } from 'node:path';
import { CreateScheduleGroupCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { ulid } from 'ulid';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { SLOT_COUNT } from '../../../lib/table/keys.ts';
import { ensureGrantsTable } from '../../../lib/adapters/table-schema.ts';
import { addDuration } from '../../../lib/domain/duration.ts';
import type { Grant, Target } from '../../../lib/domain/grant.ts';
import { createRuntime, setRuntime, type Runtime } from '../../../lib/composition/runtime.ts';
import { startDynamo } from '../../../local/dynamodb.ts';
import { startEdge, type Edge } from '../../../local/edge.ts';
import { createIdentityCenterEmulator, type IdentityCenterEmulator, type IdcKnobsInput } from '../../../local/idc/index.ts';
import { LocalScheduler } from '../../../local/scheduler/service.ts';
import { loadStateMachinesFromServerless, registerStateMachines } from '../../../local/stepfunctions/serverless.ts';
import { LocalStepFunctions, type ExecutionRecord } from '../../../local/stepfunctions/service.ts';
import { setTestAwsEnv } from '../../support/aws-env.ts';

export const ROOT = resolve(import.meta.dirname, '../../..');
const SERVICE = 'identity-center-jit';
const STAGE = 'wftest';
const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const functionName = (fn: string) => `${SERVICE}-${STAGE}-${fn}`;

/** Workflow task functions, by serverless.yml function key. */
export const WORKFLOW_FUNCTIONS = ['prepareActivation', 'completeActivation', 'beginRevocation'] as const;

export interface WorkflowCloud {
  runtime: Runtime;
  idc: IdentityCenterEmulator;
  sfn: LocalStepFunctions;
  scheduler: LocalScheduler;
  edge: Edge;
  grantMachineArn: string;
  revokeMachineArn: string;
  /** Writes an APPROVED grant (as the service does after approval) for `userName` on `target`. */
  approvedGrant(userName: string, target: TargetSpec, duration: string): Promise<Grant>;
  /** Polls the table until the grant reaches one of `statuses`. */
  waitForStatus(grantId: string, statuses: readonly string[], timeoutMs?: number): Promise<Grant>;
  executionsOf(grantId: string): ExecutionRecord[];
  /** Owners of the leased assignment-operation slots. */
  slotOwners(): Promise<string[]>;
  stop(): Promise<void>;
}

export type TargetSpec = { account: string; permissionSet: string } | { group: string };

export interface WorkflowCloudOptions {
  knobs?: IdcKnobsInput;
  /** Firing delay of the local Scheduler (ms); default 0. */
  schedulerFiringDelayMs?: () => number;
  /** Replaces every Retry pause of the definitions (ms), for suites that exercise long retry loops. */
  retryIntervalMs?: number;
}

export async function startWorkflowCloud(options: WorkflowCloudOptions = {}): Promise<WorkflowCloud> {
  setTestAwsEnv();
  const idc = createIdentityCenterEmulator({
    fixture: resolve(ROOT, 'local/org.example.yaml'),
    knobs: { provisioningDelayMs: { minMs: 50, maxMs: 300 }, ...options.knobs },
  });
  const dynamo = await startDynamo();
  let edgeUrl = '';
  const sfn = new LocalStepFunctions({ sdkEndpoint: () => edgeUrl, ...(options.retryIntervalMs !== undefined ? { retryIntervalMs: options.retryIntervalMs } : {}), log: process.env.WORKFLOW_TEST_LOG ? (l) => console.log(l) : () => undefined });
  const scheduler = new LocalScheduler({ sfnEndpoint: () => edgeUrl, firingDelayMs: options.schedulerFiringDelayMs ?? (() => 0), log: () => undefined });
  const edge = await startEdge({ port: 0, jsonServices: [...idc.services, sfn], restServices: [scheduler], dynamodb: dynamo, log: () => undefined });
  edgeUrl = edge.url;

  const tableName = `${SERVICE}-${STAGE}-grants-${Date.now()}`;
  const machines = loadStateMachinesFromServerless(resolve(ROOT, 'serverless.yml'), {
    stage: STAGE,
    region: REGION,
    accountId: ACCOUNT,
    env: {},
    // serverless.yml refuses to load without a policy file to package; the tests use the demo policy.
    params: { policyFile: 'config/policy.local.yaml' },
    resolve: (logicalId, attribute) => {
      const fn = /^(.+)LambdaFunction$/.exec(logicalId);
      if (fn && attribute === 'Arn') {
        const key = fn[1]!.charAt(0).toLowerCase() + fn[1]!.slice(1);
        return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${functionName(key)}`;
      }
      if (logicalId === 'GrantsTable' && !attribute) return tableName;
      return `arn:aws:iam::${ACCOUNT}:role/${logicalId}`;
    },
  });
  const arns = registerStateMachines(sfn, machines);
  const grantMachineArn = arns.GrantStateMachine!;
  const revokeMachineArn = arns.RevokeStateMachine!;

  const previousEndpoint = process.env.AWS_ENDPOINT_URL;
  process.env.AWS_ENDPOINT_URL = edge.url; // SDK clients read it when they are built
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GRANTS_TABLE: tableName,
    POLICY_PATH: resolve(ROOT, 'config/policy.local.yaml'),
    GRANT_STATE_MACHINE_ARN: grantMachineArn,
    REVOKE_STATE_MACHINE_ARN: revokeMachineArn,
    SCHEDULE_GROUP: `${SERVICE}-${STAGE}`,
    SCHEDULER_ROLE_ARN: `arn:aws:iam::${ACCOUNT}:role/${SERVICE}-${STAGE}-scheduler`,
    SCHEDULER_DLQ_ARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:${SERVICE}-${STAGE}-schedule-dlq`,
  };
  const runtime = createRuntime(env);
  setRuntime(runtime);
  await ensureGrantsTable(runtime.clients.dynamodb, tableName);
  const schedulerClient = new SchedulerClient({});
  await schedulerClient.send(new CreateScheduleGroupCommand({ Name: `${SERVICE}-${STAGE}` }));
  schedulerClient.destroy();
  await scheduler.start();

  // The handlers validate the runtime at module load: import them after setRuntime.
  for (const fn of WORKFLOW_FUNCTIONS) {
    const mod = (await import(`../../../functions/${fn}.ts`)) as { handler: (event: unknown) => Promise<unknown> };
    sfn.registerLambda(functionName(fn), (event) => mod.handler(event));
  }

  async function targetOf(spec: TargetSpec): Promise<Target> {
    if ('group' in spec) return { type: 'group', group: spec.group, groupId: idc.groupId(spec.group) };
    return { type: 'account', accountId: spec.account, permissionSet: spec.permissionSet, permissionSetArn: idc.permissionSetArn(spec.permissionSet) };
  }

  return {
    runtime,
    idc,
    sfn,
    scheduler,
    edge,
    grantMachineArn,
    revokeMachineArn,
    async approvedGrant(userName, spec, duration) {
      const user = idc.fixture.users.find((u) => u.userName === userName);
      if (!user) throw new Error(`no user ${userName} in the fixture`);
      const now = new Date().toISOString();
      const grant: Grant = {
        id: ulid(),
        principal: { userId: idc.userId(userName), userName, email: user.email },
        target: await targetOf(spec),
        justification: 'workflow test',
        ruleId: 'test',
        requestedAt: now,
        duration,
        status: 'APPROVED',
        quorum: 0,
        approvals: [],
        history: [
          { at: now, actor: { id: 'test', name: 'test' }, action: 'requested', from: null, to: 'PENDING_APPROVAL' },
          { at: now, actor: { id: 'test', name: 'test' }, action: 'auto-approved', from: 'PENDING_APPROVAL', to: 'APPROVED' },
        ],
        version: 1,
        pendingExpiresAt: addDuration(now, 'PT1H'),
      };
      await runtime.store.create(grant);
      return grant;
    },
    async waitForStatus(grantId, statuses, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const grant = await runtime.store.get(grantId);
        if (grant && statuses.includes(grant.status)) return grant;
        const failed = sfn.listExecutionRecords().filter((e) => e.name.includes(grantId) && e.status !== 'RUNNING' && e.status !== 'SUCCEEDED');
        if (Date.now() > deadline || failed.length > 0) {
          throw new Error(`grant ${grantId} is ${grant?.status}, expected ${statuses.join('/')}; failed executions: ${JSON.stringify(failed.map((e) => [e.name, e.error, e.cause]))}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async slotOwners() {
      const owners: string[] = [];
      for (let i = 0; i < SLOT_COUNT; i++) {
        const out = await runtime.clients.dynamodb.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: `SLOT#${i}` }, sk: { S: 'SLOT' } }, ConsistentRead: true }));
        if (out.Item?.owner?.S) owners.push(out.Item.owner.S);
      }
      return owners;
    },
    executionsOf(grantId) {
      return sfn.listExecutionRecords().filter((e) => e.name.includes(grantId));
    },
    async stop() {
      await scheduler.stop();
      await sfn.close();
      setRuntime(undefined);
      if (previousEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
      else process.env.AWS_ENDPOINT_URL = previousEndpoint;
      await edge.close();
      await dynamo.close();
    },
  };
}

/** State transitions and Lambda invocations of one execution, from its history (retries included). */
export function executionCost(record: ExecutionRecord): { transitions: number; lambdaInvocations: number } {
  let transitions = 0;
  let lambdaInvocations = 0;
  for (const e of record.history) {
    if (e.type.endsWith('StateEntered')) transitions++;
    if ((e.type === 'TaskSucceeded' || e.type === 'TaskFailed') && e.details?.value.resourceType === 'lambda') lambdaInvocations++;
  }
  return { transitions, lambdaInvocations };
}
