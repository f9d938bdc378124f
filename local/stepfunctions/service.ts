/**
 * Local Step Functions (awsJson1_0, target prefix `AWSStepFunctions`), executing state
 * machines in this process with aws-local-stepfunctions.
 *
 * Every Task state is bound to a local handler (the engine would otherwise call real AWS Lambda):
 *  - `arn:aws:states:::aws-sdk:<service>:<action>` → the real SDK v3 client at the local edge;
 *  - a Lambda function ARN, or `arn:aws:states:::lambda:invoke` → a handler registered with `registerLambda`.
 * StartExecution follows AWS's name rules: while an execution is open, the same name and input
 * answer the same executionArn; a different input, or a name whose execution has closed,
 * is ExecutionAlreadyExists.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { Context as LambdaContext } from 'aws-lambda';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { AwsError, LOCAL_ACCOUNT_ID, LOCAL_REGION, optionalString, paginate as paginateItems, requireString, type JsonService } from '../protocol/aws.ts';
import { CallbackTasks, splitCallbackResource, tokenPlaceholder } from './callbacks.ts';
import { parseSdkResource, SdkTaskInvoker, TaskError, type SdkClientConfig, type SdkCredentials } from './sdk-integration.ts';

/** IAM as Step Functions meets it (packaged mode): the role tasks run as, and Lambda invoke permission. */
export interface StepFunctionsIam {
  /**
   * Credentials for a state machine's SDK tasks: its own role's, or, for a task whose
   * `Credentials` field names a role, that role's once the state machine's role has assumed
   * it. Throws an AwsError (AccessDenied) when the assume is refused.
   */
  taskCredentials(stateMachineRoleArn: string, credentialsRoleArn?: string): SdkCredentials;
  /** AWS's AccessDenied message when `roleArn` may not invoke the function, else undefined. */
  deniedInvoke(roleArn: string, functionArn: string): string | undefined;
}

export type LambdaHandler = (event: any, context: LambdaContext) => Promise<unknown> | unknown;

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface HistoryEvent {
  id: number;
  previousEventId: number;
  /** Epoch milliseconds (sent to clients as epoch seconds, like AWS). */
  timestamp: number;
  type: string;
  details?: { key: string; value: Record<string, unknown> };
}

export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  startDate: number;
  stopDate?: number;
  history: HistoryEvent[];
}

interface LiveExecution extends ExecutionRecord {
  abort?: () => void;
  stopRequest?: { error?: string; cause?: string };
  closed: Promise<ExecutionRecord>;
}

interface StateMachineRecord {
  arn: string;
  name: string;
  definition: string;
  roleArn: string;
  type: 'STANDARD' | 'EXPRESS';
  creationDate: number;
  taskHandlers: Record<string, (input: any) => Promise<any>>;
  /** State name → Resource, for TaskFailed/TaskSucceeded history details. */
  taskResources: Map<string, string>;
  retryableStates: string[];
}

export interface LocalStepFunctionsOptions {
  region?: string;
  accountId?: string;
  /** Endpoint the aws-sdk:* tasks call (the local edge). A function, because the edge port is known only after it starts. */
  sdkEndpoint?: string | (() => string);
  /** Replace every Retry pause with this many ms (fast local runs); absent: the real IntervalSeconds/BackoffRate. */
  retryIntervalMs?: number;
  /** One line per state transition; default stdout. */
  log?: (line: string) => void;
  /** Enforce IAM for tasks (packaged mode); absent: tasks run unchecked. */
  iam?: StepFunctionsIam;
}

export interface CreateStateMachineInput {
  name: string;
  definition: string | object;
  roleArn?: string;
  type?: 'STANDARD' | 'EXPRESS';
}

/** Definition texts the engine has already validated (process-wide; definitions are immutable text). */
const VALIDATED_DEFINITIONS = new Set<string>();

const NAME_PATTERN = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;

export class LocalStepFunctions implements JsonService {
  readonly targetPrefixes = ['AWSStepFunctions'];
  private readonly region: string;
  private readonly accountId: string;
  private readonly log: (line: string) => void;
  private readonly stateMachines = new Map<string, StateMachineRecord>();
  private readonly executions = new Map<string, LiveExecution>();
  private readonly lambdas = new Map<string, LambdaHandler>();
  private readonly sdk: SdkTaskInvoker;
  private readonly callbacks = new CallbackTasks();
  private sdkEndpoint: string | (() => string) | undefined;

  constructor(private readonly options: LocalStepFunctionsOptions = {}) {
    this.region = options.region ?? LOCAL_REGION;
    this.accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
    this.log = options.log ?? ((line) => console.log(line));
    this.sdkEndpoint = options.sdkEndpoint;
    this.sdk = new SdkTaskInvoker(() => this.sdkClientConfig());
  }

