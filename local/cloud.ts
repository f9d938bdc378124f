/**
 * The local cloud: everything the production code talks to, on loopback.
 *
 *   gateway  :3000  the HTTP API routed from serverless.yml, JWT checked against a local issuer;
 *                   the issuer's sign-in (authorization code + PKCE) and, with `portal`, the web portal
 *   edge     :4566  one AWS endpoint: DynamoDB (dynalite), Step Functions (the files in
 *                   statemachines/), EventBridge Scheduler, sso-admin + identitystore +
 *                   organizations (seeded from an org fixture), SSM, Secrets Manager
 *                   (the template's secrets, generated at start as CloudFormation would),
 *                   the access portal's GetRoleCredentials and STS GetCallerIdentity
 *                   (role sessions of the org's users, checked against its SCPs)
 *                   EventBridge PutEvents (appended to events.jsonl in the data folder)
 *
 * The functions run unchanged: they get the environment serverless.yml gives them (with
 * CloudFormation references resolved to local names) plus AWS_ENDPOINT_URL, so the SDK's
 * standard endpoint setting is the only thing that points them here.
 *
 * Packaged mode (`packaged: true`) runs what would deploy instead of the sources: the zips and
 * the CloudFormation template `npm run package` built (packaging first when they are missing or
 * stale), each function in a container of its own under its role's credentials, with IAM
 * enforced on every call (local/iam/).
 */
import { CreateScheduleGroupCommand, ConflictException, SchedulerClient } from '@aws-sdk/client-scheduler';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureGrantsTable } from '../lib/adapters/table-schema.ts';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './protocol/aws.ts';
import { startDynamo, type LocalDynamo } from './dynamodb.ts';
import { DynamoFaults } from './dynamodb-faults.ts';
import { DEFAULT_EDGE_PORT, startEdge, formatEdgeLog, type Edge, type EdgeRequest } from './edge.ts';
import { importHandler, startGateway, type FrontDoorContext, type Gateway, type LambdaHandler } from './gateway.ts';
import { createIdentityCenterEmulator, knobsFromEnv, type IdentityCenterEmulator, type IdcKnobsInput } from './idc/index.ts';
import { readSnapshotFile, snapshotWriter } from './idc/persist.ts';
import { LOCAL_AUDIENCE, LOCAL_ISSUER_PATH, LocalIssuer, parseTtl } from './jwt.ts';
import type { BearerVerifier } from './idc/access-portal.ts';
import { createLocalSts } from './sts.ts';
import { DEFAULT_SIGN_IN_TOKEN_TTL_SECONDS, LOCAL_PORTAL_CLIENT_ID, LocalSignIn, type SignInUser } from './oidc.ts';
import { buildPortalInto, portalBuildFromSources, PortalSite, type BuildPortal } from './portal.ts';
import { LocalScheduler } from './scheduler/service.ts';
import { lambdaLogicalIdStem, loadServerlessConfig, resolveFunctionEnvironment, resolveIntrinsics, type FunctionConfig, type ServerlessConfig } from './serverless-config.ts';
import { startFakeSlack, type FakeSlack } from './slack/fake-slack.ts';
import { withStreams, type StreamConsumer } from './dynamodb-streams.ts';
import { LocalEventBridge } from './eventbridge.ts';
import { LocalSecretsManager } from './secretsmanager.ts';
import { LocalSsm } from './ssm.ts';
import { LocalStepFunctions } from './stepfunctions/service.ts';
import { loadStateMachinesFromServerless, registerStateMachines, stateMachinesOf } from './stepfunctions/serverless.ts';
import { ensurePackaged } from './packaged/build.ts';
import { loadPackagedConfig, packagedRoles, tableDefinitions, type PackagedConfig, type PackagedFunction } from './packaged/template.ts';
import { LambdaFunctionError, LocalLambdaRuntime } from './lambda/runtime.ts';
import { IamEnforcer, type RoleSession } from './iam/enforcer.ts';
import { ensureTable } from '../lib/adapters/table-schema.ts';

export const ROOT = path.resolve(import.meta.dirname, '..');

