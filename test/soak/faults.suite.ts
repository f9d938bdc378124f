/**
 * Fault-injection soak on the local cloud: Identity Center answers some calls
 * with InternalServerException and fails some assignments, the Scheduler loses
 * some fires and delivers others twice, requesters revoke early and overlap
 * each other. After the sweeper has run, the invariants of docs/invariants.md hold:
 *   1. no access outlives its grant (nothing the system created is left),
 *   2. overlapping grants did not lose access early (checked while they ran),
 *   3. pre-existing access is still there,
 *   4. every grant is in a terminal status and its history is a chain of allowed edges.
 * Run from the sources and, as deployed, from the packaged artifacts with IAM enforced.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canTransition, isTerminal, type Grant } from '../../lib/domain/grant.ts';
import type { LocalCloud } from '../../local/cloud.ts';
import { slotKey } from '../../lib/table/keys.ts';
import { startFastLocalCloud } from '../support/local-cloud.ts';

export function faultInjectionSoak(mode: { packaged: boolean }): void {
  let cloud: LocalCloud;
  beforeAll(async () => {
    cloud = await startFastLocalCloud({
      packaged: mode.packaged,
      scheduledFunctions: false,
      // The sweeper is run by hand below, with no grace after expiry.
      functionEnv: { SWEEP_ACTIVE_GRACE_SECONDS: '0' },
      idcKnobs: {
        provisioningDelayMs: { minMs: 20, maxMs: 300 },
        faults: [
          { operations: ['CreateAccountAssignment'], rate: 0.1, effect: { type: 'fail' } },
          { rate: 0.05, effect: { type: 'error', code: 'InternalServerException' } },
        ],
      },
      schedulerFiringDelayMs: () => Math.floor(Math.random() * 3000),
      schedulerFaults: { loseRate: 0.3, duplicateDeliveryRate: 0.3 },
      retryIntervalMs: 20,
    });
  }, 120_000);
  afterAll(async () => cloud?.stop());

  const USERS = ['bob@example.com', 'carol@example.com'];
  const TARGETS = [
    { type: 'account', accountId: '444444444444', permissionSet: 'ReadOnlyAccess' }, // bob holds it permanently
    { type: 'account', accountId: '444444444444', permissionSet: 'PowerUserAccess' },
  ];
  const tokens: Record<string, string> = {};

  async function api(method: string, path: string, as: string, body?: unknown) {
    tokens[as] ??= await cloud.token(as);
    const res = await fetch(`${cloud.gatewayUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${tokens[as]}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Grant };
  }

  /** What a grant left unfinished waits on: its running executions' last states, and every slot and waiter. */
  async function diagnosis(open: Grant[]): Promise<string> {
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: cloud.dynamo.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }));
    const slots = await doc.send(new ScanCommand({ TableName: cloud.tableName, FilterExpression: 'begins_with(pk, :p)', ExpressionAttributeValues: { ':p': slotKey(0).pk.replace(/0$/, '') }, ConsistentRead: true }));
    const running = cloud.stepFunctions.listExecutionRecords().filter((e) => e.status === 'RUNNING' && open.some((g) => e.input.includes(g.id)));
    const executions = running.map((e) => ({
      name: e.name,
      grant: open.find((g) => e.input.includes(g.id))?.id,
      last: e.history.slice(-4).map((h) => `${new Date(h.timestamp).toISOString()} ${h.type} ${JSON.stringify(h.details?.value ?? {}).slice(0, 160)}`),
    }));
    return JSON.stringify({ now: new Date().toISOString(), slots: slots.Items, executions }, null, 1);
  }

  const systemCreatedAccess = () =>
    cloud.idc.assignments().filter((a) => !(a.accountId === '444444444444' && a.permissionSetArn === cloud.idc.permissionSetArn('ReadOnlyAccess') && a.principalId === cloud.idc.userId('bob')));

  describe(`fault-injection soak (${mode.packaged ? 'packaged, IAM enforced' : 'sources'})`, () => {
    it('keeps the invariants through lost and doubled fires, failures and errors', { timeout: 150_000 }, async () => {
      const grants: { id: string; as: string }[] = [];
      // Short grants (the revoke starts directly) and long ones (their schedule, 65 s ahead of the expiry, fires, or is lost / doubled).
      for (let i = 0; i < 24; i++) {
        const as = USERS[i % 2]!;
        const target = TARGETS[Math.floor(i / 2) % 2]!;
        const duration = i % 3 === 0 ? 'PT70S' : `PT${3 + (i % 5)}S`;
        const res = await api('POST', '/grants', as, { target, duration, justification: `soak ${i}` });
        expect(res.status).toBe(201);
        grants.push({ id: res.body.id, as });
      }
      // Some requesters end their access early.
      await new Promise((r) => setTimeout(r, 1500));
      for (const g of grants.filter((_, i) => i % 7 === 1)) await api('POST', `/grants/${g.id}/revoke`, g.as, { reason: 'done early' });

      // Invariant 3 during the run: bob's permanent ReadOnlyAccess never disappears.
      const permanent = () => cloud.idc.assignments().some((a) => a.accountId === '444444444444' && a.permissionSetArn === cloud.idc.permissionSetArn('ReadOnlyAccess') && a.principalId === cloud.idc.userId('bob'));
      const deadline = Date.now() + 110_000;
      let sweptAt = 0;
      for (;;) {
        expect(permanent()).toBe(true);
        const all = await Promise.all(grants.map((g) => api('GET', `/grants/${g.id}`, g.as)));
        // Invariant 2: while any ACTIVE grant holds an assignment, the assignment exists.
        for (const { body: g } of all) {
          if (g.status !== 'ACTIVE' || g.target.type !== 'account' || Date.parse(g.expiresAt!) < Date.now() + 500) continue;
          const t = g.target;
          expect(cloud.idc.assignments().some((a) => a.accountId === t.accountId && a.permissionSetArn === t.permissionSetArn && a.principalId === g.principal.userId), `access of ACTIVE grant ${g.id}`).toBe(true);
        }
        if (all.every(({ body }) => isTerminal(body.status))) break;
        // Lost fires: once everything is past expiry, the sweeper (grace 0) revokes what is left. It runs
        // again while anything is left, as its schedule does: a grant whose activation ended after a run
        // (its expiry fixed when it began, its fire lost) is found by the next.
        if (Date.now() - sweptAt > 5_000 && all.every(({ body }) => !body.expiresAt || Date.parse(body.expiresAt) < Date.now() - 2000)) {
          await cloud.invoke('sweepGrants', { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} });
          sweptAt = Date.now();
        }
        if (Date.now() > deadline) {
          const open = all.map(({ body }) => body).filter((g) => !isTerminal(g.status));
          throw new Error(`not all grants ended: ${JSON.stringify(open.map((g) => [g.id, g.status, g.expiresAt]))}\n${await diagnosis(open)}`);
        }
        await new Promise((r) => setTimeout(r, 500));
      }

      const ended = await Promise.all(grants.map(async (g) => (await api('GET', `/grants/${g.id}`, g.as)).body));
      for (const g of ended) {
        // Invariant 4: terminal, and the history is an unbroken chain of allowed edges.
        expect(isTerminal(g.status), `${g.id} ${g.status}`).toBe(true);
        let status: string | null = null;
        for (const h of g.history) {
          expect(h.from).toBe(status);
          if (h.from) expect(canTransition(h.from, h.to), `${h.from} → ${h.to}`).toBe(true);
          status = h.to;
        }
        expect(status).toBe(g.status);
        if (g.status === 'FAILED') expect(g.failureReason).toBeTruthy();
      }
      expect(ended.some((g) => g.status === 'EXPIRED')).toBe(true);
      // Invariant 1: nothing the system created is left; invariant 3: the permanent access is.
      expect(systemCreatedAccess()).toEqual([]);
      expect(permanent()).toBe(true);
    });
  });
}