  /** Point aws-sdk:* tasks at the edge once its port is known. */
  setSdkEndpoint(endpoint: string | (() => string)): void {
    this.sdkEndpoint = endpoint;
  }

  /** Lambda ARN (any qualifier) or bare function name → the handler Task states invoke. */
  registerLambda(arnOrName: string, handler: LambdaHandler): void {
    this.lambdas.set(functionName(arnOrName), handler);
  }

  stateMachineArn(name: string): string {
    return `arn:aws:states:${this.region}:${this.accountId}:stateMachine:${name}`;
  }

  /** Registers a definition; the same name with the same definition is a no-op, like CreateStateMachine. */
  createStateMachine(input: CreateStateMachineInput): { stateMachineArn: string; creationDate: number } {
    if (!NAME_PATTERN.test(input.name)) throw new AwsError('InvalidName', `Invalid State Machine Name: '${input.name}'`);
    const definition = typeof input.definition === 'string' ? input.definition : JSON.stringify(input.definition);
    const roleArn = input.roleArn ?? `arn:aws:iam::${this.accountId}:role/local-stepfunctions`;
    const existing = this.stateMachines.get(input.name);
    if (existing) {
      if (existing.definition === definition && existing.roleArn === roleArn) {
        return { stateMachineArn: existing.arn, creationDate: existing.creationDate };
      }
      throw new AwsError('StateMachineAlreadyExists', `State Machine Already Exists: '${existing.arn}'`);
    }
    const record = this.buildStateMachine(input.name, definition, roleArn, input.type ?? 'STANDARD', Date.now());
    this.stateMachines.set(input.name, record);
    return { stateMachineArn: record.arn, creationDate: record.creationDate };
  }

  /** Replaces a definition (the local counterpart of a redeploy); running executions keep the old one. */
  putStateMachine(input: CreateStateMachineInput): string {
    const definition = typeof input.definition === 'string' ? input.definition : JSON.stringify(input.definition);
    const previous = this.stateMachines.get(input.name);
    const record = this.buildStateMachine(
      input.name,
      definition,
      input.roleArn ?? previous?.roleArn ?? `arn:aws:iam::${this.accountId}:role/local-stepfunctions`,
      input.type ?? previous?.type ?? 'STANDARD',
      previous?.creationDate ?? Date.now(),
    );
    this.stateMachines.set(input.name, record);
    return record.arn;
  }

