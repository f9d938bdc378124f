/**
 * Session revocation (sessionRevocation=scp) end to end on the local cloud: grants over HTTP,
 * the real revoke workflow and CutSessions task, role sessions from the access portal
 * (client-sso GetRoleCredentials) checked with STS GetCallerIdentity (client-sts), the SCPs
 * read back with client-organizations. The limits (spill, 5 per target, the management account)
 * and the lift run the same service with the real adapters against the same local cloud.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AttachPolicyCommand, CreatePolicyCommand, DescribePolicyCommand, ListPoliciesForTargetCommand, ListTagsForResourceCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { GetRoleCredentialsCommand, SSOClient } from '@aws-sdk/client-sso';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { LocalCloud } from '../../local/cloud.ts';
import { DynamoStore } from '../../lib/adapters/dynamo-store.ts';
import { IdentityCenterSessionAccess, OrganizationsServiceControlPolicies, SCP_OWNER_TAG } from '../../lib/adapters/organizations-scp.ts';
import { DynamoSessionCutStore } from '../../lib/adapters/session-cut-store.ts';
import type { Grant } from '../../lib/domain/grant.ts';
import { SCP_MAX_CHARACTERS, type SessionCutEntry } from '../../lib/domain/session-cut.ts';
import type { BackstopLog } from '../../lib/ports/index.ts';
import { cutSessions, liftDueEntries, renderAccount, SESSION_CUT_ALERT, type SessionCutDeps } from '../../lib/workflow/session-cut.ts';
import { makeGrant } from '../support/grants.ts';
import { httpClient, startFastLocalCloud } from '../support/local-cloud.ts';

const DEV = '444444444444';
const PROD = '555555555555';
const PCI = '666666666666';
const MANAGEMENT = '111111111111';
const OWNER = 'identity-center-jit-local';

let cloud: LocalCloud;
const api = httpClient(() => cloud);
const clients: Array<{ destroy(): void }> = [];
const made = <C extends { destroy(): void }>(c: C) => (clients.push(c), c);
let orgs: OrganizationsClient;

beforeAll(async () => {
  cloud = await startFastLocalCloud({ sessionRevocation: 'scp', idcKnobs: { provisioningDelayMs: { minMs: 50, maxMs: 150 }, scpPropagationSeconds: 1 } });
  orgs = made(new OrganizationsClient({ endpoint: cloud.edgeUrl }));
}, 120_000);
afterAll(async () => {
  for (const c of clients) c.destroy();
  await cloud?.stop();
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const grantAs = (id: string, as: string) => api('GET', `/grants/${id}`, as).then((r) => r.body as Grant & { history: Array<{ action: string; detail?: string }> });
const waitForStatus = (id: string, as: string, wanted: string[]) =>
  waitFor(`grant ${id} to be ${wanted.join('|')}`, async () => {
    const g = await grantAs(id, as);
    return wanted.includes(g.status) ? g : undefined;
  });

async function activeGrant(as: string, accountId: string, permissionSet: string, duration: string): Promise<Grant> {
  const created = await api('POST', '/grants', as, { target: { type: 'account', accountId, permissionSet }, duration, justification: 'session revocation test' });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const active = await waitForStatus(created.body.id, as, ['ACTIVE', 'FAILED']);
  expect(active.status).toBe('ACTIVE');
  return active;
}

/** A role session from the access portal, as `aws sso login` + a profile would get it. */
async function session(email: string, accountId: string, roleName: string): Promise<STSClient> {
  const portal = made(new SSOClient({ endpoint: cloud.edgeUrl, maxAttempts: 1 }));
  const out = await portal.send(new GetRoleCredentialsCommand({ accessToken: await cloud.token(email), accountId, roleName }));
  const c = out.roleCredentials!;
  return made(new STSClient({ endpoint: cloud.edgeUrl, maxAttempts: 1, credentials: { accessKeyId: c.accessKeyId!, secretAccessKey: c.secretAccessKey!, sessionToken: c.sessionToken! } }));
}

const whoami = (sts: STSClient) =>
  sts.send(new GetCallerIdentityCommand({})).then(
    (out) => `ok:${out.Account}`,
    (err: Error) => err.name,
  );

