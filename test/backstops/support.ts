/**
 * The backstop tests run on the whole local cloud (startLocalCloud: dynalite, the
 * Identity Center emulator, local Step Functions running statemachines/*.asl.json, the
 * local Scheduler), with the real DynamoStore and SDK clients pointed at it.
 */
import { writeFileSync, readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeleteScheduleCommand, GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  SSOAdminClient,
} from '@aws-sdk/client-sso-admin';
import { ulid } from 'ulid';
import { scheduleNames } from '../../lib/adapters/workflows.ts';
import { loadBackstopEnv, type BackstopEnv } from '../../lib/config.ts';
import { type BackstopLog, type Clock, systemClock } from '../../lib/ports/index.ts';
import { addDuration } from '../../lib/domain/duration.ts';
import type { Grant, GrantStatus, HistoryEntry, Target } from '../../lib/domain/grant.ts';
import { createRuntime, type Runtime } from '../../lib/composition/runtime.ts';
import { ROOT, startLocalCloud, type LocalCloud } from '../../local/cloud.ts';
import { setTestAwsEnv } from '../support/aws-env.ts';

export type TargetSpec = { account: string; permissionSet: string } | { group: string };

export const ENDED: readonly GrantStatus[] = ['EXPIRED', 'REVOKED', 'FAILED'];

/** Collects log lines instead of printing them. */
export function memoryLog(): BackstopLog & { lines: { level: string; message: string; fields?: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, ...(fields ? { fields } : {}) });
  return { lines, info: at('INFO'), warn: at('WARN'), error: at('ERROR') };
}