  startExecution(stateMachineArn: string, name?: string, input = '{}'): { executionArn: string; startDate: number } {
    const machine = this.machineByArn(stateMachineArn);
    const executionName = name ?? randomUUID();
    if (!NAME_PATTERN.test(executionName)) throw new AwsError('InvalidName', `Invalid Name: '${executionName}'`);
    let parsedInput: unknown;
    try {
      parsedInput = JSON.parse(input);
    } catch {
      throw new AwsError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${input}'`);
    }
    const executionArn = `arn:aws:states:${this.region}:${this.accountId}:execution:${machine.name}:${executionName}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === input) {
        return { executionArn, startDate: existing.startDate };
      }
      throw new AwsError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const execution = this.run(machine, executionArn, executionName, input, parsedInput);
    return { executionArn, startDate: execution.startDate };
  }

  stopExecution(executionArn: string, error?: string, cause?: string): { stopDate: number } {
    const execution = this.executionByArn(executionArn);
    if (execution.status === 'RUNNING' && execution.abort) {
      execution.stopRequest = { ...(error !== undefined ? { error } : {}), ...(cause !== undefined ? { cause } : {}) };
      execution.abort();
    }
    return { stopDate: execution.stopDate ?? Date.now() };
  }

  describeExecution(executionArn: string): ExecutionRecord {
    return snapshotOf(this.executionByArn(executionArn));
  }

  /** Resolves when the execution has closed (any terminal status). */
  async waitForExecution(executionArn: string): Promise<ExecutionRecord> {
    return this.executionByArn(executionArn).closed;
  }

  /** Resolves when no execution is running (for clean shutdown and tests). */
  async idle(): Promise<void> {
    await Promise.all([...this.executions.values()].filter((e) => e.status === 'RUNNING').map((e) => e.closed));
  }

  listExecutionRecords(stateMachineArn?: string): ExecutionRecord[] {
    return [...this.executions.values()]
      .filter((e) => !stateMachineArn || e.stateMachineArn === stateMachineArn)
      .map(snapshotOf);
  }

  /** Definitions and executions as plain JSON, for persistence across a restart. */
  snapshot(): { stateMachines: Array<Omit<CreateStateMachineInput, 'definition'> & { definition: string; creationDate: number }>; executions: ExecutionRecord[] } {
    return {
      stateMachines: [...this.stateMachines.values()].map((m) => ({
        name: m.name,
        definition: m.definition,
        roleArn: m.roleArn,
        type: m.type,
        creationDate: m.creationDate,
      })),
      executions: [...this.executions.values()].map(snapshotOf),
    };
  }

  /**
   * Loads a snapshot. Executions that were running cannot resume mid-state: they are
   * recorded as ABORTED (say so in the log) so nothing waits on them forever.
   */
  restore(snapshot: ReturnType<LocalStepFunctions['snapshot']>): void {
    for (const m of snapshot.stateMachines) {
      this.stateMachines.set(m.name, this.buildStateMachine(m.name, m.definition, m.roleArn ?? '', m.type ?? 'STANDARD', m.creationDate));
    }
    for (const e of snapshot.executions) {
      const record: ExecutionRecord = { ...e, history: [...e.history] };
      if (record.status === 'RUNNING') {
        record.status = 'ABORTED';
        record.error = 'States.Runtime';
        record.cause = 'The local cloud restarted while this execution was running';
        record.stopDate = Date.now();
        this.log(`[sfn] ${record.name}: aborted, it was running when the local cloud stopped`);
      }
      this.executions.set(record.executionArn, { ...record, closed: Promise.resolve(record) });
    }
  }

  /** Aborts running executions and releases SDK clients. */
  async close(): Promise<void> {
    for (const execution of this.executions.values()) {
      if (execution.status === 'RUNNING') execution.abort?.();
    }
    await this.idle();
    this.sdk.destroy();
  }

  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    switch (operation) {
      case 'CreateStateMachine': {
        const result = this.createStateMachine({
          name: requireString(input, 'name'),
          definition: requireString(input, 'definition'),
          roleArn: requireString(input, 'roleArn'),
          ...(input.type === 'EXPRESS' ? { type: 'EXPRESS' as const } : {}),
        });
        return { stateMachineArn: result.stateMachineArn, creationDate: seconds(result.creationDate) };
      }
      case 'DescribeStateMachine': {
        const m = this.machineByArn(requireString(input, 'stateMachineArn'));
        return {
          stateMachineArn: m.arn,
          name: m.name,
          status: 'ACTIVE',
          definition: m.definition,
          roleArn: m.roleArn,
          type: m.type,
          creationDate: seconds(m.creationDate),
        };
      }
      case 'ListStateMachines':
        return {
          stateMachines: [...this.stateMachines.values()].map((m) => ({
            stateMachineArn: m.arn,
            name: m.name,
            type: m.type,
            creationDate: seconds(m.creationDate),
          })),
        };
      case 'DeleteStateMachine': {
        const arn = requireString(input, 'stateMachineArn');
        const m = this.stateMachines.get(stateMachineName(arn) ?? '');
        if (m?.arn === arn) this.stateMachines.delete(m.name);
        return {};
      }
      case 'StartExecution': {
        const result = this.startExecution(
          requireString(input, 'stateMachineArn'),
          optionalString(input, 'name'),
          optionalString(input, 'input') ?? '{}',
        );
        return { executionArn: result.executionArn, startDate: seconds(result.startDate) };
      }
      case 'StopExecution': {
        const result = this.stopExecution(requireString(input, 'executionArn'), optionalString(input, 'error'), optionalString(input, 'cause'));
        return { stopDate: seconds(result.stopDate) };
      }
      case 'DescribeExecution':
        return describeForApi(this.executionByArn(requireString(input, 'executionArn')));
      case 'ListExecutions':
        return this.listExecutions(input);
      case 'GetExecutionHistory':
        return this.getExecutionHistory(input);
      case 'SendTaskSuccess':
      case 'SendTaskFailure':
      case 'SendTaskHeartbeat':
        return this.callbacks.handle(operation, input);
      default:
        throw new AwsError('UnknownOperationException', `Local Step Functions does not implement ${operation}`);
    }
  }

  private listExecutions(input: Record<string, unknown>): unknown {
    const machine = this.machineByArn(requireString(input, 'stateMachineArn'));
    const statusFilter = optionalString(input, 'statusFilter');
    const all = [...this.executions.values()]
      .filter((e) => e.stateMachineArn === machine.arn && (!statusFilter || e.status === statusFilter))
      .sort(newestFirst);
    const { page, nextToken } = pageAfterCursor(all, input);
    return {
      executions: page.map((e) => ({
        executionArn: e.executionArn,
        stateMachineArn: e.stateMachineArn,
        name: e.name,
        status: e.status,
        startDate: seconds(e.startDate),
        ...(e.stopDate !== undefined ? { stopDate: seconds(e.stopDate) } : {}),
      })),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  private getExecutionHistory(input: Record<string, unknown>): unknown {
    const execution = this.executionByArn(requireString(input, 'executionArn'));
    const events = input.reverseOrder === true ? [...execution.history].reverse() : execution.history;
    const { page, nextToken } = paginate(events, input);
    return {
      events: page.map((e) => ({
        id: e.id,
        previousEventId: e.previousEventId,
        timestamp: seconds(e.timestamp),
        type: e.type,
        ...(e.details ? { [e.details.key]: e.details.value } : {}),
      })),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  private sdkClientConfig(): SdkClientConfig {
    const endpoint = typeof this.sdkEndpoint === 'function' ? this.sdkEndpoint() : this.sdkEndpoint;
    if (!endpoint) throw new TaskError('States.Runtime', 'Local Step Functions has no SDK endpoint: call setSdkEndpoint(edge.url)');
    return { endpoint, region: this.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  }

  private machineByArn(arn: string): StateMachineRecord {
    const name = stateMachineName(arn);
    if (!name) throw new AwsError('InvalidArn', `Invalid Arn: '${arn}'`);
    const machine = this.stateMachines.get(name);
    if (!machine || machine.arn !== arn) throw new AwsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return machine;
  }

  private executionByArn(arn: string): LiveExecution {
    if (!/^arn:aws[a-z-]*:states:[^:]+:\d{12}:execution:[^:]+:[^:]+$/.test(arn)) throw new AwsError('InvalidArn', `Invalid Arn: '${arn}'`);
    const execution = this.executions.get(arn);
    if (!execution) throw new AwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return execution;
  }

  private buildStateMachine(name: string, definition: string, roleArn: string, type: 'STANDARD' | 'EXPRESS', creationDate: number): StateMachineRecord {
    let parsed: StateMachineDefinition;
    try {
      parsed = JSON.parse(definition) as StateMachineDefinition;
    } catch (e) {
      throw new AwsError('InvalidDefinition', `Invalid State Machine Definition: not JSON (${(e as Error).message})`);
    }
    try {
      // Resource ARNs are ours to interpret (aws-sdk:*, local Lambda names), so only their syntax is skipped.
      // Validation costs 100-500 ms (the validator compiles its schemas per call): once per definition text.
      const validated = VALIDATED_DEFINITIONS.has(definition);
      if (!validated) new StateMachine(parsed, { validationOptions: { checkArn: false } });
      VALIDATED_DEFINITIONS.add(definition);
    } catch (e) {
      throw new AwsError('InvalidDefinition', `Invalid State Machine Definition: ${(e as Error).message}`);
    }
    const taskHandlers: StateMachineRecord['taskHandlers'] = {};
    const taskResources = new Map<string, string>();
    const retryableStates: string[] = [];
    visitStates(parsed, (stateName, state) => {
      if (Array.isArray(state.Retry) && state.Retry.length > 0) retryableStates.push(stateName);
      if (state.Type !== 'Task' || typeof state.Resource !== 'string') return;
      taskResources.set(stateName, state.Resource);
      const credentialsRoleArn = (state.Credentials as { RoleArn?: unknown } | undefined)?.RoleArn;
      const { base, callback } = splitCallbackResource(state.Resource);
      const handler = this.taskHandler(base, roleArn, typeof credentialsRoleArn === 'string' ? credentialsRoleArn : undefined);
      const limits = {
        ...(typeof state.TimeoutSeconds === 'number' ? { timeoutSeconds: state.TimeoutSeconds } : {}),
        ...(typeof state.HeartbeatSeconds === 'number' ? { heartbeatSeconds: state.HeartbeatSeconds } : {}),
      };
      taskHandlers[stateName] = callback ? (input) => this.callbacks.run(input, limits, handler) : handler;
    });
    return {
      arn: this.stateMachineArn(name),
      name,
      definition,
      roleArn,
      type,
      creationDate,
      taskHandlers,
      taskResources,
      retryableStates,
    };
  }

  private taskHandler(resource: string, roleArn: string, credentialsRoleArn: string | undefined): (input: any) => Promise<any> {
    const sdkResource = parseSdkResource(resource);
    if (sdkResource) {
      return async (input) => {
        let credentials: SdkCredentials | undefined;
        if (this.options.iam) {
          try {
            credentials = this.options.iam.taskCredentials(roleArn, credentialsRoleArn);
          } catch (error) {
            throw new TaskError('States.TaskFailed', (error as Error).message);
          }
        }
        return this.sdk.invoke(sdkResource, input, credentials);
      };
    }
    if (/^arn:aws[a-z-]*:states:::lambda:invoke$/.test(resource)) {
      return async (input: { FunctionName?: string; Payload?: unknown }) => {
        if (typeof input?.FunctionName !== 'string') throw new TaskError('States.Runtime', 'lambda:invoke needs Parameters.FunctionName');
        const payload = await this.invokeLambda(input.FunctionName, input.Payload ?? {}, roleArn);
        return { ExecutedVersion: '$LATEST', Payload: payload, StatusCode: 200 };
      };
    }
    if (/^arn:aws[a-z-]*:lambda:[^:]+:\d{12}:function:[^:]+(:[^:]+)?$/.test(resource)) {
      return (input) => this.invokeLambda(resource, input, roleArn) as Promise<any>;
    }
    return async () => {
      throw new TaskError('States.Runtime', `The local cloud cannot run Task resource '${resource}' (supported: aws-sdk:*, Lambda ARNs, lambda:invoke)`);
    };
  }

  /** Calls a registered Lambda handler as Lambda would (for other local callers, e.g. Scheduler Lambda targets). */
  invokeFunction(arnOrName: string, event: unknown): Promise<unknown> {
    return this.invokeLambda(arnOrName, event);
  }

  private async invokeLambda(arnOrName: string, event: unknown, callerRoleArn?: string): Promise<unknown> {
    const name = functionName(arnOrName);
    if (this.options.iam && callerRoleArn) {
      const denied = this.options.iam.deniedInvoke(callerRoleArn, `arn:aws:lambda:${this.region}:${this.accountId}:function:${name}`);
      if (denied) {
        throw new TaskError('Lambda.AWSLambdaException', `${denied} (Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException; Request ID: ${randomUUID()})`);
      }
    }
    const handler = this.lambdas.get(name);
    if (!handler) throw new TaskError('Lambda.ResourceNotFoundException', `Function not found: ${arnOrName} (no local handler registered)`);
    const deadline = Date.now() + 900_000;
    const context: LambdaContext = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: name,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${this.region}:${this.accountId}:function:${name}`,
      memoryLimitInMB: '1024',
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${name}`,
      logStreamName: `local/${name}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
    try {
      // A Lambda's result crosses a JSON boundary: same here, so no shared references leak into the state.
      const result = await handler(structuredClone(event), context);
      return result === undefined ? null : JSON.parse(JSON.stringify(result));
    } catch (error) {
      // Step Functions names a Lambda error by its errorType (the thrown error's name).
      const e = error instanceof Error ? error : new Error(String(error));
      const errorType = e.name || 'Error';
      throw new TaskError(errorType, JSON.stringify({ errorType, errorMessage: e.message, trace: (e.stack ?? '').split('\n') }));
    }
  }

