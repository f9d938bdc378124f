/**
 * The workflow task bundles as deployed (minified by serverless-esbuild, which renames
 * every class), run in a fresh Node process against DynamoDB: the errors they throw
 * carry the fixed names the state machines' Retry lists match on, because the Lambda
 * runtime reports `error.name` as the errorType Step Functions compares. A class-derived
 * name would arrive as one letter and never match.
 *
 * Also: every error of ours a task's Retry/Catch names is defined in that task's bundle.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleFunction, probeEnv, ROOT } from '../../bench/bundle.ts';
import { DynamoStore } from '../../lib/adapters/dynamo-store.ts';
import { ensureGrantsTable } from '../../lib/adapters/table-schema.ts';
import { assignmentKey, type Grant } from '../../lib/domain/grant.ts';
import * as appErrors from '../../lib/errors.ts';
import * as workflowErrors from '../../lib/workflow/errors.ts';
import { RETRYABLE_TASK_ERRORS, TASK_RETRYABLE_ERRORS, type LambdaTaskState } from '../../lib/workflow/errors.ts';
import { startDynamo, type LocalDynamo } from '../../local/dynamodb.ts';
import { visitStates } from '../../local/stepfunctions/service.ts';
import { makeGrant } from '../support/grants.ts';

const run = promisify(execFile);

/** The tasks that retry errors of ours. CutSessions retries none: what it cannot finish goes to its Catch, a pending cut the sweeper retries. */
const TASKS: Record<Exclude<LambdaTaskState, 'CutSessions'>, { fn: string; file: string }> = {
  PrepareActivation: { fn: 'prepareActivation', file: 'statemachines/grant.asl.json' },
  CompleteActivation: { fn: 'completeActivation', file: 'statemachines/grant.asl.json' },
  BeginRevocation: { fn: 'beginRevocation', file: 'statemachines/revoke.asl.json' },
};

/** The names of our own error classes (what a bundle could throw besides the AWS SDK's errors); AppError, abstract, has none of its own. */
const OWN_ERROR_NAMES = ([...Object.values(appErrors), ...Object.values(workflowErrors)] as unknown[])
  .filter((v): v is new (m: string) => Error => typeof v === 'function' && v.prototype instanceof Error)
  .map((ErrorClass) => new ErrorClass('probe').name)
  .filter((name) => name !== 'Error');

// Under the repo, so the bundles' external `@aws-sdk/*` imports resolve from node_modules.
const cache = resolve(ROOT, 'node_modules/.cache');
let outDir: string;
const bundles = {} as Record<LambdaTaskState, string>;
let dynamo: LocalDynamo;
let proxy: Server;
let proxyUrl: string;
let store: DynamoStore;
const TABLE = 'workflow-bundles';
/** Grants whose conditional writes the proxy refuses, as a concurrent writer winning every race would. */
const racedGrants = new Set<string>();

/**
 * Forwards to dynalite, but answers UpdateItem on a raced grant with ConditionalCheckFailedException.
 */
function startRacingProxy(target: string): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const op = String(req.headers['x-amz-target'] ?? '').split('.').pop();
      const pk = op === 'UpdateItem' ? (JSON.parse(body.toString('utf8')) as { Key?: { pk?: { S?: string } } }).Key?.pk?.S : undefined;
      if (pk && racedGrants.has(pk.replace(/^GRANT#/, ''))) {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException', message: 'The conditional request failed' }));
        return;
      }
      const forward = request(target, { method: req.method, path: req.url, headers: req.headers }, (upstream) => {
        res.writeHead(upstream.statusCode ?? 500, upstream.headers);
        upstream.pipe(res);
      });
      forward.on('error', (e) => res.destroy(e));
      forward.end(body);
    });
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done(server)));
}

/** Imports the bundle in a fresh Node process and calls its handler as Lambda would; reports what it threw. */
const INVOKE = `
import { pathToFileURL } from 'node:url';
const [file, event] = JSON.parse(process.argv[1]);
const { handler } = await import(pathToFileURL(file).href);
let result;
try {
  result = { returned: await handler(event, {}) };
} catch (e) {
  result = { thrown: { name: e?.name, message: e?.message } };
}
process.stdout.write('\\n@@RESULT ' + JSON.stringify(result) + '\\n');
`;

async function invoke(task: LambdaTaskState, event: unknown): Promise<{ returned?: unknown; thrown?: { name: string; message: string } }> {
  const env = {
    ...probeEnv(),
    GRANTS_TABLE: TABLE,
    IDC_INSTANCE_ARN: 'arn:aws:sso:::instance/ssoins-0123456789abcdef',
    IDENTITY_STORE_ID: 'd-0123456789',
    // DynamoDB through the proxy; every other AWS call to a closed port (none is expected).
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_ENDPOINT_URL_DYNAMODB: proxyUrl,
  };
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', INVOKE, JSON.stringify([bundles[task], event])], { env, cwd: ROOT });
  const line = stdout.split('\n').find((l) => l.startsWith('@@RESULT '));
  if (!line) throw new Error(`no result from ${task}:\n${stdout}`);
  return JSON.parse(line.slice('@@RESULT '.length));
}

const groupTarget = { type: 'group' as const, group: 'BreakGlass', groupId: 'g-0123' };
let users = 0;
/** A grant of its own user on the group, so no two scenarios share a holder. */
async function seed(overrides: Partial<Grant>): Promise<Grant> {
  const userName = `user${++users}`;
  const grant = makeGrant({ principal: { userId: `u-${users}`, userName, email: `${userName}@example.com` }, target: groupTarget, ...overrides });
  await store.create(grant);
  return grant;
}

