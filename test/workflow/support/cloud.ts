/**
 * The local cloud as the workflow tests need it, read at stage `wftest`: DynamoDB, the
 * Identity Center emulator and the local Scheduler behind the edge endpoint, and local
 * Step Functions running the state machines that serverless.yml declares (the very
 * statemachines/*.asl.json files). Of the functions only the workflow tasks run, in this
 * process, with the runtime the tests inspect.
 */
import { resolve } from 'node:path';
import { ulid } from 'ulid';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { SLOT_COUNT } from '../../../lib/table/keys.ts';
import { addDuration } from '../../../lib/domain/duration.ts';
import type { Grant, Target } from '../../../lib/domain/grant.ts';
import { createRuntime, setRuntime, type Runtime } from '../../../lib/composition/runtime.ts';
import { startLocalCloud, type LocalCloud } from '../../../local/cloud.ts';
import type { LambdaHandler } from '../../../local/gateway.ts';
import type { IdentityCenterEmulator, IdcKnobsInput } from '../../../local/idc/index.ts';
import type { LocalScheduler } from '../../../local/scheduler/service.ts';
import type { ExecutionRecord, LocalStepFunctions } from '../../../local/stepfunctions/service.ts';
import { setTestAwsEnv } from '../../support/aws-env.ts';

export const ROOT = resolve(import.meta.dirname, '../../..');
const STAGE = 'wftest';
/** The demo policy: what the tasks load, and the file serverless.yml packages (it refuses to load without one). */
const POLICY = resolve(ROOT, 'config/policy.local.yaml');

/** Workflow task functions, by serverless.yml function key. */
export const WORKFLOW_FUNCTIONS = ['prepareActivation', 'completeActivation', 'beginRevocation'] as const;

export interface WorkflowCloud {
  runtime: Runtime;
  idc: IdentityCenterEmulator;
  sfn: LocalStepFunctions;
  scheduler: LocalScheduler;
  edgeUrl: string;
  grantMachineArn: string;
  revokeMachineArn: string;
  /** Writes an APPROVED grant (as the service does after approval) for `userName` on `target`. */
  approvedGrant(userName: string, target: TargetSpec, duration: string): Promise<Grant>;
  /** Polls the table until the grant reaches one of `statuses`. */
  waitForStatus(grantId: string, statuses: readonly string[], timeoutMs?: number): Promise<Grant>;
  executionsOf(grantId: string): ExecutionRecord[];
  /** Owners of the leased assignment-operation slots. */
  slotOwners(): Promise<string[]>;
  /** Drops a share of DynamoDB requests without an answer (a timeout, as callers see it). */
  dynamoFaults: LocalCloud['dynamoFaults'];
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
  // The runtime gets this process's environment as it is before the local cloud adds the functions'.
  const processEnv = { ...process.env };
  // The handlers validate the runtime at module load: they are imported once it is set (below).
  const inProcess = (fn: string): LambdaHandler => async (event) => {
    const mod = (await import(`../../../functions/${fn}.ts`)) as { handler: (event: unknown) => Promise<unknown> };
    return mod.handler(event);
  };
  const cloud = await startLocalCloud({
    stage: STAGE,
    dataDir: false,
    port: 0,
    edgePort: 0,
    log: process.env.WORKFLOW_TEST_LOG ? (line) => console.log(line) : false,
    policyFile: POLICY,
    idcKnobs: { provisioningDelayMs: { minMs: 50, maxMs: 300 }, ...options.knobs },
    schedulerFiringDelayMs: options.schedulerFiringDelayMs ?? (() => 0),
    ...(options.retryIntervalMs !== undefined ? { retryIntervalMs: options.retryIntervalMs } : {}),
    functions: WORKFLOW_FUNCTIONS,
    handlers: Object.fromEntries(WORKFLOW_FUNCTIONS.map((fn) => [fn, inProcess(fn)])),
    slack: false,
  });
  const { idc, stepFunctions: sfn, scheduler, tableName } = cloud;
  const grantMachineArn = cloud.stateMachineArns.GrantStateMachine!;
  const revokeMachineArn = cloud.stateMachineArns.RevokeStateMachine!;

  // The local cloud set AWS_ENDPOINT_URL, which SDK clients read when they are built.
  const env: NodeJS.ProcessEnv = {
    ...processEnv,
    GRANTS_TABLE: tableName,
    POLICY_PATH: POLICY,
    GRANT_STATE_MACHINE_ARN: grantMachineArn,
    REVOKE_STATE_MACHINE_ARN: revokeMachineArn,
    SCHEDULE_GROUP: cloud.functionEnv.SCHEDULE_GROUP,
    SCHEDULER_ROLE_ARN: cloud.functionEnv.SCHEDULER_ROLE_ARN,
    SCHEDULER_DLQ_ARN: cloud.functionEnv.SCHEDULER_DLQ_ARN,
  };
  const runtime = createRuntime(env);
  setRuntime(runtime);
  for (const fn of WORKFLOW_FUNCTIONS) await import(`../../../functions/${fn}.ts`);

  async function targetOf(spec: TargetSpec): Promise<Target> {
    if ('group' in spec) return { type: 'group', group: spec.group, groupId: idc.groupId(spec.group) };
    return { type: 'account', accountId: spec.account, permissionSet: spec.permissionSet, permissionSetArn: idc.permissionSetArn(spec.permissionSet) };
  }

  return {
    dynamoFaults: cloud.dynamoFaults,
    runtime,
    idc,
    sfn,
    scheduler,
    edgeUrl: cloud.edgeUrl,
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
          // Where each of its executions stands: the last states entered.
          const whereabouts = sfn
            .listExecutionRecords()
            .filter((e) => e.name.includes(grantId))
            .map((e) => `${e.name} ${e.status} after ${e.history.slice(-6).map((h) => `${h.type} ${JSON.stringify(h.details ?? {}).slice(0, 160)}`).join(' → ')}`);
          throw new Error(
            `grant ${grantId} is ${grant?.status}, expected ${statuses.join('/')}; failed executions: ${JSON.stringify(failed.map((e) => [e.name, e.error, e.cause]))}; executions: ${whereabouts.join('; ')}`,
          );
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
      await cloud.stop();
      setRuntime(undefined);
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
