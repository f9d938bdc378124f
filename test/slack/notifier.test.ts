import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ConflictException, CreateScheduleCommand, SchedulerClient, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import type { Grant } from '../../lib/domain/grant.ts';
import { DynamoSlackMessageStore } from '../../lib/adapters/slack-message-store.ts';
import { SlackNotifier } from '../../lib/slack/notifier.ts';
import { sessionTerms } from '../../lib/domain/session-cut.ts';
import { createSlackNotifyHandler } from '../../lib/slack/notify-handler.ts';
import { SchedulerExpiryWarnings } from '../../lib/adapters/slack-expiry-warnings.ts';
import { slackSecretsLoader } from '../../lib/adapters/slack-secrets.ts';
import { notifyWebClient } from '../../lib/adapters/slack-web-client.ts';
import { startFakeSlack, type FakeSlack } from '../../local/slack/fake-slack.ts';
import { startTestTable, type TestTable } from '../support/dynamo.ts';
import { BOT_TOKEN } from './harness.ts';

const errors: unknown[][] = [];
const logger = { info: () => undefined, warn: () => undefined, error: (...a: unknown[]) => void errors.push(a) };

let n = 0;
function grant(overrides: Partial<Grant> = {}): Grant {
  const id = `01J9Z3Y4N6A8B2C4D6E8F0G${String(100 + n++).padStart(3, '0')}`;
  return {
    id,
    principal: { userId: 'u-bob', userName: 'bob', email: 'bob@example.com' },
    target: { type: 'account', accountId: '555555555555', accountName: 'payments-prod', permissionSet: 'PowerUserAccess', permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-1/ps-1' },
    justification: 'incident',
    ruleId: 'prod-poweruser',
    requestedAt: '2026-01-01T10:00:00.000Z',
    duration: 'PT1H',
    status: 'PENDING_APPROVAL',
    quorum: 1,
    approvals: [],
    history: [{ at: '2026-01-01T10:00:00.000Z', actor: { id: 'u-bob', name: 'bob@example.com' }, action: 'requested', from: null, to: 'PENDING_APPROVAL' }],
    version: 1,
    ...overrides,
  };
}

function next(g: Grant, status: Grant['status'], action: string, extra: Partial<Grant> = {}): Grant {
  return { ...g, ...extra, status, version: g.version + 1, history: [...g.history, { at: '2026-01-01T10:05:00.000Z', actor: { id: 'system:workflow', name: 'grant workflow' }, action, from: g.status, to: status }] };
}

describe('SlackNotifier and the notify worker', () => {
  let table: TestTable;
  let slack: FakeSlack;
  let notifier: SlackNotifier;

  beforeAll(async () => {
    table = await startTestTable();
    slack = await startFakeSlack({ users: [{ id: 'UBOB', name: 'bob', email: 'bob@example.com' }], botToken: BOT_TOKEN });
    notifier = new SlackNotifier({
      client: notifyWebClient(BOT_TOKEN, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 2, minTimeout: 0, maxTimeout: 5 } }),
      messages: new DynamoSlackMessageStore(table.client, table.tableName),
      channelForRule: (id) => (id === 'prod-poweruser' ? '#prod-access' : undefined),
      defaultChannel: '#jit-approvals',
      startUrl: 'd-123.awsapps.com/start/',
      logger,
    });
  });
  afterAll(async () => {
    await slack?.stop();
    await table?.stop();
  });

  it('waits out a Slack rate limit (Retry-After) and delivers', async () => {
    slack.rateLimitNext('chat.postMessage', 0);
    const g = grant();
    await notifier.grantChanged(g, 'requested');
    const posts = slack.calls('chat.postMessage').filter((c) => String(c.args.text).includes('bob'));
    expect(posts).toHaveLength(2); // the 429, then the retry
    expect(slack.messages('CPRODACCESS').filter((m) => JSON.stringify(m.blocks).includes(g.id))).toHaveLength(1);
  });

  it('uses the default channel when the rule names none', async () => {
    const g = grant({ ruleId: 'other-rule' });
    await notifier.grantChanged(g, 'requested');
    expect(slack.messages('CJITAPPROVALS').some((m) => JSON.stringify(m.blocks).includes(g.id))).toBe(true);
  });

  it('tells approvers and the requester what happens to sessions once the grant ends', async () => {
    const withTerms = new SlackNotifier({
      client: notifyWebClient(BOT_TOKEN, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } }),
      messages: new DynamoSlackMessageStore(table.client, table.tableName),
      channelForRule: () => '#jit-approvals',
      sessionTerms: async (g) => sessionTerms('off', 'PT4H', g.target.type === 'account' && g.target.accountId === '111111111111'),
      logger,
    });
    const g = grant();
    await withTerms.grantChanged(g, 'requested');
    const posted = slack.messages('CJITAPPROVALS').find((m) => JSON.stringify(m.blocks).includes(g.id));
    expect(JSON.stringify(posted?.blocks)).toContain('*Sessions* (4h each): Session revocation is off: a session started during the grant stays valid for up to 4 hours after it ends.');
    const active = next(next(g, 'APPROVED', 'approved'), 'ACTIVE', 'activated', { expiresAt: '2026-01-01T11:05:00.000Z' });
    await withTerms.grantChanged(active, 'activated');
    const dm = slack.calls('chat.postMessage').filter((c) => JSON.stringify(c.args.blocks).includes(g.id) && String(c.args.text).includes('is active')).at(-1);
    expect(JSON.stringify(dm?.args.blocks)).toContain('stays valid for up to 4 hours after it ends');
  });

  it('never throws when Slack fails, and logs instead', async () => {
    errors.length = 0;
    slack.failNext('chat.postMessage', 'channel_not_found');
    await expect(notifier.grantChanged(grant(), 'requested')).resolves.toBeUndefined();
    expect(JSON.stringify(errors)).toContain('channel_not_found');
    const dead = new SlackNotifier({
      client: notifyWebClient(BOT_TOKEN, { slackApiUrl: 'http://127.0.0.1:9/api/', retryConfig: { retries: 0 } }),
      messages: new DynamoSlackMessageStore(table.client, table.tableName),
      channelForRule: () => '#x',
      logger,
    });
    const active = next(next(grant(), 'APPROVED', 'approved'), 'ACTIVE', 'activated', { expiresAt: '2026-01-01T11:05:00.000Z' });
    await expect(dead.grantChanged(active, 'activated')).resolves.toBeUndefined();
  });

  it('the stream worker notifies once per new version and builds the console link', async () => {
    const handler = createSlackNotifyHandler({ notifier, store: { get: async () => undefined }, logger });
    const pending = grant();
    const approved = next(pending, 'APPROVED', 'approved');
    const active = next(approved, 'ACTIVE', 'activated', { expiresAt: '2026-01-01T11:05:00.000Z', activatedAt: '2026-01-01T10:05:00.000Z' });
    const image = (g: Grant) => marshall({ ...g, pk: `GRANT#${g.id}`, sk: 'GRANT', gsi2pk: `STATUS#${g.status}` }, { removeUndefinedValues: true }) as never;
    const record = (newG: Grant, oldG?: Grant) => ({ eventName: 'MODIFY', dynamodb: { NewImage: image(newG), ...(oldG ? { OldImage: image(oldG) } : {}) } });
    const event = {
      Records: [
        record(pending),
        record(approved, pending),
        record(approved, approved), // same version: a non-change
        record(active, approved),
        { eventName: 'INSERT', dynamodb: { NewImage: marshall({ pk: 'SLACKMSG#x', sk: '-' }) as never } },
      ],
    } as unknown as DynamoDBStreamEvent;
    await handler(event);
    await handler(event); // redelivery of the batch
    const dms = slack.messages('DUBOB').filter((m) => JSON.stringify(m.blocks).includes(pending.id));
    expect(dms.map((m) => m.text?.slice(0, 60)), JSON.stringify(errors)).toHaveLength(2);
    expect(JSON.stringify(dms[1]!.blocks)).toContain('https://d-123.awsapps.com/start/#/console?account_id=555555555555&role_name=PowerUserAccess');
    const channel = slack.messages('CPRODACCESS').find((m) => JSON.stringify(m.blocks).includes(pending.id))!;
    expect(channel.text).toContain('Active');
  });

  it('expiry-warning events are ignored once the grant was extended', async () => {
    const active = next(next(grant(), 'APPROVED', 'approved'), 'ACTIVE', 'activated', { expiresAt: '2026-01-01T11:05:00.000Z' });
    const handler = createSlackNotifyHandler({ notifier, store: { get: async () => active }, logger });
    await handler({ kind: 'expiry-warning', grantId: active.id, expiresAt: '2026-01-01T10:30:00.000Z' });
    expect(slack.messages('DUBOB').filter((m) => JSON.stringify(m.blocks).includes(`${active.id}|PT1H`))).toHaveLength(0);
    await handler({ kind: 'expiry-warning', grantId: active.id, expiresAt: active.expiresAt! });
    expect(slack.messages('DUBOB').filter((m) => JSON.stringify(m.blocks).includes(`${active.id}|PT1H`))).toHaveLength(1);
  });
});