async function ownedScps(accountId: string): Promise<Array<{ id: string; content: string }>> {
  const out = await orgs.send(new ListPoliciesForTargetCommand({ TargetId: accountId, Filter: 'SERVICE_CONTROL_POLICY' }));
  const owned: Array<{ id: string; content: string }> = [];
  for (const p of out.Policies ?? []) {
    const tags = await orgs.send(new ListTagsForResourceCommand({ ResourceId: p.Id! }));
    if (!tags.Tags?.some((t) => t.Key === SCP_OWNER_TAG && t.Value === OWNER)) continue;
    const d = await orgs.send(new DescribePolicyCommand({ PolicyId: p.Id! }));
    owned.push({ id: p.Id!, content: d.Policy!.Content! });
  }
  return owned;
}
const attachedCount = async (accountId: string) => (await orgs.send(new ListPoliciesForTargetCommand({ TargetId: accountId, Filter: 'SERVICE_CONTROL_POLICY' }))).Policies?.length ?? 0;

describe('sessions after expiry, revocation on (scp)', () => {
  it('eligibility and grant responses say what happens to sessions', async () => {
    const res = await api('GET', '/eligibility', 'bob@example.com');
    expect(res.status).toBe(200);
    const targets = res.body.items.flatMap((e: { targets: unknown[] }) => e.targets) as Array<{ accountId?: string; permissionSet?: string; session?: { duration: string; revocation: string; note: string } }>;
    const powerUser = targets.find((t) => t.accountId === DEV && t.permissionSet === 'PowerUserAccess');
    expect(powerUser?.session).toEqual({ duration: 'PT4H', revocation: 'scp', note: expect.stringMatching(/refused within seconds after it ends \(they would otherwise last up to 4 hours\)/) });
  });

  let bobGrant: Grant;
  let carolGrant: Grant;
  let bobOld: STSClient;
  let bobPreExisting: STSClient;
  let carolSession: STSClient;

  it('a session taken during a grant is refused shortly after expiry; another user\'s session is untouched', async () => {
    [bobGrant, carolGrant] = await Promise.all([
      activeGrant('bob@example.com', DEV, 'PowerUserAccess', 'PT4S'),
      activeGrant('carol@example.com', DEV, 'PowerUserAccess', 'PT5M'),
    ]);
    const shown = await grantAs(bobGrant.id, 'bob@example.com');
    expect(shown).toMatchObject({ session: { duration: 'PT4H', revocation: 'scp' } });
    expect(shown).not.toHaveProperty('sessionsValidUntil');
    bobOld = await session('bob@example.com', DEV, 'PowerUserAccess');
    bobPreExisting = await session('bob@example.com', DEV, 'ReadOnlyAccess');
    carolSession = await session('carol@example.com', DEV, 'PowerUserAccess');
    expect(await whoami(bobOld)).toBe(`ok:${DEV}`);

    const ended = await waitForStatus(bobGrant.id, 'bob@example.com', ['EXPIRED', 'FAILED']);
    expect(ended.status).toBe('EXPIRED');
    await waitFor('the old session to be refused', async () => ((await whoami(bobOld)) === 'AccessDenied' ? true : undefined));
    expect(await whoami(carolSession)).toBe(`ok:${DEV}`);

    const history = (await grantAs(bobGrant.id, 'bob@example.com')).history;
    const cut = history.find((h) => h.action === 'sessions cut');
    expect(cut?.detail).toMatch(/sessions of bob on account 444444444444 issued before \S+Z are refused \(service control policy\) until \S+/);
    const [scp] = await ownedScps(DEV);
    const statement = JSON.parse(scp!.content).Statement[0];
    expect(statement).toMatchObject({ Effect: 'Deny', Action: '*', Resource: '*' });
    expect(statement.Condition.StringEquals['identitystore:userId']).toEqual([cloud.idc.userId('bob')]);
    // Every session of bob on that account issued before the cutoff, his permanent access's too: he signs in again.
    expect(await whoami(bobPreExisting)).toBe('AccessDenied');
  }, 90_000);

  it('a session taken under a later grant works', async () => {
    const later = await activeGrant('bob@example.com', DEV, 'PowerUserAccess', 'PT5M');
    const fresh = await session('bob@example.com', DEV, 'PowerUserAccess');
    expect(await whoami(fresh)).toBe(`ok:${DEV}`);
    expect(await whoami(bobOld)).toBe('AccessDenied');
    await api('POST', `/grants/${later.id}/revoke`, 'bob@example.com', { reason: 'done' });
    await waitForStatus(later.id, 'bob@example.com', ['REVOKED']);
    await waitFor('the later session to be refused after its early revoke', async () => ((await whoami(fresh)) === 'AccessDenied' ? true : undefined));
  }, 90_000);

  it('overlap keeps sessions: a grant that ends while another holds the access cuts nothing', async () => {
    const short = await activeGrant('carol@example.com', DEV, 'PowerUserAccess', 'PT2S');
    const ended = await waitForStatus(short.id, 'carol@example.com', ['EXPIRED']);
    expect(ended.history.map((h) => h.action)).not.toContain('sessions cut');
    expect(ended.history.at(-1)?.detail).toMatch(/other grant\(s\) still hold it/);
    // Ended means its execution is done: no cut can follow. Carol's session, taken before, still works.
    expect(await whoami(carolSession)).toBe(`ok:${DEV}`);
    expect(JSON.stringify(await ownedScps(DEV))).not.toContain(cloud.idc.userId('carol'));
  }, 90_000);

  it('a pre-existing holder\'s session is untouched when a grant on that access ends', async () => {
    const granted = await activeGrant('bob@example.com', DEV, 'ReadOnlyAccess', 'PT2S');
    const during = await session('bob@example.com', DEV, 'ReadOnlyAccess');
    const ended = await waitForStatus(granted.id, 'bob@example.com', ['EXPIRED']);
    expect(ended.history.at(-1)?.detail).toMatch(/existed before this grant/);
    expect(ended.history.map((h) => h.action)).not.toContain('sessions cut');
    expect(await whoami(during)).toBe(`ok:${DEV}`);
  }, 90_000);
});