beforeAll(async () => {
  mkdirSync(cache, { recursive: true });
  outDir = mkdtempSync(resolve(cache, 'workflow-bundles-'));
  for (const [task, { fn }] of Object.entries(TASKS)) bundles[task as LambdaTaskState] = await bundleFunction(fn, outDir);
  dynamo = await startDynamo();
  proxy = await startRacingProxy(dynamo.url);
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint: dynamo.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  await ensureGrantsTable(client, TABLE);
  store = new DynamoStore(client, { tableName: TABLE, retentionDays: 400 });
}, 120_000);

afterAll(async () => {
  await new Promise((done) => proxy?.close(done));
  await dynamo?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

describe('workflow task bundles (minified as deployed)', () => {
  it('rename our error classes: only a fixed name survives minification', () => {
    for (const task of Object.keys(TASKS) as (keyof typeof TASKS)[]) {
      const text = readFileSync(bundles[task], 'utf8');
      expect(text, task).not.toMatch(/class (ConflictError|HolderBusy|AppError)\b/);
    }
  });

  it('PrepareActivation throws HolderBusy by that name while the access is being removed', async () => {
    const grant = await seed({ status: 'APPROVED' });
    const key = assignmentKey(grant.principal, grant.target);
    await store.createHolder({ key, target: grant.target, principalId: grant.principal.userId, grantIds: [], managed: true, state: 'DELETING' });
    const { thrown } = await invoke('PrepareActivation', { grantId: grant.id, checkInSlot: true });
    expect(thrown?.name).toBe('HolderBusy');
    expect(TASK_RETRYABLE_ERRORS.PrepareActivation).toContain(thrown?.name);
  }, 60_000);

  it('PrepareActivation throws ConflictError by that name when a concurrent change keeps winning', async () => {
    const grant = await seed({ status: 'APPROVED' });
    racedGrants.add(grant.id);
    const { thrown } = await invoke('PrepareActivation', { grantId: grant.id, checkInSlot: true });
    expect(thrown?.name).toBe('ConflictError');
    expect(TASK_RETRYABLE_ERRORS.PrepareActivation).toContain(thrown?.name);
  }, 60_000);

  it('CompleteActivation throws ConflictError by that name when a concurrent change keeps winning', async () => {
    const grant = await seed({ status: 'ACTIVATING' });
    racedGrants.add(grant.id);
    const { thrown } = await invoke('CompleteActivation', { grantId: grant.id, plan: {}, result: { outcome: 'FAILED', status: { Status: 'FAILED', FailureReason: 'x' } } });
    expect(thrown?.name, thrown?.message).toBe('ConflictError');
    expect(TASK_RETRYABLE_ERRORS.CompleteActivation).toContain(thrown?.name);
  }, 60_000);

  it('BeginRevocation throws ConflictError by that name when a concurrent change keeps winning', async () => {
    const activatedAt = new Date(Date.now() - 60_000).toISOString();
    const grant = await seed({ status: 'ACTIVE', activatedAt, expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    racedGrants.add(grant.id);
    const { thrown } = await invoke('BeginRevocation', { grantId: grant.id, mode: 'early' });
    expect(thrown?.name).toBe('ConflictError');
    expect(TASK_RETRYABLE_ERRORS.BeginRevocation).toContain(thrown?.name);
  }, 60_000);

  it('retry every retryable error of ours that a task\'s bundle defines', () => {
    for (const task of Object.keys(TASKS) as (keyof typeof TASKS)[]) {
      const text = readFileSync(bundles[task], 'utf8');
      const defined = (RETRYABLE_TASK_ERRORS as readonly string[]).filter((n) => OWN_ERROR_NAMES.includes(n) && new RegExp(`\\bname\\s*=\\s*(["'\`])${n}\\1`).test(text));
      expect(defined, task).toContain('ConflictError');
      for (const name of defined) expect(TASK_RETRYABLE_ERRORS[task], `${task} can throw ${name}`).toContain(name);
    }
  });

  it('name in Retry/Catch only errors of ours that the task\'s bundle can throw', () => {
    expect(OWN_ERROR_NAMES).toEqual(expect.arrayContaining(['ConflictError', 'HolderBusy', 'SlotsBusy', 'ValidationError']));
    for (const [task, { file }] of Object.entries(TASKS) as [keyof typeof TASKS, { file: string }][]) {
      const definition = JSON.parse(readFileSync(resolve(ROOT, file), 'utf8')) as { States: Record<string, unknown> };
      const names = new Set<string>();
      visitStates(definition, (name, state) => {
        if (name !== task) return;
        const s = state as { Retry?: { ErrorEquals: string[] }[]; Catch?: { ErrorEquals: string[] }[] };
        for (const r of [...(s.Retry ?? []), ...(s.Catch ?? [])]) for (const e of r.ErrorEquals) names.add(e);
      });
      expect(names.size, task).toBeGreaterThan(0);
      const text = readFileSync(bundles[task], 'utf8');
      for (const name of [...names].filter((n) => OWN_ERROR_NAMES.includes(n))) {
        // An error class of that fixed name is in the bundle (`name="HolderBusy"` minified), not merely the string.
        const defined = new RegExp(`\\bname\\s*=\\s*(["'\`])${name}\\1`).test(text);
        expect(defined, `${task} names ${name}, which its bundle never throws`).toBe(true);
      }
    }
  });
});
