/**
 * Local EventBridge Scheduler (restJson1, signing name `scheduler`).
 *
 * API: Create/Get/Update/Delete/ListSchedules and schedule groups, with AWS's error codes.
 * Firing: `at()` schedules fire at their time plus a firing delay that models the service's
 * 60 s precision (default uniform 0–59 s). Targets: a state machine ARN (StartExecution with
 * Target.Input) and the universal target `arn:aws:scheduler:::aws-sdk:sfn:startExecution`
 * (Target.Input holds the StartExecution parameters, so the schedule names the execution).
 * A failed delivery is retried per RetryPolicy, then sent to the DeadLetterConfig queue,
 * which is a list here (there is no local SQS). ActionAfterCompletion DELETE removes the
 * schedule once its invocation is done. Schedules persist to a JSON file when `statePath`
 * is given; overdue ones fire on `start()`.
 *
 * Time is injectable (`now`, `timer`) so tests drive firing with `runDue()` and no real waits.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import {
  AwsError,
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
  epochSeconds,
  optionalString,
  pageAnswer,
  parseJsonBody,
  requireString,
  type JsonServiceContext,
  type PageLimits,
  type RestRequest,
  type RestResponse,
  type RestService,
} from '../protocol/aws.ts';
import { InvalidExpression, assertTimeZone, parseScheduleExpression } from './expression.ts';

export const UNIVERSAL_SFN_START_EXECUTION = 'arn:aws:scheduler:::aws-sdk:sfn:startExecution';
const DEFAULT_RETRY_POLICY = { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 };
const MAX_TIMER_MS = 2_147_483_647;
/** The List* operations' page size: MaxResults up to 100, clamped. */
const PAGE_LIMITS: PageLimits = { defaultMax: 100, maxMax: 100 };
const pageRequest = (query: URLSearchParams) => ({ maxResults: query.get('MaxResults'), nextToken: query.get('NextToken') });

export interface ScheduleTarget {
  Arn: string;
  RoleArn: string;
  Input?: string;
  RetryPolicy?: { MaximumEventAgeInSeconds?: number; MaximumRetryAttempts?: number };
  DeadLetterConfig?: { Arn?: string };
  [other: string]: unknown;
}

export interface StoredSchedule {
  Name: string;
  GroupName: string;
  Arn: string;
  ScheduleExpression: string;
  ScheduleExpressionTimezone: string;
  State: 'ENABLED' | 'DISABLED';
  FlexibleTimeWindow: { Mode: 'OFF' | 'FLEXIBLE'; MaximumWindowInMinutes?: number };
  Target: ScheduleTarget;
  ActionAfterCompletion: 'NONE' | 'DELETE';
  Description?: string;
  StartDate?: number;
  EndDate?: number;
  KmsKeyArn?: string;
  CreationDate: number;
  LastModificationDate: number;
  /** Firing state (local only). Epoch ms of the at() time; undefined for rate/cron. */
  scheduledAt?: number;
  /** When the next delivery attempt is due (scheduled time + firing delay, or a retry). */
  dueAt?: number;
  /** Delivery attempts that failed so far. */
  failedAttempts: number;
  /** The one-time invocation is over (delivered, or given up and dead-lettered). */
  completed: boolean;
  /** One id per invocation, as in `<aws.scheduler.execution-id>`. */
  executionId?: string;
}

interface StoredGroup {
  Name: string;
  Arn: string;
  CreationDate: number;
  LastModificationDate: number;
}

export interface DeadLetter {
  queueArn: string;
  /** The payload the target would have received. */
  body: string;
  attributes: Record<string, string>;
  sentAt: number;
}

export interface StartExecutionRequest {
  stateMachineArn: string;
  name?: string;
  input: string;
}

export type StartExecutionFn = (request: StartExecutionRequest) => Promise<{ executionArn?: string }>;