describe('SchedulerExpiryWarnings', () => {
  it('creates the schedule 5 minutes before expiry and moves it on extension', async () => {
    const client = new SchedulerClient({ region: 'us-east-1' });
    const mock = mockClient(client);
    mock.on(CreateScheduleCommand).resolvesOnce({}).rejects(new ConflictException({ message: 'exists', $metadata: {}, ResourceId: undefined, ResourceType: undefined } as never));
    mock.on(UpdateScheduleCommand).resolves({});
    const warnings = new SchedulerExpiryWarnings(client, { targetArn: 'arn:aws:lambda:us-east-1:1:function:slackNotify', roleArn: 'arn:aws:iam::1:role/s', groupName: 'g', now: () => Date.parse('2026-01-01T10:00:00Z') });
    const g = grant({ status: 'ACTIVE', expiresAt: '2026-01-01T11:00:00.000Z' });
    await warnings.schedule(g);
    const created = mock.commandCalls(CreateScheduleCommand)[0]!.args[0].input;
    expect(created).toMatchObject({ Name: `slack-warn-${g.id}`, ScheduleExpression: 'at(2026-01-01T10:55:00)', ScheduleExpressionTimezone: 'UTC', ActionAfterCompletion: 'DELETE', FlexibleTimeWindow: { Mode: 'OFF' } });
    expect(JSON.parse(created.Target!.Input!)).toEqual({ kind: 'expiry-warning', grantId: g.id, expiresAt: g.expiresAt });
    await warnings.schedule({ ...g, expiresAt: '2026-01-01T12:00:00.000Z' });
    expect(mock.commandCalls(UpdateScheduleCommand)[0]!.args[0].input.ScheduleExpression).toBe('at(2026-01-01T11:55:00)');
    // Too close to expiry for a schedule: nothing.
    await warnings.schedule({ ...g, expiresAt: '2026-01-01T10:05:30.000Z' });
    expect(mock.commandCalls(CreateScheduleCommand)).toHaveLength(2);
  });
});

