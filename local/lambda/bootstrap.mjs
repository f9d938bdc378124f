// The Lambda runtime's side of a local function container (a child process started by
// local/lambda/runtime.ts with the function's environment and its package as the task root).
// Loads the handler named by _HANDLER once (the init phase) and runs the invocations the
// parent sends over IPC, reporting failures the way the Node.js runtime does:
// { errorType: error.name, errorMessage, trace }.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const taskRoot = process.env.LAMBDA_TASK_ROOT;
const spec = process.env._HANDLER ?? '';
const dot = spec.lastIndexOf('.');
const moduleBase = spec.slice(0, dot);
const exportName = spec.slice(dot + 1);

class RuntimeError extends Error {
  constructor(name, message) {
    super(message);
    this.name = name;
  }
}

let loading;
function loadHandler() {
  loading ??= (async () => {
    const file = ['.mjs', '.js', '.cjs'].map((ext) => path.join(taskRoot, moduleBase + ext)).find((f) => existsSync(f));
    if (!file) throw new RuntimeError('Runtime.ImportModuleError', `Error: Cannot find module '${moduleBase}'`);
    let mod;
    try {
      mod = await import(pathToFileURL(file).href);
    } catch (error) {
      if (error?.code === 'ERR_MODULE_NOT_FOUND') throw new RuntimeError('Runtime.ImportModuleError', `Error: ${error.message}`);
      throw error;
    }
    const handler = mod[exportName];
    if (typeof handler !== 'function') throw new RuntimeError('Runtime.HandlerNotFound', `${moduleBase}.${exportName} is undefined or not exported`);
    return handler;
  })();
  return loading;
}

function report(error) {
  if (error instanceof Error) {
    return { errorType: error.name, errorMessage: error.message, trace: String(error.stack ?? '').split('\n') };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

process.on('message', async (message) => {
  const { id, event, context: meta } = message;
  const context = {
    ...meta,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, meta.deadlineMs - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  try {
    const handler = await loadHandler();
    const result = await handler(JSON.parse(event), context);
    process.send({ id, ok: true, result: result === undefined ? 'null' : JSON.stringify(result) });
  } catch (error) {
    process.send({ id, ok: false, error: report(error) });
  }
});

process.on('unhandledRejection', (reason) => {
  console.error(JSON.stringify({ level: 'ERROR', message: 'Unhandled promise rejection', ...report(reason) }));
});

// The parent is the Lambda service: when it goes, so does the container.
process.on('disconnect', () => process.exit(0));
