/**
 * Local Lambda for packaged mode: each function runs from its deployment package in a
 * container of its own (a child process whose working directory is the unzipped package,
 * like /var/task), with the environment the template gives it plus what the Lambda service
 * sets (credentials of the function's role, AWS_REGION, _HANDLER, ...). The AWS SDK comes
 * from the runtime, as on nodejs24.x: the container sees @aws-sdk/* and @smithy/* and
 * nothing else of this repository's node_modules, so a dependency missing from a bundle fails
 * here as it would in AWS. Failures reach the caller as the Node.js runtime reports them
 * (errorType, errorMessage, trace); an invocation past the function's timeout fails with
 * Sandbox.Timedout.
 *
 * Unlike Lambda, one container serves concurrent invocations (one process per function keeps
 * a 1,000-grant storm on a laptop), and a timed-out invocation's container is not recycled.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Context as LambdaContext } from 'aws-lambda';
import { extractZip } from './zip.ts';

export type LambdaHandler = (event: unknown, context: LambdaContext) => Promise<unknown>;

export interface LocalFunction {
  name: string;
  lambdaName: string;
  /** The deployment package (zip). */
  artifact: string;
  /** `functions/createGrant.handler` */
  handler: string;
  timeoutSeconds: number;
  memorySize: number;
  /** The whole environment of the container (template variables, runtime variables, credentials). */
  environment: Record<string, string>;
  /** Files placed into the package after unzipping: path inside the package → source file. */
  overlay?: Record<string, string>;
}

export interface LambdaRuntimeOptions {
  /** node_modules holding the @aws-sdk and @smithy packages the runtime provides. */
  sdkNodeModules: string;
  region: string;
  accountId: string;
  /** The containers' log lines; absent: discarded. */
  log?: (line: string) => void;
}

/** An error as the Node.js runtime reports it to the caller. */
export class LambdaFunctionError extends Error {
  constructor(
    readonly errorType: string,
    readonly errorMessage: string,
    readonly trace: string[],
  ) {
    super(errorMessage);
    this.name = errorType;
    this.stack = trace.join('\n');
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface Container {
  child: ChildProcess;
  pending: Map<string, Pending>;
}

const RUNTIME_PROVIDED = ['@aws-sdk', '@smithy'];
const BOOTSTRAP = path.join(import.meta.dirname, 'bootstrap.mjs');

export class LocalLambdaRuntime {
  private readonly root: string;
  private readonly functions = new Map<string, LocalFunction>();
  private readonly containers = new Map<string, Container>();
  private closed = false;

  constructor(private readonly options: LambdaRuntimeOptions) {
    this.root = mkdtempSync(path.join(tmpdir(), 'identity-center-jit-lambda-'));
    mkdirSync(path.join(this.root, 'node_modules'));
    for (const scope of RUNTIME_PROVIDED) symlinkSync(path.join(options.sdkNodeModules, scope), path.join(this.root, 'node_modules', scope), 'dir');
  }

  register(fn: LocalFunction): LambdaHandler {
    this.functions.set(fn.lambdaName, fn);
    return (event, context) => this.invoke(fn.lambdaName, event, context);
  }

  async invoke(lambdaName: string, event: unknown, context?: Partial<LambdaContext>): Promise<unknown> {
    const fn = this.functions.get(lambdaName);
    if (!fn) throw new LambdaFunctionError('ResourceNotFoundException', `Function not found: ${lambdaName}`, []);
    const container = this.container(fn);
    const id = context?.awsRequestId ?? randomUUID();
    const deadlineMs = Date.now() + fn.timeoutSeconds * 1000;
    const meta = {
      awsRequestId: id,
      functionName: fn.lambdaName,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${this.options.region}:${this.options.accountId}:function:${fn.lambdaName}`,
      memoryLimitInMB: String(fn.memorySize),
      logGroupName: `/aws/lambda/${fn.lambdaName}`,
      logStreamName: `local/${fn.lambdaName}`,
      deadlineMs,
    };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        container.pending.delete(id);
        reject(new LambdaFunctionError('Sandbox.Timedout', `RequestId: ${id} Error: Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds`, []));
      }, fn.timeoutSeconds * 1000);
      container.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      container.child.send({ id, event: JSON.stringify(event ?? null), context: meta });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      [...this.containers.values()].map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    this.containers.clear();
    rmSync(this.root, { recursive: true, force: true });
  }

  /** The function's container, started (package unzipped, process forked) on first use: a cold start. */
  private container(fn: LocalFunction): Container {
    const existing = this.containers.get(fn.lambdaName);
    if (existing) return existing;
    if (this.closed) throw new LambdaFunctionError('ServiceException', 'The local Lambda runtime has stopped', []);
    const taskRoot = path.join(this.root, fn.lambdaName);
    if (!existsSync(taskRoot)) {
      extractZip(fn.artifact, taskRoot);
      for (const [inside, source] of Object.entries(fn.overlay ?? {})) {
        mkdirSync(path.dirname(path.join(taskRoot, inside)), { recursive: true });
        copyFileSync(source, path.join(taskRoot, inside));
      }
    }
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      AWS_REGION: this.options.region,
      AWS_DEFAULT_REGION: this.options.region,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      AWS_LAMBDA_FUNCTION_NAME: fn.lambdaName,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.lambdaName}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `local/${fn.lambdaName}`,
      LAMBDA_TASK_ROOT: taskRoot,
      _HANDLER: fn.handler,
      ...fn.environment,
    };
    const log = this.options.log;
    const child = fork(BOOTSTRAP, [], { cwd: taskRoot, env, execArgv: [], stdio: log ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'ignore', 'ignore', 'ipc'], serialization: 'json' });
    const container: Container = { child, pending: new Map() };
    if (log) {
      for (const stream of [child.stdout, child.stderr]) {
        if (stream) createInterface({ input: stream }).on('line', (line) => log(`[lambda] ${fn.lambdaName} ${line}`));
      }
    }
    child.on('message', (message: { id: string; ok: boolean; result?: string; error?: { errorType: string; errorMessage: string; trace?: string[] } }) => {
      const pending = container.pending.get(message.id);
      if (!pending) return;
      container.pending.delete(message.id);
      if (message.ok) pending.resolve(JSON.parse(message.result ?? 'null'));
      else pending.reject(new LambdaFunctionError(message.error!.errorType, message.error!.errorMessage, message.error!.trace ?? []));
    });
    child.on('exit', (code, signal) => {
      if (this.containers.get(fn.lambdaName) === container) this.containers.delete(fn.lambdaName);
      for (const pending of container.pending.values()) {
        pending.reject(new LambdaFunctionError('Runtime.ExitError', `RequestId: ${fn.lambdaName} Error: Runtime exited ${signal ? `with signal: ${signal}` : `with error: exit status ${code}`}`, []));
      }
      container.pending.clear();
    });
    child.on('error', (error) => log?.(`[lambda] ${fn.lambdaName} container error: ${error.message}`));
    this.containers.set(fn.lambdaName, container);
    return container;
  }
}
