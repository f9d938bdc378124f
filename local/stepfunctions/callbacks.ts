/**
 * The callback pattern (`<resource>.waitForTaskToken`) as Step Functions runs it: the task's
 * Parameters carry `$$.Task.Token`, the service call is made, and the state then waits,
 * costing nothing, until someone answers the token with SendTaskSuccess / SendTaskFailure,
 * or until its TimeoutSeconds, or HeartbeatSeconds without a SendTaskHeartbeat, run out
 * (States.Timeout). Each attempt of the task (a Retry included) gets a token of its own;
 * a token whose task has ended answers TaskTimedOut, one never issued InvalidToken.
 *
 * The engine evaluates `$$.Task.Token` once per execution to a placeholder; the task
 * handler swaps it for a fresh token before it calls the service.
 */
import { randomUUID } from 'node:crypto';
import { AwsError } from '../protocol/aws.ts';
import { TaskError } from './sdk-integration.ts';

const CALLBACK_SUFFIX = '.waitForTaskToken';
const PLACEHOLDER_PREFIX = 'local-task-token-placeholder:';
/** Tokens of ended tasks kept to answer TaskTimedOut (AWS keeps them as long as the execution's history). */
const ENDED_TOKENS_KEPT = 200_000;

/** `arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken` → the base resource and whether it waits for a callback. */
export function splitCallbackResource(resource: string): { base: string; callback: boolean } {
  return resource.endsWith(CALLBACK_SUFFIX) ? { base: resource.slice(0, -CALLBACK_SUFFIX.length), callback: true } : { base: resource, callback: false };
}

/** What `$$.Task.Token` evaluates to for one execution. */
export const tokenPlaceholder = (executionArn: string) => `${PLACEHOLDER_PREFIX}${executionArn}`;

export interface CallbackLimits {
  timeoutSeconds?: number;
  heartbeatSeconds?: number;
}

interface PendingTask {
  executionArn: string;
  resolve(output: unknown): void;
  reject(error: Error): void;
  heartbeatSeconds?: number;
  heartbeatTimer?: NodeJS.Timeout;
  timeoutTimer?: NodeJS.Timeout;
}

export class CallbackTasks {
  private readonly pending = new Map<string, PendingTask>();
  private readonly ended = new Set<string>();

  /**
   * Runs one attempt of a callback task: `call` gets the Parameters with the execution's
   * placeholder replaced by this attempt's token; the result is what the token is answered with.
   */
  async run(input: unknown, limits: CallbackLimits, call: (input: unknown) => Promise<unknown>): Promise<unknown> {
    const placeholder = findPlaceholder(input);
    if (!placeholder) {
      throw new TaskError('States.Runtime', 'A .waitForTaskToken task must pass $$.Task.Token in its Parameters');
    }
    const executionArn = placeholder.slice(PLACEHOLDER_PREFIX.length);
    const token = Buffer.from(`${executionArn}#${randomUUID()}`).toString('base64url');
    const answered = new Promise<unknown>((resolve, reject) => {
      const task: PendingTask = { executionArn, resolve, reject, ...(limits.heartbeatSeconds ? { heartbeatSeconds: limits.heartbeatSeconds } : {}) };
      if (limits.timeoutSeconds) {
        task.timeoutTimer = setTimeout(() => this.end(token, new TaskError('States.Timeout', `The task did not answer within TimeoutSeconds (${limits.timeoutSeconds} s)`)), limits.timeoutSeconds * 1000);
      }
      this.pending.set(token, task);
      this.armHeartbeat(token, task);
    });
    // Settled even when nobody awaits it (the call failed, the execution ended).
    answered.catch(() => undefined);
    try {
      await call(replaceDeep(input, placeholder, token));
    } catch (error) {
      this.end(token);
      throw error;
    }
    return answered;
  }

  handle(operation: string, input: Record<string, unknown>): unknown | undefined {
    switch (operation) {
      case 'SendTaskSuccess': {
        const task = this.open(input.taskToken);
        let output: unknown;
        try {
          output = JSON.parse(typeof input.output === 'string' ? input.output : '');
        } catch {
          throw new AwsError('InvalidOutput', 'Invalid State Machine Execution Output: the output is not JSON');
        }
        this.end(String(input.taskToken), undefined, () => task.resolve(output));
        return {};
      }
      case 'SendTaskFailure': {
        const task = this.open(input.taskToken);
        const error = typeof input.error === 'string' ? input.error : '';
        const cause = typeof input.cause === 'string' ? input.cause : '';
        this.end(String(input.taskToken), undefined, () => task.reject(new TaskError(error, cause)));
        return {};
      }
      case 'SendTaskHeartbeat': {
        const token = String(input.taskToken);
        this.armHeartbeat(token, this.open(token));
        return {};
      }
      default:
        return undefined;
    }
  }

  /** An execution ended (stopped, failed, the cloud closing): its waiting tasks end with it. */
  endExecution(executionArn: string): void {
    for (const [token, task] of this.pending) if (task.executionArn === executionArn) this.end(token);
  }

  private open(token: unknown): PendingTask {
    if (typeof token !== 'string' || token === '') {
      throw new AwsError('ValidationException', "1 validation error detected: Value null at 'taskToken' failed to satisfy constraint: Member must not be null");
    }
    const task = this.pending.get(token);
    if (task) return task;
    if (this.ended.has(token)) throw new AwsError('TaskTimedOut', 'Task Timed Out: the task of this token has already ended');
    throw new AwsError('InvalidToken', `Invalid Token: '${token.slice(0, 40)}…'`);
  }

  private armHeartbeat(token: string, task: PendingTask): void {
    if (!task.heartbeatSeconds) return;
    clearTimeout(task.heartbeatTimer);
    task.heartbeatTimer = setTimeout(
      () => this.end(token, new TaskError('States.Timeout', `No heartbeat within HeartbeatSeconds (${task.heartbeatSeconds} s)`)),
      task.heartbeatSeconds * 1000,
    );
  }

  /** Closes the token; `error` fails the waiting task, `settle` answers it. */
  private end(token: string, error?: Error, settle?: () => void): void {
    const task = this.pending.get(token);
    if (!task) return;
    this.pending.delete(token);
    clearTimeout(task.heartbeatTimer);
    clearTimeout(task.timeoutTimer);
    if (this.ended.size >= ENDED_TOKENS_KEPT) this.ended.delete(this.ended.values().next().value!);
    this.ended.add(token);
    if (settle) settle();
    else task.reject(error ?? new TaskError('States.Runtime', 'The execution ended while the task waited'));
  }
}

function findPlaceholder(value: unknown): string | undefined {
  if (typeof value === 'string') return value.startsWith(PLACEHOLDER_PREFIX) ? value : undefined;
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) {
      const found = findPlaceholder(v);
      if (found) return found;
    }
  }
  return undefined;
}

function replaceDeep(value: unknown, from: string, to: string): unknown {
  if (typeof value === 'string') return value.split(from).join(to);
  if (Array.isArray(value)) return value.map((v) => replaceDeep(v, from, to));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceDeep(v, from, to)]));
  return value;
}