export interface LocalCloudOptions {
  /** Folder for persisted state (tables, schedules, Identity Center, issuer key). `undefined`: `.local-data`; `false`: in memory. */
  dataDir?: string | false;
  /** Start empty: remove the persisted state first. */
  fresh?: boolean;
  /** Gateway port (default PORT or 3000; 0 = any free port). */
  port?: number;
  /** Edge port (default EDGE_PORT or 4566; 0 = any free port). */
  edgePort?: number;
  /** Org fixture (default LOCAL_ORG or local/org.example.yaml). */
  orgFixture?: string;
  /** Policy file the functions load (default LOCAL_POLICY or config/policy.local.yaml). */
  policyFile?: string;
  idcKnobs?: IdcKnobsInput;
  /** Scheduler firing delay after the at() time, ms (default uniform 0–59 s, as AWS). */
  schedulerFiringDelayMs?: () => number;
  /** Scheduler fault injection: deliver some fires twice (at-least-once) or lose them. */
  schedulerFaults?: { duplicateDeliveryRate?: number; loseRate?: number };
  /** Pause of each Step Functions Retry, ms (default: the definition's own intervals). */
  retryIntervalMs?: number;
  /** Extra SSM parameters (Slack secrets). */
  ssmSeed?: Record<string, string>;
  /** Extra environment for every function (e.g. SLACK_API_URL). */
  functionEnv?: Record<string, string>;
  /** Run the functions that have `schedule: rate(...)` events on their rate (default true). */
  scheduledFunctions?: boolean;
  /** Run a fake Slack Web API (default true): the Slack functions post to it and it records every call. */
  slack?: boolean;
  /** One line per request / state transition; default stdout. `false`: quiet. */
  log?: ((line: string) => void) | false;
  /** Called with every AWS request the edge serves: service, operation and parsed input (e.g. to count requests by key). */
  observe?: (request: EdgeRequest) => void;
  /**
   * Run the packaged artifacts (zips and template from `npm run package`, packaging first when
   * missing or stale) with IAM enforced, instead of the sources. Default: LOCAL_PACKAGED=1.
   */
  packaged?: boolean;
  /** Packaged mode: run this package folder as it is (no packaging), e.g. a template a test changed. */
  packageDir?: string;
  /** The deploy parameter sessionRevocation (from sources only; default off, as in AWS). */
  sessionRevocation?: 'off' | 'scp';
  /** The stage serverless.yml is read with, which names every resource (default `local`; from sources only). */
  stage?: string;
  /**
   * The functions (serverless.yml keys) the cloud runs: as Step Functions tasks, routes, stream
   * consumers and rate rules. Default: all. `[]`: the AWS services alone, for tests that run
   * the code in-process themselves.
   */
  functions?: readonly string[];
  /**
   * Functions (by serverless.yml key) served by these handlers instead of their code, e.g. a
   * test's own, bound to the runtime it inspects. Step Functions tasks, routes and rules call them.
   */
  handlers?: Record<string, LambdaHandler>;
  /** Lifetime of the tokens the local sign-in issues (default LOCAL_SIGN_IN_TTL, e.g. `5m`, else 1 h). */
  signInTokenTtlSeconds?: number;
  /**
   * Serve the web portal on the gateway's port (built into `<dataDir>/portal` or a temporary
   * folder at start): `true` builds portal/ when this checkout has it; `{ build }` uses that
   * build instead. Default false (`npm start` turns it on).
   */
  portal?: boolean | { build: BuildPortal };
}

export interface LocalCloud {
  gatewayUrl: string;
  edgeUrl: string;
  config: ServerlessConfig;
  idc: IdentityCenterEmulator;
  stepFunctions: LocalStepFunctions;
  scheduler: LocalScheduler;
  dynamo: LocalDynamo;
  /** Fault injection on DynamoDB requests through the edge (off until set). */
  dynamoFaults: DynamoFaults;
  /** EventBridge PutEvents: every accepted event, also appended to `events.jsonl` in the data folder. */
  eventBridge: LocalEventBridge;
  /** The deployment's secrets (AWS::SecretsManager::Secret resources), created with fresh values at each start. */
  secretsManager: LocalSecretsManager;
  issuer: LocalIssuer;
  /** The issuer's sign-in endpoints (authorization code + PKCE), for the seeded users. */
  signIn: LocalSignIn;
  /** The web portal being served, when it is. */
  portal?: { dir: string; clientId: string };
  /** The environment each function runs with (merged over all functions). */
  functionEnv: Record<string, string>;
  tableName: string;
  stateMachineArns: Record<string, string>;
  /** Running the packaged artifacts with IAM enforced. */
  packaged: boolean;
  /** Packaged mode: the enforcer every call is checked by. */
  iam?: IamEnforcer;
  /** The fake Slack Web API and the signing secret Slack requests must be signed with. */
  slack?: { api: FakeSlack; signingSecret: string; userIdOf(email: string): string };
  /** A bearer token for a seeded user. */
  token(email: string, ttlSeconds?: number): Promise<string>;
  /** Invokes a function as Lambda would (a rule's event, a test's direct call). */
  invoke(functionName: string, event: unknown): Promise<unknown>;
  /** Stops everything and gives this process back the environment it had before the start. */
  stop(): Promise<void>;
}