  private run(machine: StateMachineRecord, executionArn: string, name: string, input: string, parsedInput: unknown): LiveExecution {
    const startDate = Date.now();
    const retryIntervalOverrides =
      this.options.retryIntervalMs === undefined
        ? undefined
        : Object.fromEntries(machine.retryableStates.map((s) => [s, this.options.retryIntervalMs!]));
    // One engine per execution over a definition whose state lookups record $$.State (the engine
    // itself fills only what it is given); validation already happened when the machine was created.
    const stateContext: { Name?: string; EnteredTime?: string } = {};
    // Read by the rewritten States.MathRandom calls (see awsMathRandom): a fresh seed per evaluation.
    Object.defineProperty(stateContext, RANDOM_SEED_FIELD, { enumerable: false, get: () => randomInt(0, 2 ** 31) });
    const engine = new StateMachine(trackStateEntry(awsMathRandom(awsTaskTimeouts(JSON.parse(machine.definition))), stateContext) as StateMachineDefinition, {
      validationOptions: { noValidate: true },
    });
    const { result, abort, eventLogs } = engine.run(parsedInput as never, {
      overrides: {
        taskResourceLocalHandlers: machine.taskHandlers,
        ...(retryIntervalOverrides ? { retryIntervalOverrides } : {}),
      },
      context: {
        Execution: { Id: executionArn, Name: name, RoleArn: machine.roleArn, StartTime: new Date(startDate).toISOString(), Input: parsedInput as never },
        StateMachine: { Id: machine.arn, Name: machine.name },
        State: stateContext,
        Task: { Token: tokenPlaceholder(executionArn) },
      },
    });
    const execution: LiveExecution = {
      executionArn,
      stateMachineArn: machine.arn,
      name,
      status: 'RUNNING',
      input,
      startDate,
      history: [],
      abort,
      closed: undefined as unknown as Promise<ExecutionRecord>,
    };
    this.executions.set(executionArn, execution);
    this.log(`[sfn] ${machine.name}/${name} started`);

    const historyDone = this.recordHistory(machine, execution, eventLogs, input);
    execution.closed = result.then(
      (output) => {
        execution.status = 'SUCCEEDED';
        execution.output = JSON.stringify(output ?? null);
      },
      (error: unknown) => {
        if (error instanceof ExecutionAbortedError) {
          execution.status = 'ABORTED';
          if (execution.stopRequest?.error !== undefined) execution.error = execution.stopRequest.error;
          if (execution.stopRequest?.cause !== undefined) execution.cause = execution.stopRequest.cause;
        } else if (error instanceof ExecutionTimeoutError) {
          execution.status = 'TIMED_OUT';
          execution.error = 'States.Timeout';
        } else {
          const cause = error instanceof ExecutionError ? (error.cause as Error | undefined) : (error as Error);
          execution.status = 'FAILED';
          execution.error = cause?.name ?? 'States.Runtime';
          execution.cause = cause?.message ?? String(error);
        }
      },
    ).then(async () => {
      execution.stopDate = Date.now();
      this.callbacks.endExecution(executionArn);
      delete execution.abort;
      await historyDone;
      this.log(`[sfn] ${machine.name}/${name} ${execution.status}${execution.error ? ` ${execution.error}` : ''}`);
      return snapshotOf(execution);
    });
    return execution;
  }