describe('slackSecretsLoader', () => {
  it('reads both parameters with decryption once per container and retries after a failure', async () => {
    const ssm = new SSMClient({ region: 'us-east-1' });
    const mock = mockClient(ssm);
    mock.on(GetParameterCommand).rejectsOnce(new Error('boom')).callsFake((input: { Name: string }) => ({ Parameter: { Value: `value-of-${input.Name}` } }));
    const load = slackSecretsLoader({ signingSecretParam: '/jit/slack/signing-secret', botTokenParam: '/jit/slack/bot-token' }, ssm);
    const failure = await load().catch((e: Error) => e);
    expect(String(failure)).toContain('cannot read SSM parameter');
    const secrets = await load();
    expect(secrets).toEqual({ signingSecret: 'value-of-/jit/slack/signing-secret', botToken: 'value-of-/jit/slack/bot-token' });
    await load();
    const calls = mock.commandCalls(GetParameterCommand);
    expect(calls.every((c) => c.args[0].input.WithDecryption === true)).toBe(true);
    expect(calls.length).toBe(4); // 2 on the failed attempt, 2 on the first success, none after
  });

  it('refuses an empty parameter without printing any value', async () => {
    const ssm = new SSMClient({ region: 'us-east-1' });
    mockClient(ssm).on(GetParameterCommand).resolves({ Parameter: { Value: '' } });
    await expect(slackSecretsLoader({ signingSecretParam: 'a', botTokenParam: 'b' }, ssm)()).rejects.toThrow(/SSM parameter (a|b) is empty/);
  });
});
