/**
 * The Retry and Catch lists of the Lambda tasks name exactly what those tasks can raise
 * (lib/workflow/errors.ts TASK_RETRYABLE_ERRORS, drawn from RETRYABLE_TASK_ERRORS) plus
 * what AWS recommends for every Lambda task; a name nothing raises is a retry that never
 * happens, a raisable one left out fails the grant on a transient error.
 * test/infra/workflow-bundles.test.ts checks the same lists against the minified bundles.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  LAMBDA_SERVICE_ERRORS,
  LAMBDA_TIMEOUT,
  LAMBDA_UNKNOWN,
  RETRYABLE_TASK_ERRORS,
  TASK_RETRYABLE_ERRORS,
  type LambdaTaskState,
} from '../../lib/workflow/errors.ts';
import { visitStates } from '../../local/stepfunctions/service.ts';

const ROOT = resolve(import.meta.dirname, '../..');

interface Retrier {
  ErrorEquals: string[];
  BackoffRate?: number;
  MaxAttempts?: number;
  JitterStrategy?: string;
}
interface TaskState {
  Type: string;
  Resource?: string;
  TimeoutSeconds?: number;
  HeartbeatSeconds?: number;
  Retry?: Retrier[];
  Catch?: { ErrorEquals: string[] }[];
}

/** Every Lambda task (Resource `${<Name>FunctionArn}`) of both state machines, by state name. */
function lambdaTasks(): Map<string, TaskState & { file: string }> {
  const tasks = new Map<string, TaskState & { file: string }>();
  for (const file of ['statemachines/grant.asl.json', 'statemachines/revoke.asl.json']) {
    const definition = JSON.parse(readFileSync(resolve(ROOT, file), 'utf8')) as { States: Record<string, unknown> };
    visitStates(definition, (name, state) => {
      const task = state as TaskState;
      if (task.Type === 'Task' && /^\$\{[A-Za-z]+FunctionArn\}$/.test(task.Resource ?? '')) tasks.set(name, { ...task, file });
    });
  }
  return tasks;
}

const tasks = lambdaTasks();
const names = (list: { ErrorEquals: string[] }[] | undefined) => (list ?? []).flatMap((r) => r.ErrorEquals);

describe('Lambda task error names', () => {
  it('covers every Lambda task of both state machines', () => {
    expect([...tasks.keys()].sort()).toEqual((Object.keys(TASK_RETRYABLE_ERRORS) as LambdaTaskState[]).sort());
  });

  it('draws every task list from RETRYABLE_TASK_ERRORS', () => {
    for (const list of Object.values(TASK_RETRYABLE_ERRORS)) for (const name of list) expect(RETRYABLE_TASK_ERRORS).toContain(name);
  });

  it.each([...tasks.keys()])('%s names in Retry and Catch only what it can raise, Lambda\'s and Step Functions\' own names', (state) => {
    const task = tasks.get(state)!;
    const raisable = TASK_RETRYABLE_ERRORS[state as LambdaTaskState] as readonly string[];
    for (const name of [...names(task.Retry), ...names(task.Catch)]) {
      if (name === 'States.ALL') continue;
      if (name === 'States.Timeout') {
        expect(task.TimeoutSeconds, `${state}: States.Timeout without TimeoutSeconds never happens (a Lambda timeout is ${LAMBDA_TIMEOUT})`).toBeDefined();
        continue;
      }
      if (name === 'States.HeartbeatTimeout') {
        expect(task.HeartbeatSeconds, state).toBeDefined();
        continue;
      }
      if (name.startsWith('Lambda.')) {
        expect([...LAMBDA_SERVICE_ERRORS, LAMBDA_UNKNOWN], `${state}: ${name}`).toContain(name);
        continue;
      }
      if (name.startsWith('Sandbox.')) {
        expect(name, state).toBe(LAMBDA_TIMEOUT);
        continue;
      }
      expect(raisable, `${state} names ${name}, which it cannot raise`).toContain(name);
    }
  });

  it.each([...tasks.keys()])('%s retries every retryable error it can raise, the Lambda service errors and a Lambda timeout', (state) => {
    const task = tasks.get(state)!;
    const retried = names(task.Retry);
    for (const name of TASK_RETRYABLE_ERRORS[state as LambdaTaskState]) expect(retried, `${state} retries ${name}`).toContain(name);
    for (const name of [...LAMBDA_SERVICE_ERRORS, LAMBDA_TIMEOUT, LAMBDA_UNKNOWN]) expect(retried, `${state} retries ${name}`).toContain(name);
    for (const retrier of task.Retry ?? []) {
      expect(retrier.BackoffRate, state).toBeGreaterThan(1);
      expect(retrier.JitterStrategy, state).toBe('FULL');
      expect(retrier.MaxAttempts, state).toBeGreaterThan(0);
    }
    // Each name in one retrier only: a second would never be reached.
    expect(new Set(retried).size, state).toBe(retried.length);
  });
});