  /** Turns the engine's event log into AWS-shaped history events, logging one line per state entered. */
  private async recordHistory(machine: StateMachineRecord, execution: LiveExecution, eventLogs: AsyncGenerator<any>, input: string): Promise<void> {
    const push = (type: string, timestamp: number, key?: string, value?: Record<string, unknown>) => {
      const id = execution.history.length + 1;
      execution.history.push({ id, previousEventId: id - 1, timestamp, type, ...(key && value ? { details: { key, value } } : {}) });
    };
    const resourceDetails = (stateName: string) => {
      const resource = splitCallbackResource(machine.taskResources.get(stateName) ?? '').base;
      const sdk = parseSdkResource(resource);
      return sdk ? { resourceType: `aws-sdk:${sdk.service}`, resource: sdk.action } : { resourceType: 'lambda', resource };
    };
    try {
      for await (const event of eventLogs) {
        const ts: number = event.timestamp ?? Date.now();
        switch (event.type) {
          case 'ExecutionStarted':
            push('ExecutionStarted', ts, 'executionStartedEventDetails', { input, roleArn: machine.roleArn });
            break;
          case 'ExecutionSucceeded':
            push('ExecutionSucceeded', ts, 'executionSucceededEventDetails', { output: JSON.stringify(event.output ?? null) });
            break;
          case 'ExecutionFailed':
            push('ExecutionFailed', ts, 'executionFailedEventDetails', { error: event.Error, cause: String(event.Cause?.message ?? event.Cause ?? '') });
            break;
          case 'ExecutionAborted':
            push('ExecutionAborted', ts, 'executionAbortedEventDetails', { ...execution.stopRequest });
            break;
          case 'ExecutionTimeout':
            push('ExecutionTimedOut', ts, 'executionTimedOutEventDetails', { error: 'States.Timeout' });
            break;
          case 'StateEntered':
            this.log(`[sfn] ${machine.name}/${execution.name} → ${event.state.name}${event.index !== undefined ? ` [${event.index}]` : ''}`);
            push(`${event.state.type}StateEntered`, ts, 'stateEnteredEventDetails', { name: event.state.name, input: JSON.stringify(event.state.input ?? null) });
            break;
          case 'StateExited':
            if (event.state.type === 'Task') {
              push('TaskSucceeded', ts, 'taskSucceededEventDetails', { ...resourceDetails(event.state.name), output: JSON.stringify(event.state.output ?? null) });
            }
            push(`${event.state.type}StateExited`, ts, 'stateExitedEventDetails', { name: event.state.name, output: JSON.stringify(event.state.output ?? null) });
            break;
          case 'StateFailed':
            if (event.state.type === 'Task') {
              push('TaskFailed', ts, 'taskFailedEventDetails', { ...resourceDetails(event.state.name), error: event.Error, cause: String(event.Cause ?? '') });
            } else if (event.state.type === 'Map' || event.state.type === 'Parallel') {
              push(`${event.state.type}StateFailed`, ts);
            }
            break;
          case 'MapIterationStarted':
          case 'MapIterationSucceeded':
          case 'MapIterationFailed': {
            const key = `mapIteration${event.type.slice('MapIteration'.length)}EventDetails`;
            push(event.type, ts, key[0]!.toLowerCase() + key.slice(1), { name: event.parentState.name, index: event.index });
            break;
          }
          default:
            break; // StateRetried, StateCaught, Parallel branch events: AWS history has no event of its own for them.
        }
      }
    } catch (error) {
      this.log(`[sfn] ${machine.name}/${execution.name}: history recording stopped: ${(error as Error).message}`);
    }
  }
}