function envPort(name: string, fallback: number): number {
  const raw = process.env[name];
  return raw && /^\d+$/.test(raw) ? Number(raw) : fallback;
}

export function functionArn(config: ServerlessConfig, fn: FunctionConfig): string {
  return resolveIntrinsics({ 'Fn::GetAtt': [`${lambdaLogicalIdStem(fn.name)}LambdaFunction`, 'Arn'] }, config) as string;
}

export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const log = options.log === false ? () => undefined : (options.log ?? ((line: string) => console.log(line)));
  const dataDir = options.dataDir === false ? undefined : path.resolve(options.dataDir ?? process.env.LOCAL_DATA_DIR ?? path.join(ROOT, '.local-data'));
  if (dataDir && options.fresh) {
    // Keep the issuer key so tokens printed earlier stay valid; everything else starts empty.
    for (const entry of ['dynamodb', 'schedules.json', 'identity-center.json', 'events.jsonl']) rmSync(path.join(dataDir, entry), { recursive: true, force: true });
  }
  if (dataDir) mkdirSync(dataDir, { recursive: true });

  // Functions and SDK clients in this process find the local cloud through the standard settings.
  const processEnv = processEnvironment();
  processEnv.setDefaults({ AWS_REGION: LOCAL_REGION, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });

  const policyFile = path.resolve(options.policyFile ?? process.env.LOCAL_POLICY ?? path.join(ROOT, 'config/policy.local.yaml'));
  const packagedMode = options.packaged ?? process.env.LOCAL_PACKAGED === '1';
  const packaged: PackagedConfig | undefined = packagedMode ? loadPackagedConfig(options.packageDir ?? (await ensurePackaged(ROOT, log))) : undefined;
  // Deploy parameters as `--param` would give them: the policy file, and session revocation (off unless asked for).
  const params = { policyFile: path.relative(ROOT, policyFile), sessionRevocation: options.sessionRevocation ?? 'off' };
  const config = packaged ?? loadServerlessConfig({ file: path.join(ROOT, 'serverless.yml'), stage: options.stage ?? 'local', params });

  const orgFixture = path.resolve(options.orgFixture ?? process.env.LOCAL_ORG ?? path.join(ROOT, 'local/org.example.yaml'));
  const idcStateFile = dataDir ? path.join(dataDir, 'identity-center.json') : undefined;
  const snapshot = idcStateFile ? readSnapshotFile(idcStateFile) : undefined;
  let persistIdc: { onChange(): void; flush(): void } | undefined;
  const idc = createIdentityCenterEmulator({
    fixture: orgFixture,
    knobs: { ...knobsFromEnv(), ...options.idcKnobs },
    ...(snapshot ? { snapshot } : {}),
    onChange: () => persistIdc?.onChange(),
  });
  if (idcStateFile) persistIdc = snapshotWriter(idcStateFile, () => idc.snapshot());

  const dynamo = await startDynamo(dataDir ? { path: path.join(dataDir, 'dynamodb') } : {});
  // Nothing of them is persisted: a new key each start only sends open cursors back to the first page.
  const secretsManager = new LocalSecretsManager();
  createTemplateSecrets(config, secretsManager);
  const iam = packaged ? enforcerFor(packaged, idc, secretsManager) : undefined;
  const stepFunctionsSession = (roleArn: string): RoleSession => ({ roleArn, sessionName: 'local-step-functions' });
  const stepFunctions = new LocalStepFunctions({
    log,
    ...(options.retryIntervalMs !== undefined ? { retryIntervalMs: options.retryIntervalMs } : {}),
    ...(iam
      ? {
          iam: {
            taskCredentials: (roleArn, credentialsRoleArn) =>
              credentialsRoleArn ? iam.assumeRole(stepFunctionsSession(roleArn), credentialsRoleArn, 'local-step-functions') : iam.credentialsFor(roleArn, 'local-step-functions'),
            deniedInvoke: (roleArn, functionArn) => iam.denied(stepFunctionsSession(roleArn), { action: 'lambda:InvokeFunction', resource: functionArn }),
          },
        }
      : {}),
  });
  const scheduler = new LocalScheduler({
    ...(iam
      ? {
          iam: {
            credentialsFor: (roleArn: string) => iam.assumeRole({ service: 'scheduler.amazonaws.com' }, roleArn, 'local-scheduler'),
            deniedInvoke: (roleArn: string, functionArn: string) => iam.denied({ roleArn, sessionName: 'local-scheduler' }, { action: 'lambda:InvokeFunction', resource: functionArn }),
          },
        }
      : {}),
    ...(dataDir ? { statePath: path.join(dataDir, 'schedules.json') } : {}),
    ...(options.schedulerFiringDelayMs ? { firingDelayMs: options.schedulerFiringDelayMs } : {}),
    invokeLambda: (arn, payload) => stepFunctions.invokeFunction(arn, payload),
    ...options.schedulerFaults,
    log,
  });
  // Every function's environment, as Lambda would see it; from sources, merged into this process.
  const environmentOf = new Map<string, Record<string, string>>();
  const functionEnv: Record<string, string> = {};
  for (const fn of Object.values(config.functions)) {
    environmentOf.set(fn.name, resolveFunctionEnvironment(config, fn));
    Object.assign(functionEnv, environmentOf.get(fn.name));
  }
  Object.assign(functionEnv, { POLICY_PATH: policyFile, ...(packaged ? {} : { POWERTOOLS_DEV: 'true' }), ...(options.log === false ? { POWERTOOLS_LOG_LEVEL: 'SILENT' } : {}) });
  /** What the local cloud sets besides the template's variables: endpoints, Slack's fake API, quiet logs. */
  const localOverrides: Record<string, string> = options.log === false ? { POWERTOOLS_LOG_LEVEL: 'SILENT' } : {};

  // Slack: a fake Web API that knows the demo users (Slack id U<USERNAME>), secrets in the local SSM.
  const ssmSeed: Record<string, string> = { ...options.ssmSeed };
  let slack: LocalCloud['slack'];
  if (options.slack !== false && functionEnv.SLACK_SIGNING_SECRET_PARAM && functionEnv.SLACK_BOT_TOKEN_PARAM) {
    const signingSecret = 'local-slack-signing-secret';
    const botToken = 'xoxb-local-bot-token';
    const userIdOf = (email: string) => `U${(idc.fixture.users.find((u) => u.email.toLowerCase() === email.toLowerCase())?.userName ?? email).toUpperCase()}`;
    const api = await startFakeSlack({ botToken, users: idc.fixture.users.map((u) => ({ id: userIdOf(u.email), name: u.userName, email: u.email })) });
    ssmSeed[functionEnv.SLACK_SIGNING_SECRET_PARAM] = signingSecret;
    ssmSeed[functionEnv.SLACK_BOT_TOKEN_PARAM] = botToken;
    functionEnv.SLACK_API_URL = api.apiUrl;
    functionEnv.SLACK_APPROVALS_CHANNEL ||= '#jit-approvals';
    Object.assign(localOverrides, { SLACK_API_URL: api.apiUrl, SLACK_APPROVALS_CHANNEL: functionEnv.SLACK_APPROVALS_CHANNEL });
    slack = { api, signingSecret, userIdOf };
  }
  Object.assign(functionEnv, options.functionEnv);
  Object.assign(localOverrides, options.functionEnv);
  if (!packaged) processEnv.set(functionEnv);

  const ssm = new LocalSsm({ seed: ssmSeed });
  const eventBridge = new LocalEventBridge({
    ...(dataDir ? { file: path.join(dataDir, 'events.jsonl') } : {}),
    ...(functionEnv.EVENT_BUS_NAME ? { buses: [functionEnv.EVENT_BUS_NAME] } : {}),
  });
  // Functions subscribed to the table's stream (serverless.yml `stream` events) get its records.
  const streamConsumers: StreamConsumer[] = [];
  const dynamoFaults = new DynamoFaults();
  // The access portal accepts the gateway's tokens: its issuer is known once the gateway listens.
  let verifyBearer: BearerVerifier = () => Promise.reject(new Error('the gateway has not started'));
  const edge: Edge = await startEdge({
    port: options.edgePort ?? envPort('EDGE_PORT', DEFAULT_EDGE_PORT),
    jsonServices: [stepFunctions, ssm, secretsManager, eventBridge, ...idc.services],
    restServices: [scheduler, idc.accessPortal((token) => verifyBearer(token))],
    queryServices: [createLocalSts(idc.sessions)],
    dynamodb: withStreams(dynamo, () => streamConsumers, log),
    ...(iam ? { authorize: (call) => iam.authorizeEdgeCall(call) } : {}),
    log: (entry) => log(formatEdgeLog(entry)),
    dropDynamo: (operation, input) => dynamoFaults.drops(operation, input),
    ...(options.observe ? { observe: options.observe } : {}),
  });
  stepFunctions.setSdkEndpoint(edge.url);
  scheduler.setSfnEndpoint(edge.url);
  processEnv.set({ AWS_ENDPOINT_URL: edge.url });
  const tableName = functionEnv.GRANTS_TABLE ?? `${config.service}-${config.stage}-grants`;

  const clientConfig = { endpoint: edge.url, region: LOCAL_REGION };
  const ddb = new DynamoDBClient(clientConfig);
  if (packaged) for (const definition of tableDefinitions(packaged)) await ensureTable(ddb, definition);
  else await ensureGrantsTable(ddb, tableName);
  ddb.destroy();
  if (functionEnv.SCHEDULE_GROUP) {
    const sched = new SchedulerClient(clientConfig);
    try {
      await sched.send(new CreateScheduleGroupCommand({ Name: functionEnv.SCHEDULE_GROUP }));
    } catch (err) {
      if (!(err instanceof ConflictException)) throw err;
    }
    sched.destroy();
  }

  // Lambda functions: the handlers, loaded on first use, behind their deployed ARNs.
  const lambdaRuntime = packaged
    ? new LocalLambdaRuntime({
        sdkNodeModules: path.join(ROOT, 'node_modules'),
        region: config.region,
        accountId: LOCAL_ACCOUNT_ID,
        ...(options.log === false ? {} : { log }),
      })
    : undefined;
  const handlers = new Map<string, Promise<LambdaHandler>>();
  const served = (fn: FunctionConfig) => !options.functions || options.functions.includes(fn.name);
  const handlerOf = (fn: FunctionConfig) => {
    if (!served(fn)) return Promise.reject(new Error(`${fn.name} is not among the functions this local cloud runs`));
    let h = handlers.get(fn.name);
    if (!h) {
      const given = options.handlers?.[fn.name];
      h = given
        ? Promise.resolve(given)
        : lambdaRuntime && iam
          ? Promise.resolve(packagedHandler(lambdaRuntime, iam, config, fn as PackagedFunction, { ...environmentOf.get(fn.name), ...localOverrides, AWS_ENDPOINT_URL: edge.url }, policyFile))
          : importHandler(fn).then((handler) => withTimeout(handler, fn));
      handlers.set(fn.name, h);
    }
    return h;
  };
  // EventBridge rules: functions with `schedule: rate(...)` events run on that rate (sweeper, reconciler).
  const timers: NodeJS.Timeout[] = [];
  for (const fn of Object.values(config.functions)) {
    if (!served(fn)) continue;
    if (!existsSync(packaged ? (fn as PackagedFunction).artifact : fn.handler.file)) continue;
    const invoke = async (event: unknown, context: unknown) => (await handlerOf(fn))(event, context as never);
    stepFunctions.registerLambda(functionArn(config, fn), invoke);
    stepFunctions.registerLambda(fn.lambdaName, invoke);
    for (const event of fn.events) {
      const stream = (event as { stream?: { type?: string; filterPatterns?: unknown[]; maximumRetryAttempts?: number } }).stream;
      if (stream?.type === 'dynamodb') {
        if (iam) assertStreamReadable(iam, config, fn as PackagedFunction, (stream as { arn?: string }).arn ?? '');
        streamConsumers.push({
          name: fn.name,
          ...(stream.filterPatterns ? { filterPatterns: stream.filterPatterns } : {}),
          ...(typeof stream.maximumRetryAttempts === 'number' ? { maximumRetryAttempts: stream.maximumRetryAttempts } : {}),
          handle: (e) => invoke(e, {}),
        });
      }
      const rule = (event as { schedule?: unknown }).schedule;
      const every = options.scheduledFunctions === false ? undefined : rateMs(typeof rule === 'string' ? rule : (rule as { rate?: unknown } | undefined)?.rate);
      if (every) {
        const timer = setInterval(() => {
          const scheduledEvent = { version: '0', id: `local-${Date.now()}`, 'detail-type': 'Scheduled Event', source: 'aws.events', account: LOCAL_ACCOUNT_ID, time: new Date().toISOString(), region: LOCAL_REGION, resources: [], detail: {} };
          invoke(scheduledEvent, { getRemainingTimeInMillis: () => fn.timeoutSeconds * 1000 }).then(
            (result) => log(`[rule] ${fn.name} ${JSON.stringify(result)?.slice(0, 300) ?? ''}`),
            (err: unknown) => log(`[rule] ${fn.name} failed: ${(err as Error).message}`),
          );
        }, every);
        timer.unref();
        timers.push(timer);
      }
    }
  }

  const resolve = (logicalId: string, attribute?: string) =>
    resolveIntrinsics(attribute ? { 'Fn::GetAtt': [logicalId, attribute] } : { Ref: logicalId }, config) as string;
  const machines = packaged
    ? stateMachinesOf(packaged)
    : loadStateMachinesFromServerless(config.file, { resolve, stage: config.stage, params });
  // CreateStateMachine refuses a role Step Functions cannot assume.
  if (iam) for (const m of machines) iam.assumeRole({ service: 'states.amazonaws.com' }, m.roleArn ?? '', 'local-step-functions');
  const stateMachineArns = registerStateMachines(stepFunctions, machines);

  const issuer = await LocalIssuer.open(dataDir ?? path.join(ROOT, '.local-data'));
  const signIn = new LocalSignIn({
    issuer,
    users: signInUsers(idc),
    tokenTtlSeconds: options.signInTokenTtlSeconds ?? (process.env.LOCAL_SIGN_IN_TTL ? parseTtl(process.env.LOCAL_SIGN_IN_TTL) : DEFAULT_SIGN_IN_TOKEN_TTL_SECONDS),
  });
  const portalSite = options.portal ? await startPortalSite(options.portal, dataDir, functionEnv.SSO_START_URL || accessPortalUrl(idc), log) : undefined;
  const gateway: Gateway = await startGateway({
    // Without a port the gateway takes PORT as `npm run token` reads it (else 3000).
    ...(options.port !== undefined ? { port: options.port } : {}),
    serverlessYml: config,
    loadHandler: (_name, fn) => handlerOf(fn),
    jwt: { localIssuer: issuer },
    log,
    frontDoors: [
      (req, res, rawPath, rawQueryString, ctx) => (rawPath.startsWith(`${LOCAL_ISSUER_PATH}/`) ? signIn.handle(req, res, rawPath, rawQueryString, ctx) : undefined),
      ...(portalSite ? [(req: IncomingMessage, res: ServerResponse, rawPath: string, _query: string, ctx: FrontDoorContext) => portalSite.site.handle(req, res, rawPath, ctx)] : []),
    ],
  });
  verifyBearer = async (token) => {
    const claims = await issuer.verify(token, { issuer: gateway.issuer, audience: LOCAL_AUDIENCE });
    if (typeof claims.email !== 'string') throw new Error('the token has no email claim');
    return { email: claims.email };
  };
  await scheduler.start();

  return {
    gatewayUrl: gateway.url,
    edgeUrl: edge.url,
    config,
    idc,
    stepFunctions,
    scheduler,
    dynamo,
    dynamoFaults,
    eventBridge,
    secretsManager,
    issuer,
    signIn,
    ...(portalSite ? { portal: { dir: portalSite.site.dir, clientId: LOCAL_PORTAL_CLIENT_ID } } : {}),
    functionEnv,
    tableName,
    stateMachineArns,
    packaged: packaged !== undefined,
    ...(iam ? { iam } : {}),
    ...(slack ? { slack } : {}),
    token: (email, ttlSeconds = 3600) => issuer.sign(userClaimsFor(idc, email), { issuer: gateway.issuer, ttlSeconds }),
    async invoke(functionName, event) {
      const fn = config.functions.find((f) => f.name === functionName);
      if (!fn) throw new Error(`no function ${functionName} in ${config.file}`);
      return stepFunctions.invokeFunction(fn.lambdaName, event);
    },
    async stop() {
      for (const t of timers) clearInterval(t);
      await gateway.close();
      await scheduler.stop();
      await stepFunctions.close();
      await lambdaRuntime?.close();
      await edge.close();
      await dynamo.close();
      await slack?.api.stop();
      await portalSite?.cleanUp();
      persistIdc?.flush();
      processEnv.restore();
    },
  };
}

