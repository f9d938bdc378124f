/**
 * A revocation's prompt delete (IdentityCenterWriter.startDeletionPromptly) with real SSO Admin
 * clients against the local Identity Center: a transient error is tried again after a short
 * pause, on a client that makes one attempt per call; past its time, or on any other error, it
 * gives up and says so (the state machine deletes then). Time is virtual: `now` advances by the
 * pauses the writer sleeps.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { CreateAccountAssignmentCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { createIdentityCenterClients, IdentityCenterWriter } from '../../lib/adapters/identity-center.ts';
import { createIdentityCenterEmulator, loadOrgFixture, serveJsonServices, type JsonEndpoint } from '../../local/idc/index.ts';

const fixture = loadOrgFixture(fileURLToPath(new URL('../../local/org.example.yaml', import.meta.url)));
const emu = createIdentityCenterEmulator({ fixture, clock: { now: () => Date.now() }, random: Math.random, knobs: { throttleTps: 0, provisioningDelayMs: { minMs: 0, maxMs: 0 } } });
const ACCOUNT = '333333333333';
let endpoint: JsonEndpoint;
let singleAttempt: SSOAdminClient;
let retrying: SSOAdminClient;

const base = () => ({ endpoint: endpoint.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
const ref = () => ({ principalId: emu.userId('bob'), accountId: ACCOUNT, permissionSetArn: emu.permissionSetArn('ReadOnlyAccess') });
const deleteCalls = () => emu.stats().calls.DeleteAccountAssignment ?? 0;
const hasAssignment = () => emu.assignments().some((a) => a.principalId === ref().principalId && a.accountId === ACCOUNT);

/** A writer on virtual time: every pause it sleeps is recorded and moves its clock on. */
function writerOnVirtualTime() {
  const clock = { t: 0 };
  const pauses: number[] = [];
  const writer = new IdentityCenterWriter({
    instanceArn: fixture.instance.arn,
    identityStoreId: fixture.instance.identityStoreId,
    clients: { ssoAdmin: retrying, ssoAdminSingleAttempt: singleAttempt },
    now: () => clock.t,
    sleep: async (ms) => {
      pauses.push(ms);
      clock.t += ms;
    },
  });
  return { writer, pauses };
}

beforeAll(async () => {
  endpoint = await serveJsonServices(emu.services);
  singleAttempt = new SSOAdminClient({ ...base(), maxAttempts: 1 });
  retrying = new SSOAdminClient({ ...base(), maxAttempts: 8 });
});
afterAll(async () => {
  singleAttempt.destroy();
  retrying.destroy();
  await endpoint.close();
});
beforeEach(async () => {
  emu.setKnobs({ faults: [] });
  if (!hasAssignment()) {
    await retrying.send(new CreateAccountAssignmentCommand({ InstanceArn: fixture.instance.arn, TargetId: ACCOUNT, TargetType: 'AWS_ACCOUNT', PermissionSetArn: ref().permissionSetArn, PrincipalType: 'USER', PrincipalId: ref().principalId }));
  }
  emu.flush();
  expect(hasAssignment()).toBe(true);
});

describe('startDeletionPromptly', () => {
  it('the clients built from the config include an SSO Admin client of one attempt per call, without the adaptive limiter', async () => {
    const built = createIdentityCenterClients({ region: 'us-east-1' });
    const single = await built.ssoAdminSingleAttempt();
    expect(await single.config.maxAttempts()).toBe(1);
    // No client-side limiter to hold the prompt delete back once throttled: the standard strategy.
    expect(((await single.config.retryStrategy()) as object).constructor.name).toBe('StandardRetryStrategy');
    expect(((await (await built.ssoAdmin()).config.retryStrategy()) as object).constructor.name).toBe('AdaptiveRetryStrategy');
    expect(await (await built.ssoAdmin()).config.maxAttempts()).toBe(8);
  });

  it('throttled three times, the delete still starts: each retry after a pause of 25–400 ms, none by the SDK', async () => {
    emu.setKnobs({ faults: [{ operations: ['DeleteAccountAssignment'], times: 3, effect: { type: 'error', code: 'ThrottlingException' } }] });
    const { writer, pauses } = writerOnVirtualTime();
    const before = deleteCalls();
    const started = await writer.startDeletionPromptly(ref(), 5_000);
    expect(started).toMatchObject({ requestId: expect.any(String), status: 'IN_PROGRESS' });
    expect(deleteCalls() - before).toBe(4);
    expect(pauses).toHaveLength(3);
    // 50 ms doubling, each drawn in its upper half: far below the SDK's second.
    expect(pauses[0]).toBeGreaterThanOrEqual(25);
    expect(pauses[0]).toBeLessThanOrEqual(50);
    expect(pauses[1]).toBeGreaterThanOrEqual(50);
    expect(pauses[2]).toBeLessThanOrEqual(200);
    emu.flush();
    expect(hasAssignment()).toBe(false);
  });

  it('an InternalServerException is tried again the same way', async () => {
    emu.setKnobs({ faults: [{ operations: ['DeleteAccountAssignment'], times: 1, effect: { type: 'error', code: 'InternalServerException' } }] });
    const { writer, pauses } = writerOnVirtualTime();
    expect(await writer.startDeletionPromptly(ref(), 5_000)).toMatchObject({ status: 'IN_PROGRESS' });
    expect(pauses).toHaveLength(1);
  });

  it('throttled past its time: gives up within it, leaving the assignment in place', async () => {
    emu.setKnobs({ faults: [{ operations: ['DeleteAccountAssignment'], effect: { type: 'error', code: 'ThrottlingException' } }] });
    const { writer, pauses } = writerOnVirtualTime();
    const before = deleteCalls();
    expect(await writer.startDeletionPromptly(ref(), 1_000)).toBeUndefined();
    const waited = pauses.reduce((a, b) => a + b, 0);
    expect(waited).toBeLessThanOrEqual(1_000);
    expect(waited).toBeGreaterThan(1_000 - 400); // it stopped only when the next pause would overrun
    expect(deleteCalls() - before).toBe(pauses.length + 1);
    expect(Math.max(...pauses)).toBeLessThanOrEqual(400);
    expect(hasAssignment()).toBe(true);
  });

  it('any other error ends it at once: access denied, and an assignment already gone', async () => {
    emu.setKnobs({ faults: [{ operations: ['DeleteAccountAssignment'], times: 1, effect: { type: 'error', code: 'AccessDeniedException' } }] });
    const denied = writerOnVirtualTime();
    expect(await denied.writer.startDeletionPromptly(ref(), 5_000)).toBeUndefined();
    expect(denied.pauses).toEqual([]);
    expect(hasAssignment()).toBe(true);

    emu.setKnobs({ faults: [] });
    const { writer } = writerOnVirtualTime();
    expect(await writer.startDeletionPromptly(ref(), 5_000)).toBeDefined();
    emu.flush();
    const gone = writerOnVirtualTime();
    const before = deleteCalls();
    expect(await gone.writer.startDeletionPromptly(ref(), 5_000)).toBeUndefined();
    expect(deleteCalls() - before).toBe(1);
    expect(gone.pauses).toEqual([]);
  });
});