/**
 * Wraps every `States` map (Map and Parallel included) so that the engine's lookup of the next
 * state, which it does right before entering it, updates `$$.State.Name` and `$$.State.EnteredTime`.
 */
function trackStateEntry(definition: { States?: Record<string, unknown> }, state: { Name?: string; EnteredTime?: string }): unknown {
  const states = definition.States ?? {};
  for (const raw of Object.values(states)) {
    const s = raw as AnyState;
    if (s.Type === 'Map') {
      if (s.ItemProcessor) trackStateEntry(s.ItemProcessor as { States?: Record<string, unknown> }, state);
      if (s.Iterator) trackStateEntry(s.Iterator as { States?: Record<string, unknown> }, state);
    }
    if (s.Type === 'Parallel' && Array.isArray(s.Branches)) {
      for (const branch of s.Branches as Array<{ States?: Record<string, unknown> }>) trackStateEntry(branch, state);
    }
  }
  definition.States = new Proxy(states, {
    get(target, key, receiver) {
      if (typeof key === 'string' && Object.hasOwn(target, key)) {
        state.Name = key;
        state.EnteredTime = new Date().toISOString();
      }
      return Reflect.get(target, key, receiver);
    },
  });
  return definition;
}

/**
 * Step Functions gives a Task with no TimeoutSeconds no limit of its own (99,999,999 s; a Lambda
 * task ends at the function's timeout). The engine's timer is a setTimeout, which fires at once
 * past 2^31-1 ms, so the longest it can hold (24.8 days) stands in for it.
 */