/** Changes to process.env, undone by `restore()` (a value another part changed since is overwritten too). */
function processEnvironment() {
  const before = new Map<string, string | undefined>();
  const remember = (name: string) => {
    if (!before.has(name)) before.set(name, process.env[name]);
  };
  return {
    set(values: Record<string, string>) {
      for (const [name, value] of Object.entries(values)) {
        remember(name);
        process.env[name] = value;
      }
    },
    setDefaults(values: Record<string, string>) {
      for (const [name, value] of Object.entries(values)) {
        remember(name);
        process.env[name] ??= value;
      }
    },
    restore() {
      for (const [name, value] of before) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      before.clear();
    },
  };
}

/** `rate(5 minutes)` → 300000; other expressions (cron) are not run locally. */
export function rateMs(expression: unknown): number | undefined {
  const m = typeof expression === 'string' ? /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim()) : null;
  if (!m) return undefined;
  const unit = m[2]!.startsWith('minute') ? 60_000 : m[2]!.startsWith('hour') ? 3_600_000 : 86_400_000;
  return Number(m[1]) * unit;
}

function userClaimsFor(idc: IdentityCenterEmulator, email: string) {
  const user = idc.fixture.users.find((u) => u.email.toLowerCase() === email.toLowerCase());
  return { email, ...(user ? { username: user.userName } : {}) };
}