describe('the limits and the lift, with the real adapters on the local cloud', () => {
  const alerts: string[] = [];
  const log: BackstopLog = { info: () => undefined, warn: () => undefined, error: (message) => void alerts.push(message) };
  let now = new Date();
  const grants = () => new DynamoStore(made(new DynamoDBClient({ endpoint: cloud.edgeUrl })), { tableName: cloud.tableName, retentionDays: 30 });
  const deps = (): SessionCutDeps => {
    const dynamodb = made(new DynamoDBClient({ endpoint: cloud.edgeUrl }));
    const ssoAdmin = made(new SSOAdminClient({ endpoint: cloud.edgeUrl }));
    const clock = { now: () => now };
    return {
      store: grants(),
      cuts: new DynamoSessionCutStore(dynamodb, { tableName: cloud.tableName, clock }),
      scps: new OrganizationsServiceControlPolicies({ organizations: async () => orgs, owner: OWNER }),
      access: new IdentityCenterSessionAccess({
        ssoAdmin: async () => ssoAdmin,
        instanceArn: async () => cloud.idc.fixture.instance.arn,
        managementAccountId: async () => MANAGEMENT,
        now: () => now.getTime(),
      }),
      clock,
      log,
      scpNamePrefix: OWNER,
    };
  };
  const endedGrant = async (userName: string, accountId: string, permissionSet = 'PowerUserAccess') => {
    const grant = makeGrant({
      principal: { userId: cloud.idc.userId(userName), userName, email: `${userName}@example.com` },
      target: { type: 'account', accountId, permissionSet, permissionSetArn: cloud.idc.permissionSetArn(permissionSet) },
      status: 'EXPIRED',
    });
    await grants().create(grant);
    return grant;
  };
  const historyOf = async (id: string) => (await deps().store.get(id))!.history;

  it('keeps each SCP within 5,120 characters and spills into a second one', async () => {
    const d = deps();
    const cutoff = '2026-11-30T12:00:00Z';
    const entries: SessionCutEntry[] = Array.from({ length: 250 }, (_, i) => ({ accountId: PROD, userId: `user-${String(i).padStart(4, '0')}-9067c0ffee`, cutoff, liftAt: '2026-11-30T13:00:00.000Z', grantId: `g${i}` }));
    await renderAccount(d, PROD, entries);
    const owned = await ownedScps(PROD);
    expect(owned.length).toBe(2);
    for (const p of owned) expect(p.content.length).toBeLessThanOrEqual(SCP_MAX_CHARACTERS);
    const users = owned.flatMap((p) => JSON.parse(p.content).Statement.flatMap((s: any) => s.Condition.StringEquals['identitystore:userId']));
    expect(new Set(users).size).toBe(250);
    // Left empty: detached and deleted.
    await renderAccount(d, PROD, []);
    expect(await ownedScps(PROD)).toEqual([]);
  });

  it('never goes past 5 SCPs on a target: the cut fails loudly (history, alert, pending) and untagged SCPs are left alone', async () => {
    const others: string[] = [];
    for (let i = 0; i < 4; i++) {
      const p = await orgs.send(new CreatePolicyCommand({ Name: `site-guardrail-${i}`, Type: 'SERVICE_CONTROL_POLICY', Description: 'site', Content: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: `s3:Delete${i}*`, Resource: '*' }] }) }));
      others.push(p.Policy!.PolicySummary!.Id!);
      await orgs.send(new AttachPolicyCommand({ PolicyId: p.Policy!.PolicySummary!.Id!, TargetId: PCI }));
    }
    expect(await attachedCount(PCI)).toBe(5);
    const grant = await endedGrant('carol', PCI);
    alerts.length = 0;
    const result = await cutSessions(deps(), { grantId: grant.id, cutoff: now.toISOString() });
    expect(result.outcome).toBe('pending');
    expect(result.detail).toMatch(/ScpLimitReached: account 666666666666 would need 6 service control policies attached/);
    expect(alerts).toContain(SESSION_CUT_ALERT);
    expect((await historyOf(grant.id)).at(-1)).toMatchObject({ action: 'sessions not cut yet', from: 'EXPIRED', to: 'EXPIRED' });
    expect(await deps().cuts.pendingSince(new Date(now.getTime() + 1).toISOString(), 10)).toEqual([expect.objectContaining({ grantId: grant.id })]);
    expect(await attachedCount(PCI)).toBe(5);
  });

  it('reports the management account instead of cutting there', async () => {
    const grant = await endedGrant('bob', MANAGEMENT);
    const result = await cutSessions(deps(), { grantId: grant.id });
    expect(result).toMatchObject({ outcome: 'nothing-to-cut', accounts: [] });
    expect((await historyOf(grant.id)).at(-1)).toMatchObject({ action: 'sessions not cut' });
    expect((await historyOf(grant.id)).at(-1)!.detail).toMatch(/management account, where service control policies do not apply/);
    expect(await ownedScps(MANAGEMENT)).toEqual([]);
  });

  it('lifts each entry once its SessionDuration has passed since the cutoff, and deletes the SCP left empty', async () => {
    expect((await ownedScps(DEV)).length).toBe(1);
    // The cuts on the dev account, and the one recorded on the full account before its SCPs failed.
    const entries = [...(await deps().cuts.entries(DEV)), ...(await deps().cuts.entries(PCI))];
    expect(entries.length).toBeGreaterThan(0);
    // PowerUserAccess: PT4H. One second before the first lift time nothing is lifted.
    const first = entries.map((e) => Date.parse(e.liftAt)).sort()[0]!;
    now = new Date(first - 1000);
    expect((await liftDueEntries(deps(), { limit: 100 })).lifted).toBe(0);
    now = new Date(Math.max(...entries.map((e) => Date.parse(e.liftAt))));
    const lift = await liftDueEntries(deps(), { limit: 100 });
    expect(lift.lifted).toBe(entries.length);
    expect(await ownedScps(DEV)).toEqual([]);
    expect(await deps().cuts.entries(DEV)).toEqual([]);
    expect(await deps().cuts.entries(PCI)).toEqual([]);
    for (const grantId of new Set(entries.map((e) => e.grantId))) {
      expect((await historyOf(grantId)).at(-1)).toMatchObject({ action: 'sessions cut lifted' });
    }
  });
});