const AWS_TASK_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/**
 * The engine gives a Task without TimeoutSeconds a 60 s limit (the States Language spec's
 * default); Step Functions gives it none, so a slow task would fail here with States.Timeout
 * where AWS waits. Every such Task gets AWS's value in the copy the engine runs.
 */
export function awsTaskTimeouts<T extends { States?: Record<string, unknown> }>(definition: T): T {
  visitStates(definition, (_name, state) => {
    const task = state as AnyState & { TimeoutSeconds?: unknown; TimeoutSecondsPath?: unknown };
    if (task.Type !== 'Task') return;
    // A callback task's TimeoutSeconds and HeartbeatSeconds are kept by CallbackTasks, which knows when it was answered.
    const callback = typeof task.Resource === 'string' && splitCallbackResource(task.Resource).callback;
    if (callback || (task.TimeoutSeconds === undefined && task.TimeoutSecondsPath === undefined)) task.TimeoutSeconds = AWS_TASK_TIMEOUT_SECONDS;
  });
  return definition;
}

const RANDOM_SEED_FIELD = 'LocalRandomSeed';
const MATH_RANDOM_TWO_ARGS = /States\.MathRandom\(\s*([^(),'\s]+)\s*,\s*([^(),'\s]+)\s*\)/g;

/**
 * The engine's States.MathRandom(start, end) differs from AWS's in two ways that matter to
 * a random slot pick: its end is inclusive (AWS: start inclusive, end exclusive), and without
 * a seed it seeds with Date.now(), so executions evaluating it in the same millisecond draw
 * the same number. Every two-argument call in a `.$` field is rewritten to
 * `States.MathRandom(start, States.MathAdd(end, -1), $$.State.LocalRandomSeed)`, whose seed
 * is fresh on each read; calls with an explicit seed are left as they are.
 */
export function awsMathRandom<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => awsMathRandom(v)) as T;
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] =
      key.endsWith('.$') && typeof v === 'string'
        ? v.replace(MATH_RANDOM_TWO_ARGS, (_, start: string, end: string) => `States.MathRandom(${start}, States.MathAdd(${end}, -1), $$.State.${RANDOM_SEED_FIELD})`)
        : awsMathRandom(v);
  }
  return out as T;
}

type AnyState = {
  Type?: string;
  Resource?: unknown;
  Credentials?: unknown;
  Retry?: unknown;
  TimeoutSeconds?: unknown;
  HeartbeatSeconds?: unknown;
  Iterator?: unknown;
  ItemProcessor?: unknown;
  Branches?: unknown;
};