export { LOCAL_ACCOUNT_ID };

/** The seeded Identity Store users the sign-in page lists, with the groups the fixture gives them. */
function signInUsers(idc: IdentityCenterEmulator): SignInUser[] {
  const { users, groups, memberships } = idc.fixture;
  return users.map((u) => ({
    email: u.email,
    userName: u.userName,
    displayName: u.displayName,
    groups: memberships.filter((m) => m.userId === u.id).map((m) => groups.find((g) => g.id === m.groupId)?.displayName ?? m.groupId),
  }));
}

/** The AWS access portal URL of the local Identity Store, in the form AWS gives it (`https://<identity store id>.awsapps.com/start`). */
function accessPortalUrl(idc: IdentityCenterEmulator): string {
  return `https://${idc.fixture.instance.identityStoreId}.awsapps.com/start`;
}

/** Builds the portal (the given build, else portal/build.ts) into the data folder or a temporary one. */
async function startPortalSite(
  portal: true | { build: BuildPortal },
  dataDir: string | undefined,
  ssoStartUrl: string,
  log: (line: string) => void,
): Promise<{ site: PortalSite; cleanUp(): Promise<void> } | undefined> {
  const build = portal === true ? await portalBuildFromSources() : portal.build;
  if (!build) {
    log('web portal: not served (this checkout has no portal/build.ts)');
    return undefined;
  }
  const temporary = dataDir ? undefined : await mkdtemp(path.join(tmpdir(), 'portal-'));
  const dir = temporary ?? path.join(dataDir!, 'portal');
  await buildPortalInto(dir, build);
  return {
    site: new PortalSite({ dir, clientId: LOCAL_PORTAL_CLIENT_ID, ssoStartUrl }),
    cleanUp: async () => {
      if (temporary) await rm(temporary, { recursive: true, force: true });
    },
  };
}