export interface SchedulerTimer {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface LocalSchedulerOptions {
  region?: string;
  accountId?: string;
  /** Epoch ms; default Date.now. */
  now?: () => number;
  /** Arms a wake-up for the next due schedule. `false`: never; the caller drives `runDue()`. */
  timer?: SchedulerTimer | false;
  /** Delay added to each at() time (ms). Default uniform 0–59 s, the service's documented precision. */
  firingDelayMs?: () => number;
  /** Pause before retry `attempt` (1-based). Default exponential: 2, 4, 8 ... capped at 60 s. */
  retryDelayMs?: (attempt: number) => number;
  /** How a Step Functions target is started. Default: the real SFNClient at `sfnEndpoint`. */
  startExecution?: StartExecutionFn;
  sfnEndpoint?: string | (() => string);
  /** Lambda function targets. Scheduler invokes them asynchronously (InvocationType Event):
   *  delivery succeeds once the call is handed over; a failing function is logged, not retried here. */
  invokeLambda?: (functionArn: string, payload: unknown) => Promise<unknown>;
  /**
   * IAM (packaged mode): deliveries run as the schedule's execution role, which must trust
   * scheduler.amazonaws.com and be allowed the target's action.
   */
  iam?: SchedulerIam;
  /** JSON file the schedules persist to (written after every change). */
  statePath?: string;
  /** Fault knobs for invariant tests: deliver some invocations twice (at-least-once) or lose them. */
  duplicateDeliveryRate?: number;
  loseRate?: number;
  random?: () => number;
  log?: (line: string) => void;
}

export interface SchedulerIam {
  /** The execution role's credentials; throws an AwsError (AccessDenied) when Scheduler may not assume it. */
  credentialsFor(roleArn: string): { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** AWS's AccessDenied message when the role may not invoke the function, else undefined. */
  deniedInvoke(roleArn: string, functionArn: string): string | undefined;
}

interface PersistedState {
  version: 1;
  groups: StoredGroup[];
  schedules: StoredSchedule[];
  deadLetters: DeadLetter[];
}

class DeliveryError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export class LocalScheduler implements RestService {
  readonly signingName = 'scheduler';
  private readonly region: string;
  private readonly accountId: string;
  private readonly now: () => number;
  private readonly timer: SchedulerTimer | false;
  private readonly firingDelayMs: () => number;
  private readonly retryDelayMs: (attempt: number) => number;
  private readonly random: () => number;
  private readonly log: (line: string) => void;
  private readonly groups = new Map<string, StoredGroup>();
  /** Key: `${group}/${name}`. */
  private readonly schedules = new Map<string, StoredSchedule>();
  private readonly deadLetterList: DeadLetter[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly delivering = new Set<string>();
  private timerHandle: unknown;
  private started = false;
  private readonly sfnClients = new Map<string, SFNClient>();
  private sfnEndpoint: string | (() => string) | undefined;

  constructor(private readonly options: LocalSchedulerOptions = {}) {
    this.region = options.region ?? LOCAL_REGION;
    this.accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
    this.now = options.now ?? Date.now;
    this.timer = options.timer ?? { set: (fn, ms) => setTimeout(fn, ms).unref(), clear: (h) => clearTimeout(h as NodeJS.Timeout) };
    this.random = options.random ?? Math.random;
    this.firingDelayMs = options.firingDelayMs ?? (() => Math.floor(this.random() * 60) * 1000);
    this.retryDelayMs = options.retryDelayMs ?? ((attempt) => Math.min(2 ** attempt, 60) * 1000);
    this.log = options.log ?? ((line) => console.log(line));
    this.sfnEndpoint = options.sfnEndpoint;
    const defaultGroup = { Name: 'default', Arn: this.groupArn('default'), CreationDate: this.now(), LastModificationDate: this.now() };
    this.groups.set('default', defaultGroup);
    if (options.statePath && existsSync(options.statePath)) {
      this.restore(JSON.parse(readFileSync(options.statePath, 'utf8')) as PersistedState);
    }
  }

  setSfnEndpoint(endpoint: string | (() => string)): void {
    this.sfnEndpoint = endpoint;
  }

  /** Starts firing: overdue schedules (e.g. missed while stopped) fire now. */
  start(): Promise<void> {
    this.started = true;
    return this.runDue();
  }

  /** Stops the timer and waits for deliveries in flight. */
  async stop(): Promise<void> {
    this.started = false;
    if (this.timer && this.timerHandle !== undefined) this.timer.clear(this.timerHandle);
    this.timerHandle = undefined;
    await this.idle();
    for (const client of this.sfnClients.values()) client.destroy();
    this.sfnClients.clear();
  }

  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Delivers every invocation due at `now()`; resolves when those deliveries have settled. */
  async runDue(): Promise<void> {
    const now = this.now();
    const started: Promise<void>[] = [];
    for (const [key, schedule] of this.schedules) {
      if (schedule.State !== 'ENABLED' || schedule.completed || schedule.dueAt === undefined) continue;
      if (schedule.dueAt > now || this.delivering.has(key)) continue;
      this.delivering.add(key);
      const delivery = this.invoke(key, schedule).finally(() => {
        this.delivering.delete(key);
        this.inFlight.delete(delivery);
      });
      this.inFlight.add(delivery);
      started.push(delivery);
    }
    await Promise.all(started);
    this.arm();
  }

  /** Dead letters, all or for one queue ARN. */
  deadLetters(queueArn?: string): DeadLetter[] {
    return this.deadLetterList.filter((d) => !queueArn || d.queueArn === queueArn);
  }

  listStoredSchedules(): StoredSchedule[] {
    return [...this.schedules.values()].map((s) => structuredClone(s));
  }

  snapshot(): PersistedState {
    return structuredClone({
      version: 1 as const,
      groups: [...this.groups.values()],
      schedules: [...this.schedules.values()],
      deadLetters: this.deadLetterList,
    });
  }

  restore(state: PersistedState): void {
    for (const g of state.groups ?? []) this.groups.set(g.Name, g);
    for (const s of state.schedules ?? []) this.schedules.set(`${s.GroupName}/${s.Name}`, s);
    this.deadLetterList.push(...(state.deadLetters ?? []));
  }

  async handle(req: RestRequest, _ctx: JsonServiceContext): Promise<RestResponse> {
    const segments = req.path.split('/').filter(Boolean).map(decodeURIComponent);
    const body = parseJsonBody(req.body, 'ValidationException');
    const groupName = () => req.query.get('groupName') ?? undefined;
    const [collection, name, ...rest] = segments;
    // The REST API's routes: `<method> /<collection>` or `<method> /<collection>/{Name}`.
    const routes: Record<string, (name: string) => unknown> = {
      'GET /schedules': () => this.listSchedules(req.query),
      'POST /schedules/{Name}': (n) => this.createSchedule(n, body),
      'GET /schedules/{Name}': (n) => this.getSchedule(n, groupName()),
      'PUT /schedules/{Name}': (n) => this.updateSchedule(n, body),
      'DELETE /schedules/{Name}': (n) => this.deleteSchedule(n, groupName()),
      'GET /schedule-groups': () => this.listScheduleGroups(req.query),
      'POST /schedule-groups/{Name}': (n) => this.createScheduleGroup(n),
      'GET /schedule-groups/{Name}': (n) => this.describeGroup(this.group(n)),
      'DELETE /schedule-groups/{Name}': (n) => this.deleteScheduleGroup(n),
    };
    const route = rest.length === 0 ? routes[`${req.method} /${collection ?? ''}${name === undefined ? '' : '/{Name}'}`] : undefined;
    if (route) return ok(route(name ?? ''));
    throw new AwsError('ValidationException', `Local Scheduler does not implement ${req.method} ${req.path}`, 400);
  }

  // ---- API ----

  private createSchedule(name: string, body: Record<string, unknown>): unknown {
    validateName(name, 'Name');
    const groupName = optionalString(body, 'GroupName') || 'default';
    this.group(groupName);
    const key = `${groupName}/${name}`;
    if (this.schedules.has(key)) throw new AwsError('ConflictException', `Schedule ${name} already exists.`, 409);
    const now = this.now();
    const schedule = this.buildSchedule(name, groupName, body, now, now);
    this.schedules.set(key, schedule);
    this.afterChange(`created ${key} ${schedule.ScheduleExpression}`, schedule);
    return { ScheduleArn: schedule.Arn };
  }

  private updateSchedule(name: string, body: Record<string, unknown>): unknown {
    const groupName = optionalString(body, 'GroupName') || 'default';
    const existing = this.schedule(name, groupName);
    const schedule = this.buildSchedule(name, groupName, body, existing.CreationDate, this.now());
    this.schedules.set(`${groupName}/${name}`, schedule);
    this.afterChange(`updated ${groupName}/${name} ${schedule.ScheduleExpression}`, schedule);
    return { ScheduleArn: schedule.Arn };
  }

  private getSchedule(name: string, groupName = 'default'): unknown {
    return describeSchedule(this.schedule(name, groupName));
  }

  private deleteSchedule(name: string, groupName = 'default'): unknown {
    this.schedule(name, groupName);
    this.schedules.delete(`${groupName}/${name}`);
    this.afterChange(`deleted ${groupName}/${name}`);
    return {};
  }

  private listSchedules(query: URLSearchParams): unknown {
    const group = query.get('ScheduleGroup');
    const prefix = query.get('NamePrefix');
    const state = query.get('State');
    if (group) this.group(group);
    const matching = [...this.schedules.values()]
      .filter((s) => (!group || s.GroupName === group) && (!prefix || s.Name.startsWith(prefix)) && (!state || s.State === state))
      .sort((a, b) => (a.GroupName + '/' + a.Name).localeCompare(b.GroupName + '/' + b.Name));
    const summaries = matching.map((s) => ({
      Arn: s.Arn,
      Name: s.Name,
      GroupName: s.GroupName,
      State: s.State,
      CreationDate: epochSeconds(s.CreationDate),
      LastModificationDate: epochSeconds(s.LastModificationDate),
      Target: { Arn: s.Target.Arn },
    }));
    return pageAnswer('Schedules', summaries, pageRequest(query), PAGE_LIMITS);
  }

  private createScheduleGroup(name: string): unknown {
    validateName(name, 'Name');
    if (this.groups.has(name)) throw new AwsError('ConflictException', `Schedule group ${name} already exists.`, 409);
    const now = this.now();
    const group = { Name: name, Arn: this.groupArn(name), CreationDate: now, LastModificationDate: now };
    this.groups.set(name, group);
    this.afterChange(`created group ${name}`);
    return { ScheduleGroupArn: group.Arn };
  }

  private deleteScheduleGroup(name: string): unknown {
    if (name === 'default') throw new AwsError('ValidationException', 'The default schedule group cannot be deleted.', 400);
    this.group(name);
    this.groups.delete(name);
    // Deleting a group deletes its schedules (AWS does this asynchronously; here at once).
    for (const [key, s] of this.schedules) if (s.GroupName === name) this.schedules.delete(key);
    this.afterChange(`deleted group ${name}`);
    return {};
  }

  private listScheduleGroups(query: URLSearchParams): unknown {
    const prefix = query.get('NamePrefix');
    const matching = [...this.groups.values()].filter((g) => !prefix || g.Name.startsWith(prefix));
    return pageAnswer('ScheduleGroups', matching.map((g) => this.describeGroup(g)), pageRequest(query), PAGE_LIMITS);
  }

  private describeGroup(g: StoredGroup): unknown {
    return { Arn: g.Arn, Name: g.Name, State: 'ACTIVE', CreationDate: epochSeconds(g.CreationDate), LastModificationDate: epochSeconds(g.LastModificationDate) };
  }

  private group(name: string): StoredGroup {
    const group = this.groups.get(name);
    if (!group) throw new AwsError('ResourceNotFoundException', `Schedule group ${name} does not exist.`, 404);
    return group;
  }

  private schedule(name: string, groupName: string): StoredSchedule {
    this.group(groupName);
    const schedule = this.schedules.get(`${groupName}/${name}`);
    if (!schedule) throw new AwsError('ResourceNotFoundException', `Schedule ${name} does not exist.`, 404);
    return schedule;
  }

  private buildSchedule(name: string, groupName: string, body: Record<string, unknown>, creationDate: number, modified: number): StoredSchedule {
    const expression = requireString(body, 'ScheduleExpression');
    const timezone = optionalString(body, 'ScheduleExpressionTimezone') || 'UTC';
    let parsed;
    try {
      assertTimeZone(timezone);
      parsed = parseScheduleExpression(expression, timezone);
    } catch (e) {
      if (e instanceof InvalidExpression) throw new AwsError('ValidationException', e.message, 400);
      throw e;
    }
    const window = body.FlexibleTimeWindow as StoredSchedule['FlexibleTimeWindow'] | undefined;
    if (!window || (window.Mode !== 'OFF' && window.Mode !== 'FLEXIBLE')) {
      throw new AwsError('ValidationException', 'FlexibleTimeWindow.Mode must be OFF or FLEXIBLE', 400);
    }
    if (window.Mode === 'FLEXIBLE' && !(typeof window.MaximumWindowInMinutes === 'number' && window.MaximumWindowInMinutes >= 1)) {
      throw new AwsError('ValidationException', 'MaximumWindowInMinutes is required when Mode is FLEXIBLE', 400);
    }
    const target = body.Target as ScheduleTarget | undefined;
    if (!target || typeof target.Arn !== 'string' || typeof target.RoleArn !== 'string') {
      throw new AwsError('ValidationException', 'Target.Arn and Target.RoleArn are required', 400);
    }
    const state = optionalString(body, 'State') || 'ENABLED';
    if (state !== 'ENABLED' && state !== 'DISABLED') throw new AwsError('ValidationException', `Invalid State ${state}`, 400);
    const action = optionalString(body, 'ActionAfterCompletion') || 'NONE';
    if (action !== 'NONE' && action !== 'DELETE') throw new AwsError('ValidationException', `Invalid ActionAfterCompletion ${action}`, 400);
    if (parsed.kind !== 'at') {
      this.log(`[scheduler] ${groupName}/${name}: ${parsed.kind} schedules are stored but not fired by the local scheduler`);
    }
    const scheduledAt = parsed.kind === 'at' ? parsed.epochMs : undefined;
    // The firing delay is drawn once per invocation, so a restart does not re-roll it.
    const flexMs = window.Mode === 'FLEXIBLE' ? Math.floor(this.random() * (window.MaximumWindowInMinutes ?? 0) * 60_000) : 0;
    const schedule: StoredSchedule = {
      Name: name,
      GroupName: groupName,
      Arn: `arn:aws:scheduler:${this.region}:${this.accountId}:schedule/${groupName}/${name}`,
      ScheduleExpression: expression,
      ScheduleExpressionTimezone: timezone,
      State: state,
      FlexibleTimeWindow: window,
      Target: { ...target, RetryPolicy: { ...DEFAULT_RETRY_POLICY, ...target.RetryPolicy } },
      ActionAfterCompletion: action,
      CreationDate: creationDate,
      LastModificationDate: modified,
      failedAttempts: 0,
      completed: false,
      ...(scheduledAt !== undefined ? { scheduledAt, dueAt: scheduledAt + this.firingDelayMs() + flexMs } : {}),
    };
    if (typeof body.Description === 'string') schedule.Description = body.Description;
    if (typeof body.StartDate === 'number') schedule.StartDate = body.StartDate * 1000;
    if (typeof body.EndDate === 'number') schedule.EndDate = body.EndDate * 1000;
    if (typeof body.KmsKeyArn === 'string') schedule.KmsKeyArn = body.KmsKeyArn;
    return schedule;
  }

  // ---- firing ----

  private async invoke(key: string, schedule: StoredSchedule): Promise<void> {
    schedule.executionId ??= randomUUID();
    if (this.options.loseRate && this.random() < this.options.loseRate) {
      this.log(`[scheduler] ${key}: invocation LOST (fault injection, loseRate)`);
      this.complete(key, schedule);
      return;
    }
    const attemptNumber = schedule.failedAttempts + 1;
    try {
      await this.deliver(schedule, attemptNumber);
      if (this.options.duplicateDeliveryRate && this.random() < this.options.duplicateDeliveryRate) {
        this.log(`[scheduler] ${key}: delivering twice (fault injection, duplicateDeliveryRate)`);
        await this.deliver(schedule, attemptNumber).catch((e: Error) => this.log(`[scheduler] ${key}: duplicate delivery failed: ${e.message}`));
      }
      this.log(`[scheduler] ${key}: fired → ${schedule.Target.Arn} (attempt ${attemptNumber})`);
      this.complete(key, schedule);
    } catch (error) {
      const failure =
        error instanceof DeliveryError ? error : new DeliveryError('InternalError', error instanceof Error ? error.message : String(error), true);
      const policy = { ...DEFAULT_RETRY_POLICY, ...schedule.Target.RetryPolicy };
      const ageMs = this.now() - (schedule.scheduledAt ?? this.now());
      const canRetry =
        failure.retryable && schedule.failedAttempts < policy.MaximumRetryAttempts && ageMs < policy.MaximumEventAgeInSeconds * 1000;
      schedule.failedAttempts++;
      if (canRetry) {
        schedule.dueAt = this.now() + this.retryDelayMs(schedule.failedAttempts);
        this.log(`[scheduler] ${key}: delivery failed (${failure.code}: ${failure.message}); retry ${schedule.failedAttempts} of ${policy.MaximumRetryAttempts}`);
        this.persist();
        return;
      }
      this.deadLetter(key, schedule, failure);
      this.complete(key, schedule);
    }
  }

  private complete(key: string, schedule: StoredSchedule): void {
    schedule.completed = true;
    delete schedule.dueAt;
    if (schedule.ActionAfterCompletion === 'DELETE' && this.schedules.get(key) === schedule) {
      this.schedules.delete(key);
      this.log(`[scheduler] ${key}: deleted after completion`);
    }
    this.persist();
  }

  private deadLetter(key: string, schedule: StoredSchedule, failure: DeliveryError): void {
    const queueArn = schedule.Target.DeadLetterConfig?.Arn;
    if (!queueArn) {
      this.log(`[scheduler] ${key}: delivery failed for good (${failure.code}: ${failure.message}); no dead-letter queue, dropped`);
      return;
    }
    const letter: DeadLetter = {
      queueArn,
      body: this.renderInput(schedule, schedule.failedAttempts),
      attributes: {
        ERROR_CODE: failure.code,
        ERROR_MESSAGE: failure.message,
        EXECUTION_ID: schedule.executionId ?? '',
        RETRY_ATTEMPTS: String(Math.max(0, schedule.failedAttempts - 1)),
        SCHEDULE_ARN: schedule.Arn,
        SCHEDULED_TIME: new Date(schedule.scheduledAt ?? this.now()).toISOString(),
        TARGET_ARN: schedule.Target.Arn,
      },
      sentAt: this.now(),
    };
    this.deadLetterList.push(letter);
    this.log(`[scheduler] ${key}: delivery failed for good (${failure.code}: ${failure.message}); sent to dead-letter queue ${queueArn}`);
  }

  /** Target.Input with the context attributes the service substitutes. */
  private renderInput(schedule: StoredSchedule, attemptNumber: number): string {
    return (schedule.Target.Input ?? '{}')
      .replaceAll('<aws.scheduler.schedule-arn>', schedule.Arn)
      .replaceAll('<aws.scheduler.scheduled-time>', new Date(schedule.scheduledAt ?? this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'))
      .replaceAll('<aws.scheduler.execution-id>', schedule.executionId ?? '')
      .replaceAll('<aws.scheduler.attempt-number>', String(attemptNumber));
  }

  private async deliver(schedule: StoredSchedule, attemptNumber: number): Promise<void> {
    const input = this.renderInput(schedule, attemptNumber);
    let request: StartExecutionRequest;
    if (schedule.Target.Arn === UNIVERSAL_SFN_START_EXECUTION) {
      let params: Record<string, unknown>;
      try {
        params = JSON.parse(input) as Record<string, unknown>;
      } catch {
        throw new DeliveryError('ValidationException', 'Target.Input is not JSON of StartExecution parameters', false);
      }
      if (typeof params.StateMachineArn !== 'string') throw new DeliveryError('ValidationException', 'StartExecution needs StateMachineArn', false);
      request = {
        stateMachineArn: params.StateMachineArn,
        ...(typeof params.Name === 'string' ? { name: params.Name } : {}),
        input: typeof params.Input === 'string' ? params.Input : JSON.stringify(params.Input ?? {}),
      };
    } else if (/^arn:aws[a-z-]*:states:[^:]+:\d{12}:stateMachine:[^:]+$/.test(schedule.Target.Arn)) {
      request = { stateMachineArn: schedule.Target.Arn, input };
    } else if (/^arn:aws[a-z-]*:lambda:[^:]+:\d{12}:function:[^:]+(:[^:]+)?$/.test(schedule.Target.Arn)) {
      if (this.options.iam) {
        try {
          this.options.iam.credentialsFor(schedule.Target.RoleArn);
        } catch (error) {
          throw new DeliveryError('AccessDeniedException', (error as Error).message, false);
        }
        const denied = this.options.iam.deniedInvoke(schedule.Target.RoleArn, schedule.Target.Arn);
        if (denied) throw new DeliveryError('AccessDeniedException', denied, false);
      }
      this.invokeLambdaAsync(schedule, input);
      return;
    } else {
      throw new DeliveryError('ValidationException', `The local scheduler cannot deliver to ${schedule.Target.Arn}`, false);
    }
    try {
      await (this.options.startExecution ?? ((r) => this.startWithSdk(r, schedule.Target.RoleArn)))(request);
    } catch (error) {
      throw classify(error);
    }
  }

  private invokeLambdaAsync(schedule: StoredSchedule, input: string): void {
    const invoke = this.options.invokeLambda;
    if (!invoke) throw new DeliveryError('ValidationException', `No local Lambda handler wiring for ${schedule.Target.Arn} (invokeLambda option)`, false);
    let payload: unknown;
    try {
      payload = JSON.parse(input);
    } catch {
      payload = input;
    }
    const run: Promise<void> = invoke(schedule.Target.Arn, payload)
      .then(
        () => undefined,
        (e: Error) => this.log(`[scheduler] ${schedule.GroupName}/${schedule.Name}: Lambda ${schedule.Target.Arn} failed: ${e.message}`),
      )
      .finally(() => this.inFlight.delete(run));
    this.inFlight.add(run);
  }

  private async startWithSdk(request: StartExecutionRequest, roleArn: string): Promise<{ executionArn?: string }> {
    const endpoint = typeof this.sfnEndpoint === 'function' ? this.sfnEndpoint() : this.sfnEndpoint;
    if (!endpoint) throw new DeliveryError('InternalError', 'Local scheduler has no Step Functions endpoint: call setSfnEndpoint(edge.url)', true);
    let credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = { accessKeyId: 'local', secretAccessKey: 'local' };
    if (this.options.iam) {
      try {
        credentials = this.options.iam.credentialsFor(roleArn);
      } catch (error) {
        throw new DeliveryError('AccessDeniedException', (error as Error).message, false);
      }
    }
    // maxAttempts 1: the schedule's RetryPolicy is the retry, as in the real service.
    let client = this.sfnClients.get(credentials.accessKeyId);
    if (!client) {
      client = new SFNClient({ endpoint, region: this.region, credentials, maxAttempts: 1 });
      this.sfnClients.set(credentials.accessKeyId, client);
    }
    return client.send(new StartExecutionCommand(request));
  }

  private afterChange(what: string, schedule?: StoredSchedule): void {
    const due = schedule?.dueAt !== undefined ? ` (fires ${new Date(schedule.dueAt).toISOString()})` : '';
    this.log(`[scheduler] ${what}${due}`);
    this.persist();
    this.arm();
  }

  private persist(): void {
    const path = this.options.statePath;
    if (!path) return;
    mkdirSync(dirname(path), { recursive: true });
    // Write-then-rename so a crash never leaves half a file.
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.snapshot(), null, 2));
    renameSync(tmp, path);
  }

  /** One wake-up for the earliest due invocation. */
  private arm(): void {
    if (!this.started || !this.timer) return;
    if (this.timerHandle !== undefined) this.timer.clear(this.timerHandle);
    this.timerHandle = undefined;
    let next = Infinity;
    for (const s of this.schedules.values()) {
      if (s.State === 'ENABLED' && !s.completed && s.dueAt !== undefined) next = Math.min(next, s.dueAt);
    }
    if (next === Infinity) return;
    const wait = Math.min(Math.max(0, next - this.now()), MAX_TIMER_MS);
    this.timerHandle = this.timer.set(() => {
      this.timerHandle = undefined;
      void this.runDue();
    }, wait);
  }

  private groupArn(name: string): string {
    return `arn:aws:scheduler:${this.region}:${this.accountId}:schedule-group/${name}`;
  }
}

/** Throttling, 5xx and network failures are worth retrying; any other client error goes to the DLQ at once. */
function classify(error: unknown): DeliveryError {
  if (error instanceof DeliveryError) return error;
  const e = (error ?? {}) as { name?: string; message?: string; $fault?: string; $metadata?: { httpStatusCode?: number } };
  const code = e.name ?? 'Error';
  const message = e.message ?? String(error);
  // No HTTP answer at all (a reset or timed-out connection): a network failure.
  if (e.$metadata?.httpStatusCode === undefined) return new DeliveryError(code, message, true);
  const status = e.$metadata.httpStatusCode;
  const retryable = e.$fault === 'server' || status >= 500 || status === 429 || /Throttl|TooManyRequests|ServiceUnavailable|LimitExceeded/.test(code);
  return new DeliveryError(code, message, retryable);
}

function describeSchedule(s: StoredSchedule): unknown {
  return {
    Arn: s.Arn,
    GroupName: s.GroupName,
    Name: s.Name,
    ScheduleExpression: s.ScheduleExpression,
    ScheduleExpressionTimezone: s.ScheduleExpressionTimezone,
    State: s.State,
    CreationDate: epochSeconds(s.CreationDate),
    LastModificationDate: epochSeconds(s.LastModificationDate),
    Target: s.Target,
    FlexibleTimeWindow: s.FlexibleTimeWindow,
    ActionAfterCompletion: s.ActionAfterCompletion,
    ...(s.Description !== undefined ? { Description: s.Description } : {}),
    ...(s.StartDate !== undefined ? { StartDate: epochSeconds(s.StartDate) } : {}),
    ...(s.EndDate !== undefined ? { EndDate: epochSeconds(s.EndDate) } : {}),
    ...(s.KmsKeyArn !== undefined ? { KmsKeyArn: s.KmsKeyArn } : {}),
  };
}

const ok = (body: unknown): RestResponse => ({ status: 200, body });

function validateName(name: string, field: string): void {
  if (!/^[0-9a-zA-Z\-_.]{1,64}$/.test(name)) {
    throw new AwsError('ValidationException', `1 validation error detected: Value '${name}' at '${field.toLowerCase()}' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9a-zA-Z-_.]+$`, 400);
  }
}