/** Calls `visit` for every state, including those inside Map and Parallel. */
export function visitStates(definition: { States?: Record<string, unknown> }, visit: (name: string, state: AnyState) => void): void {
  for (const [name, raw] of Object.entries(definition.States ?? {})) {
    const state = raw as AnyState;
    visit(name, state);
    if (state.Type === 'Map') {
      const inner = (state.ItemProcessor ?? state.Iterator) as { States?: Record<string, unknown> } | undefined;
      if (inner) visitStates(inner, visit);
    }
    if (state.Type === 'Parallel' && Array.isArray(state.Branches)) {
      for (const branch of state.Branches as Array<{ States?: Record<string, unknown> }>) visitStates(branch, visit);
    }
  }
}

function functionName(arnOrName: string): string {
  const match = /^arn:aws[a-z-]*:lambda:[^:]+:\d{12}:function:([^:]+)(?::[^:]+)?$/.exec(arnOrName);
  if (match) return match[1]!;
  // Partial ARN `123456789012:function:name` or `name:alias`.
  const partial = /(?:^|:)function:([^:]+)/.exec(arnOrName);
  if (partial) return partial[1]!;
  return arnOrName.split(':')[0]!;
}

function stateMachineName(arn: string): string | undefined {
  return /^arn:aws[a-z-]*:states:[^:]+:\d{12}:stateMachine:([^:]+)$/.exec(arn)?.[1];
}

function snapshotOf(e: ExecutionRecord): ExecutionRecord {
  const { executionArn, stateMachineArn, name, status, input, output, error, cause, startDate, stopDate, history } = e;
  return {
    executionArn,
    stateMachineArn,
    name,
    status,
    input,
    startDate,
    history: [...history],
    ...(output !== undefined ? { output } : {}),
    ...(error !== undefined ? { error } : {}),
    ...(cause !== undefined ? { cause } : {}),
    ...(stopDate !== undefined ? { stopDate } : {}),
  };
}

function describeForApi(e: ExecutionRecord): Record<string, unknown> {
  return {
    executionArn: e.executionArn,
    stateMachineArn: e.stateMachineArn,
    name: e.name,
    status: e.status,
    startDate: seconds(e.startDate),
    input: e.input,
    inputDetails: { included: true },
    ...(e.stopDate !== undefined ? { stopDate: seconds(e.stopDate) } : {}),
    ...(e.output !== undefined ? { output: e.output, outputDetails: { included: true } } : {}),
    ...(e.error !== undefined ? { error: e.error } : {}),
    ...(e.cause !== undefined ? { cause: e.cause } : {}),
  };
}

const seconds = (ms: number) => ms / 1000;

/** ListExecutions' order: newest first, then by name (a total order, so a cursor names one place in it). */
function newestFirst(a: { startDate: number; name: string }, b: { startDate: number; name: string }): number {
  return b.startDate - a.startDate || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/**
 * One page of executions after the cursor in `nextToken` (the last execution of the previous page).
 * A cursor, not an offset: executions that end or start between two pages do not shift the rest,
 * so a listing of RUNNING executions across pages misses none that still run.
 */
function pageAfterCursor<T extends { startDate: number; name: string }>(items: T[], input: Record<string, unknown>): { page: T[]; nextToken?: string } {
  const asked = Number(input.maxResults);
  const max = Number.isInteger(asked) && asked >= 1 ? Math.min(asked, 1000) : 100;
  let start = 0;
  if (input.nextToken !== undefined && input.nextToken !== null) {
    let cursor: { startDate: number; name: string } | undefined;
    try {
      const parsed = JSON.parse(Buffer.from(String(input.nextToken), 'base64url').toString('utf8')) as { s?: unknown; n?: unknown };
      if (typeof parsed.s === 'number' && typeof parsed.n === 'string') cursor = { startDate: parsed.s, name: parsed.n };
    } catch {
      cursor = undefined;
    }
    if (!cursor) throw new AwsError('InvalidToken', 'The nextToken is not valid.');
    const after = items.findIndex((e) => newestFirst(e, cursor) > 0);
    start = after === -1 ? items.length : after;
  }
  const page = items.slice(start, start + max);
  const last = page.at(-1);
  const nextToken = last && start + max < items.length ? Buffer.from(JSON.stringify({ s: last.startDate, n: last.name })).toString('base64url') : undefined;
  return nextToken ? { page, nextToken } : { page };
}

/** Step Functions' List* and history paging: 100 by default, at most 1000. */
function paginate<T>(items: T[], input: Record<string, unknown>): { page: T[]; nextToken?: string } {
  return paginateItems(items, { maxResults: input.maxResults, nextToken: input.nextToken }, { defaultMax: 100, maxMax: 1000 });
}