/** IAM for a packaged deployment: its roles, the org facts and the secrets' ARNs the action table needs. */
function enforcerFor(packaged: PackagedConfig, idc: IdentityCenterEmulator, secrets: LocalSecretsManager): IamEnforcer {
  return new IamEnforcer({
    roles: packagedRoles(packaged),
    accountId: LOCAL_ACCOUNT_ID,
    environment: () => ({
      organization: { id: idc.fixture.organization.id, managementAccountId: idc.fixture.organization.managementAccountId },
      permissionSetName: (arn: string) => idc.fixture.permissionSets.find((p) => p.arn === arn)?.name,
      secretArn: (secretId: string, region: string, accountId: string) => secrets.arnOf(secretId, region, accountId),
      organizationsTags: (resourceId: string) => idc.organizationPolicies.resourceTags(resourceId),
    }),
  });
}

/**
 * The deployment's AWS::SecretsManager::Secret resources (serverless.yml's `resources` from the
 * sources, the template's in packaged mode), created as CloudFormation would: a value generated
 * per GenerateSecretString (or the given SecretString), at the ARN their `Ref` resolves to, so
 * the functions' environment names them.
 */
function createTemplateSecrets(config: ServerlessConfig, secrets: LocalSecretsManager): void {
  for (const [logicalId, resource] of Object.entries(config.resources.Resources)) {
    if (resource.Type !== 'AWS::SecretsManager::Secret') continue;
    if (resource.Condition !== undefined && !resolveIntrinsics({ Condition: resource.Condition }, config)) continue;
    const props = resolveIntrinsics(resource.Properties ?? {}, config) as Parameters<LocalSecretsManager['createFromTemplate']>[1];
    secrets.createFromTemplate(String(resolveIntrinsics({ Ref: logicalId }, config)), props);
  }
}