export interface BackstopCloud {
  cloud: LocalCloud;
  /** Runtime on the system clock (what the workflows' Lambdas use too). */
  runtime: Runtime;
  /** A runtime whose clock says `at` (sweeps "later"); same table and clients' endpoints. */
  runtimeAt(at: () => Date, env?: NodeJS.ProcessEnv): Runtime;
  /** A runtime reading another policy file (e.g. with reconcile.removeUnmanaged). */
  runtimeWithPolicy(policyText: string): Runtime;
  env(overrides?: Partial<BackstopEnv>): BackstopEnv;
  target(spec: TargetSpec): Target;
  /** Writes a grant as the service would have it, with history entries at the given times. */
  putGrant(userName: string, spec: TargetSpec, fields: Partial<Grant> & { status: GrantStatus }, history?: Omit<HistoryEntry, 'actor'>[]): Promise<Grant>;
  /** APPROVED → grant workflow → ACTIVE. */
  activate(userName: string, spec: TargetSpec, duration: string): Promise<Grant>;
  /** Sets expiresAt in the past, as if the clock had moved on (extension-like self-edge). */
  expireNow(grant: Grant, agoMs: number): Promise<Grant>;
  waitForStatus(grantId: string, statuses: readonly GrantStatus[], timeoutMs?: number): Promise<Grant>;
  hasAssignment(userName: string, account: string, permissionSet: string): boolean;
  isMember(userName: string, group: string): boolean;
  /** Deletes the grant's revocation schedule behind the system's back. */
  deleteRevocationSchedule(grantId: string): Promise<void>;
  revocationScheduleExists(grantId: string): Promise<boolean>;
  /** Deletes an assignment behind the system's back and waits until Identity Center is done. */
  deleteAssignmentBehindOurBack(userName: string, account: string, permissionSet: string): Promise<void>;
  /** Creates an assignment behind the system's back (an admin in the console) and waits until it exists. */
  createAssignmentBehindOurBack(userName: string, account: string, permissionSet: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startBackstopCloud(): Promise<BackstopCloud> {
  setTestAwsEnv();
  const cloud = await startLocalCloud({
    dataDir: false,
    port: 0,
    edgePort: 0,
    log: false,
    idcKnobs: { provisioningDelayMs: { minMs: 20, maxMs: 80 } },
    schedulerFiringDelayMs: () => 0,
    retryIntervalMs: 20,
  });
  const runtimeAt = (at: () => Date, env: NodeJS.ProcessEnv = process.env): Runtime => createRuntime(env, { clock: { now: at } satisfies Clock });
  const runtime = createRuntime(process.env, { clock: systemClock });
  const { idc } = cloud;
  const scheduler = new SchedulerClient({});
  const ssoAdmin = new SSOAdminClient({});
  const group = cloud.functionEnv.SCHEDULE_GROUP ?? 'identity-center-jit-local';
  const tmp = mkdtempSync(path.join(tmpdir(), 'backstops-'));

  const target = (spec: TargetSpec): Target =>
    'group' in spec
      ? { type: 'group', group: spec.group, groupId: idc.groupId(spec.group) }
      : { type: 'account', accountId: spec.account, permissionSet: spec.permissionSet, permissionSetArn: idc.permissionSetArn(spec.permissionSet) };

  const api: BackstopCloud = {
    cloud,
    runtime,
    runtimeAt,
    runtimeWithPolicy(policyText) {
      const file = path.join(tmp, `policy-${ulid()}.yaml`);
      writeFileSync(file, policyText);
      return createRuntime({ ...process.env, POLICY_PATH: file });
    },
    env: (overrides = {}) => ({ ...loadBackstopEnv({}), RECONCILE_QUOTA_SHARE: 1, ...overrides }),
    target,
    async putGrant(userName, spec, fields, history) {
      const user = idc.fixture.users.find((u) => u.userName === userName);
      if (!user) throw new Error(`no user ${userName} in the fixture`);
      const now = new Date().toISOString();
      const actor = { id: 'test', name: 'test' };
      const entries: HistoryEntry[] = (history ?? [{ at: now, action: 'requested', from: null, to: fields.status }]).map((h) => ({ ...h, actor }));
      const grant: Grant = {
        id: ulid(),
        principal: { userId: idc.userId(userName), userName, email: user.email },
        target: target(spec),
        justification: 'backstop test',
        ruleId: 'dev-readonly',
        requestedAt: entries[0]?.at ?? now,
        duration: 'PT1H',
        quorum: 0,
        approvals: [],
        history: entries,
        version: entries.length,
        ...fields,
      };
      await runtime.store.create(grant);
      return grant;
    },
    async activate(userName, spec, duration) {
      const now = new Date().toISOString();
      const grant = await api.putGrant(userName, spec, { status: 'APPROVED', duration, pendingExpiresAt: addDuration(now, 'PT1H') }, [
        { at: now, action: 'requested', from: null, to: 'PENDING_APPROVAL' },
        { at: now, action: 'auto-approved', from: 'PENDING_APPROVAL', to: 'APPROVED' },
      ]);
      await runtime.workflows.startGrant(grant);
      // The workflow writes ACTIVE, then creates the revocation schedule: wait for its end, not just the status.
      const execution = cloud.stepFunctions.listExecutionRecords().find((e) => e.name === `grant-${grant.id}`);
      if (execution) await cloud.stepFunctions.waitForExecution(execution.executionArn);
      const active = await api.waitForStatus(grant.id, ['ACTIVE', 'FAILED']);
      if (active.status !== 'ACTIVE') throw new Error(`grant ${grant.id} did not activate: ${active.failureReason}`);
      return active;
    },
    expireNow(grant, agoMs) {
      const expiresAt = new Date(Date.now() - agoMs).toISOString();
      return runtime.store.transition({ current: grant, to: 'ACTIVE', set: { expiresAt }, entry: { at: new Date().toISOString(), actor: { id: 'test', name: 'test' }, action: 'clock moved', detail: `expiresAt ${expiresAt}` } });
    },
    async waitForStatus(grantId, statuses, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const grant = await runtime.store.get(grantId);
        if (grant && statuses.includes(grant.status)) return grant;
        if (Date.now() > deadline) {
          const runs = cloud.stepFunctions.listExecutionRecords().filter((e) => e.name.includes(grantId));
          throw new Error(`grant ${grantId} is ${grant?.status}, expected ${statuses.join('/')}; executions: ${JSON.stringify(runs.map((e) => [e.name, e.status, e.error, e.cause]))}`);
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    hasAssignment: (userName, account, ps) =>
      idc.assignments().some((a) => a.principalId === idc.userId(userName) && a.accountId === account && a.permissionSetArn === idc.permissionSetArn(ps)),
    isMember: (userName, groupName) => idc.memberships().some((m) => m.userId === idc.userId(userName) && m.groupId === idc.groupId(groupName)),
    async deleteRevocationSchedule(grantId) {
      await scheduler.send(new DeleteScheduleCommand({ Name: scheduleNames.revocation(grantId), GroupName: group }));
    },
    async revocationScheduleExists(grantId) {
      try {
        await scheduler.send(new GetScheduleCommand({ Name: scheduleNames.revocation(grantId), GroupName: group }));
        return true;
      } catch {
        return false;
      }
    },
    async deleteAssignmentBehindOurBack(userName, account, ps) {
      const instanceArn = idc.fixture.instance.arn;
      const out = await ssoAdmin.send(
        new DeleteAccountAssignmentCommand({ InstanceArn: instanceArn, TargetId: account, TargetType: 'AWS_ACCOUNT', PermissionSetArn: idc.permissionSetArn(ps), PrincipalType: 'USER', PrincipalId: idc.userId(userName) }),
      );
      const requestId = out.AccountAssignmentDeletionStatus?.RequestId;
      for (;;) {
        const st = await ssoAdmin.send(new DescribeAccountAssignmentDeletionStatusCommand({ InstanceArn: instanceArn, AccountAssignmentDeletionRequestId: requestId }));
        if (st.AccountAssignmentDeletionStatus?.Status !== 'IN_PROGRESS') return;
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async createAssignmentBehindOurBack(userName, account, ps) {
      const instanceArn = idc.fixture.instance.arn;
      const out = await ssoAdmin.send(
        new CreateAccountAssignmentCommand({ InstanceArn: instanceArn, TargetId: account, TargetType: 'AWS_ACCOUNT', PermissionSetArn: idc.permissionSetArn(ps), PrincipalType: 'USER', PrincipalId: idc.userId(userName) }),
      );
      const requestId = out.AccountAssignmentCreationStatus?.RequestId;
      for (;;) {
        const st = await ssoAdmin.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn: instanceArn, AccountAssignmentCreationRequestId: requestId }));
        if (st.AccountAssignmentCreationStatus?.Status !== 'IN_PROGRESS') return;
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      scheduler.destroy();
      ssoAdmin.destroy();
      await cloud.stop();
    },
  };
  return api;
}

/** The local demo policy with a `reconcile` section appended. */
export function localPolicyWith(reconcileYaml: string): string {
  return `${readFileSync(path.join(ROOT, 'config/policy.local.yaml'), 'utf8')}\nreconcile:\n${reconcileYaml}\n`;
}
