/**
 * Role sessions on the local edge, through the real SDK clients: the access portal's
 * GetRoleCredentials (client-sso) hands out credentials only while the user holds the access,
 * for the permission set's SessionDuration; STS GetCallerIdentity (client-sts) signed with them
 * checks the signature and answers the assumed role, or refuses an expired session or one a
 * service control policy denies (client-organizations writes the SCPs). Identity Center time
 * is a manual clock: it moves only when a test moves it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { GetRoleCredentialsCommand, SSOClient } from '@aws-sdk/client-sso';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { AttachPolicyCommand, CreatePolicyCommand, OrganizationsClient, UpdatePolicyCommand } from '@aws-sdk/client-organizations';
import { CreateAccountAssignmentCommand, DeleteAccountAssignmentCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { startEdge, type Edge } from '../../local/edge.ts';
import { createIdentityCenterEmulator, loadOrgFixture, sessionDurationMs, type IdentityCenterEmulator } from '../../local/idc/index.ts';
import { LOCAL_AUDIENCE, LocalIssuer } from '../../local/jwt.ts';
import { createLocalSts } from '../../local/sts.ts';

const fixture = loadOrgFixture(fileURLToPath(new URL('../../local/org.example.yaml', import.meta.url)));
const ISSUER = 'http://127.0.0.1:1/local-issuer';
const MANAGEMENT = fixture.organization.managementAccountId;
const DEV = '444444444444';
const PROD = '555555555555';
const START = Date.UTC(2026, 10, 30, 12, 0, 0);

const clock = { t: START, now() { return this.t; } };
let emu: IdentityCenterEmulator;
let edge: Edge;
let issuer: LocalIssuer;
let stranger: LocalIssuer;
let portal: SSOClient;
let orgs: OrganizationsClient;
let ssoAdmin: SSOAdminClient;
const admin = { accessKeyId: 'test', secretAccessKey: 'test' };

beforeAll(async () => {
  [issuer, stranger] = await Promise.all([LocalIssuer.ephemeral(), LocalIssuer.ephemeral()]);
  // The edge reads `emu` per request, so each test gets a fresh emulator behind one server.
  edge = await startEdge({
    port: 0,
    log: () => undefined,
    jsonServices: [
      { targetPrefixes: ['AWSOrganizationsV20161128'], handle: (op, input, ctx) => emu.organizations.handle(op, input, ctx) },
      { targetPrefixes: ['SWBExternalService'], handle: (op, input, ctx) => emu.ssoAdmin.handle(op, input, ctx) },
    ],
    restServices: [
      {
        signingName: 'awsssoportal',
        paths: ['/federation/credentials'],
        handle: (req, ctx) =>
          emu
            .accessPortal(async (token) => {
              const claims = await issuer.verify(token, { issuer: ISSUER, audience: LOCAL_AUDIENCE });
              return { email: String(claims.email) };
            })
            .handle(req, ctx),
      },
    ],
    queryServices: [{ signingName: 'sts', xmlNamespace: 'https://sts.amazonaws.com/doc/2011-06-15/', handle: (...args) => createLocalSts(emu.sessions).handle(...args) }],
  });
  const config = { endpoint: edge.url, region: 'us-east-1', maxAttempts: 1 };
  portal = new SSOClient(config);
  orgs = new OrganizationsClient({ ...config, credentials: admin });
  ssoAdmin = new SSOAdminClient({ ...config, credentials: admin });
});
afterAll(async () => {
  for (const c of [portal, orgs, ssoAdmin]) c.destroy();
  await edge.close();
});
beforeEach(() => {
  clock.t = START;
  emu = createIdentityCenterEmulator({ fixture, clock, knobs: { provisioningDelayMs: { minMs: 0, maxMs: 0 }, throttleTps: 0, scpPropagationSeconds: 3 } });
});

const tokenFor = (email: string, signer = issuer) => signer.sign({ email }, { issuer: ISSUER });

async function credentials(email: string, accountId: string, roleName: string, signer = issuer) {
  const out = await portal.send(new GetRoleCredentialsCommand({ accessToken: await tokenFor(email, signer), accountId, roleName }));
  return out.roleCredentials!;
}

async function whoami(creds: { accessKeyId?: string; secretAccessKey?: string; sessionToken?: string }) {
  const sts = new STSClient({ endpoint: edge.url, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: creds.accessKeyId!, secretAccessKey: creds.secretAccessKey!, sessionToken: creds.sessionToken! } });
  try {
    return await sts.send(new GetCallerIdentityCommand({}));
  } finally {
    sts.destroy();
  }
}

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => ({ name: 'no error', message: '', status: 0 }),
    (e: Error & { $metadata?: { httpStatusCode?: number } }) => ({ name: e.name, message: e.message, status: e.$metadata?.httpStatusCode }),
  );

async function assign(principalType: 'USER' | 'GROUP', principalId: string, accountId: string, permissionSet: string, remove = false) {
  const input = { InstanceArn: fixture.instance.arn, TargetId: accountId, TargetType: 'AWS_ACCOUNT' as const, PermissionSetArn: emu.permissionSetArn(permissionSet), PrincipalType: principalType, PrincipalId: principalId };
  await ssoAdmin.send(remove ? new DeleteAccountAssignmentCommand(input) : new CreateAccountAssignmentCommand(input));
  emu.flush();
}

describe('GetRoleCredentials', () => {
  it('a direct assignment: ASIA credentials valid for the permission set SessionDuration, recorded as a session', async () => {
    const creds = await credentials('bob@example.com', DEV, 'ReadOnlyAccess');
    expect(creds.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(creds.secretAccessKey).toBeTruthy();
    expect(creds.sessionToken).toBeTruthy();
    expect(creds.expiration).toBe(START + 8 * 3600 * 1000);
    expect(emu.sessions.list()).toEqual([
      expect.objectContaining({ accessKeyId: creds.accessKeyId, userId: emu.userId('bob'), accountId: DEV, permissionSetArn: emu.permissionSetArn('ReadOnlyAccess'), issuedAt: START, expiresAt: START + 8 * 3600 * 1000 }),
    ]);
  });

  it('through a group; the expiration follows each permission set (PT1H, PT4H)', async () => {
    await assign('GROUP', emu.groupId('Developers'), PROD, 'AdministratorAccess');
    await assign('GROUP', emu.groupId('Developers'), PROD, 'PowerUserAccess');
    expect((await credentials('carol@example.com', PROD, 'AdministratorAccess')).expiration).toBe(START + sessionDurationMs('PT1H'));
    expect((await credentials('Carol@Example.com', PROD, 'PowerUserAccess')).expiration).toBe(START + 4 * 3600 * 1000);
    // dave is not in the group.
    expect(await errorOf(credentials('dave@example.com', PROD, 'AdministratorAccess'))).toMatchObject({ name: 'ForbiddenException', message: 'No access', status: 403 });
  });

  it('refused once the assignment is deleted; a session issued before keeps working until it expires', async () => {
    await assign('USER', emu.userId('alice'), PROD, 'AdministratorAccess');
    const before = await credentials('alice@example.com', PROD, 'AdministratorAccess');
    await assign('USER', emu.userId('alice'), PROD, 'AdministratorAccess', true);
    expect((await errorOf(credentials('alice@example.com', PROD, 'AdministratorAccess'))).name).toBe('ForbiddenException');
    expect((await whoami(before)).Account).toBe(PROD);
    clock.t = before.expiration!;
    expect(await errorOf(whoami(before))).toMatchObject({ name: 'ExpiredToken', status: 400 });
  });

  it('refuses a token it did not issue, a user it does not know, an unknown permission set or account', async () => {
    expect(await errorOf(credentials('bob@example.com', DEV, 'ReadOnlyAccess', stranger))).toMatchObject({ name: 'UnauthorizedException', status: 401 });
    expect(await errorOf(portal.send(new GetRoleCredentialsCommand({ accessToken: 'not-a-token', accountId: DEV, roleName: 'ReadOnlyAccess' })))).toMatchObject({ name: 'UnauthorizedException' });
    expect((await errorOf(credentials('mallory@example.com', DEV, 'ReadOnlyAccess'))).name).toBe('UnauthorizedException');
    expect((await errorOf(credentials('bob@example.com', DEV, 'NoSuchSet'))).name).toBe('ForbiddenException');
    expect((await errorOf(credentials('bob@example.com', '999999999999', 'ReadOnlyAccess'))).name).toBe('ForbiddenException');
    expect((await errorOf(credentials('bob@example.com', 'dev', 'ReadOnlyAccess'))).name).toBe('InvalidRequestException');
  });
});

describe('GetCallerIdentity', () => {
  it('answers the assumed-role identity of the session', async () => {
    const out = await whoami(await credentials('bob@example.com', DEV, 'ReadOnlyAccess'));
    expect(out.Account).toBe(DEV);
    expect(out.Arn).toMatch(new RegExp(`^arn:aws:sts::${DEV}:assumed-role/AWSReservedSSO_ReadOnlyAccess_[0-9a-f]{16}/bob$`));
    expect(out.UserId).toMatch(/^AROA[A-Z2-7]{17}:bob$/);
  });

  it('checks the signature: a wrong secret is SignatureDoesNotMatch, a wrong session token InvalidClientTokenId', async () => {
    const creds = await credentials('bob@example.com', DEV, 'ReadOnlyAccess');
    expect(await errorOf(whoami({ ...creds, secretAccessKey: `${creds.secretAccessKey}x` }))).toMatchObject({ name: 'SignatureDoesNotMatch', status: 403 });
    expect(await errorOf(whoami({ ...creds, sessionToken: 'other' }))).toMatchObject({ name: 'InvalidClientTokenId', status: 403 });
  });

  it('sessions survive a snapshot and restore (a restart of the local cloud)', async () => {
    const creds = await credentials('bob@example.com', DEV, 'ReadOnlyAccess');
    emu = createIdentityCenterEmulator({ fixture, clock, snapshot: JSON.parse(JSON.stringify(emu.snapshot())) });
    expect((await whoami(creds)).Arn).toMatch(/\/bob$/);
  });

  it("the local cloud's own keys answer as the local account's root", async () => {
    expect((await whoami({ ...admin, sessionToken: '' })).Arn).toBe('arn:aws:iam::000000000000:root');
  });
});

describe('service control policies', () => {
  const cutFor = (userIds: string[], cutoff: number) =>
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'identitystore:userId': userIds }, DateLessThan: { 'aws:TokenIssueTime': new Date(cutoff).toISOString() } } },
      ],
    });
  async function cut(userIds: string[], cutoff: number, targetId: string): Promise<string> {
    const id = (await orgs.send(new CreatePolicyCommand({ Name: `cut-${targetId}`, Description: '', Type: 'SERVICE_CONTROL_POLICY', Content: cutFor(userIds, cutoff) }))).Policy!.PolicySummary!.Id!;
    await orgs.send(new AttachPolicyCommand({ PolicyId: id, TargetId: targetId }));
    return id;
  }

  it('a session issued before the cutoff is denied once the change has propagated; one issued after is allowed; other users are not touched', async () => {
    await assign('USER', emu.userId('carol'), DEV, 'ReadOnlyAccess');
    const bobOld = await credentials('bob@example.com', DEV, 'ReadOnlyAccess');
    const carol = await credentials('carol@example.com', DEV, 'ReadOnlyAccess');
    clock.t += 1_000;
    const cutoff = clock.t;
    await cut([emu.userId('bob')], cutoff, DEV);
    clock.t += 500;
    const bobNew = await credentials('bob@example.com', DEV, 'ReadOnlyAccess');

    // Not yet propagated: everyone still works.
    expect((await whoami(bobOld)).Account).toBe(DEV);
    clock.t = cutoff + 3_000;
    expect(await errorOf(whoami(bobOld))).toMatchObject({ name: 'AccessDenied', status: 403, message: expect.stringMatching(/explicit deny in a service control policy/) });
    expect((await whoami(bobNew)).Arn).toMatch(/\/bob$/);
    expect((await whoami(carol)).Arn).toMatch(/\/carol$/);
  });

  it('an SCP on an OU or the root reaches the accounts below it, never the management account', async () => {
    await assign('USER', emu.userId('bob'), MANAGEMENT, 'ReadOnlyAccess');
    await assign('USER', emu.userId('bob'), PROD, 'ReadOnlyAccess');
    const onManagement = await credentials('bob@example.com', MANAGEMENT, 'ReadOnlyAccess');
    const onProd = await credentials('bob@example.com', PROD, 'ReadOnlyAccess');
    clock.t += 1_000;
    await cut([emu.userId('bob')], clock.t, fixture.organization.rootId);
    const direct = (await orgs.send(new CreatePolicyCommand({ Name: 'cut-management', Description: '', Type: 'SERVICE_CONTROL_POLICY', Content: cutFor([emu.userId('bob')], clock.t) }))).Policy!.PolicySummary!.Id!;
    await orgs.send(new AttachPolicyCommand({ PolicyId: direct, TargetId: MANAGEMENT }));
    clock.t += 3_000;
    expect((await errorOf(whoami(onProd))).name).toBe('AccessDenied');
    expect((await whoami(onManagement)).Account).toBe(MANAGEMENT);
  });

  it('an update that adds the user applies after the propagation delay', async () => {
    const bob = await credentials('bob@example.com', DEV, 'ReadOnlyAccess');
    clock.t += 1_000;
    const id = await cut(['someone-else'], clock.t, DEV);
    clock.t += 3_000;
    expect((await whoami(bob)).Account).toBe(DEV);
    await orgs.send(new UpdatePolicyCommand({ PolicyId: id, Content: cutFor(['someone-else', emu.userId('bob')], clock.t) }));
    clock.t += 2_999;
    expect((await whoami(bob)).Account).toBe(DEV);
    clock.t += 1;
    expect((await errorOf(whoami(bob))).name).toBe('AccessDenied');
  });
});