/**
 * A packaged function behind the local Lambda runtime: its container gets the template's
 * environment, the local endpoints, and credentials of its role (which must trust Lambda).
 * The chosen policy file takes the place of the packaged one, as `--param policyFile=` would.
 */
function packagedHandler(
  runtime: LocalLambdaRuntime,
  iam: IamEnforcer,
  config: ServerlessConfig,
  fn: PackagedFunction,
  environment: Record<string, string>,
  policyFile: string,
): LambdaHandler {
  const roleArn = String(resolveIntrinsics(fn.role, config));
  const credentials = iam.assumeRole({ service: 'lambda.amazonaws.com' }, roleArn, fn.lambdaName);
  const policyPath = environment.POLICY_PATH;
  return runtime.register({
    name: fn.name,
    lambdaName: fn.lambdaName,
    artifact: fn.artifact,
    handler: fn.handler.reference,
    timeoutSeconds: fn.timeoutSeconds,
    memorySize: fn.memorySize,
    environment: {
      ...environment,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_SESSION_TOKEN: credentials.sessionToken,
    },
    ...(policyPath && !path.isAbsolute(policyPath) ? { overlay: { [policyPath]: policyFile } } : {}),
  });
}

/** Lambda reads a stream with the function's role; CloudFormation refuses the mapping when it cannot. */
function assertStreamReadable(iam: IamEnforcer, config: ServerlessConfig, fn: PackagedFunction, streamArn: string): void {
  const session = { roleArn: String(resolveIntrinsics(fn.role, config)), sessionName: fn.lambdaName };
  for (const action of ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator']) {
    const denied = iam.denied(session, { action, resource: streamArn });
    if (denied) throw new Error(`${fn.name} cannot read the table's stream, so its event source mapping would not deploy: ${denied}`);
  }
}

/** A handler run from sources fails at the function's timeout as Lambda reports it (`Sandbox.Timedout`); its work is not stopped. */
function withTimeout(handler: LambdaHandler, fn: FunctionConfig): LambdaHandler {
  return (event, context) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new LambdaFunctionError('Sandbox.Timedout', `RequestId: ${context?.awsRequestId ?? 'local'} Error: Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds`, [])),
        fn.timeoutSeconds * 1000,
      );
      Promise.resolve()
        .then(() => handler(event, context))
        .then(resolve, reject)
        .finally(() => clearTimeout(timer));
    });
}
