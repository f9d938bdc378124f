/**
 * The AWS calls this container is waiting on, for the log line of a request that ran out of
 * time: which call, for how long, after how many attempts and which last error. "AWS did not
 * answer in time" then says where the time went (a throttled lookup retried for 20 s, a slow
 * write) without tracing. A Lambda container runs one invocation at a time, so the calls in
 * flight are that invocation's; where one container runs several (the local cloud), the log
 * takes only the calls started since the request began, oldest first.
 */
import type { FinalizeHandler, HandlerExecutionContext, InitializeHandler, MetadataBearer, Pluggable } from '@smithy/types';

export interface CallInFlight {
  /** `Service.Operation`, as the SDK names them (`Identitystore.ListGroupMembershipsForMember`). */
  call: string;
  startedAt: number;
  /** Attempts sent so far, retries included. */
  attempts: number;
  /** The error of the last attempt that failed (ThrottlingException...). */
  lastError?: string;
}

/** A call in flight as the log shows it: how long it has waited instead of when it started. */
export type CallInFlightView = Omit<CallInFlight, 'startedAt'> & { pendingMs: number };

const inFlight = new Set<CallInFlight>();
const CALL = Symbol('callInFlight');
type TrackedContext = HandlerExecutionContext & { [CALL]?: CallInFlight };

/** How many calls a log line lists at most. */
const LISTED = 10;

const serviceOf = (context: HandlerExecutionContext) => (context.clientName ?? 'AWS').replace(/Client$/, '');
const operationOf = (context: HandlerExecutionContext) => (context.commandName ?? 'call').replace(/Command$/, '');

/** Records each call while it is in flight: once around the whole call, once per attempt (inside the retries). */
export const callsInFlightPlugin: Pluggable<object, MetadataBearer> = {
  applyToStack(stack) {
    stack.add(
      (next: InitializeHandler<object, MetadataBearer>, context: TrackedContext) => async (args) => {
        const call: CallInFlight = { call: `${serviceOf(context)}.${operationOf(context)}`, startedAt: Date.now(), attempts: 0 };
        context[CALL] = call;
        inFlight.add(call);
        try {
          return await next(args);
        } finally {
          inFlight.delete(call);
        }
      },
      { step: 'initialize', name: 'callInFlight', override: true },
    );
    stack.add(
      (next: FinalizeHandler<object, MetadataBearer>, context: TrackedContext) => async (args) => {
        const call = context[CALL];
        if (call) call.attempts++;
        try {
          return await next(args);
        } catch (err) {
          if (call) call.lastError = (err as { name?: string } | undefined)?.name ?? 'Error';
          throw err;
        }
      },
      { step: 'finalizeRequest', priority: 'low', name: 'callInFlightAttempt', override: true },
    );
  },
};

/** Adds the plugin to an SDK client. */
export function trackCallsInFlight<C extends { middlewareStack: { use(plugin: never): void } }>(client: C): C {
  client.middlewareStack.use(callsInFlightPlugin as unknown as never);
  return client;
}

/** The calls in flight that started at `since` or later, oldest first. */
export function callsInFlight(since = 0, now = Date.now()): CallInFlightView[] {
  return [...inFlight]
    .filter((c) => c.startedAt >= since)
    .sort((a, b) => a.startedAt - b.startedAt)
    .slice(0, LISTED)
    .map((c) => ({ call: c.call, pendingMs: now - c.startedAt, attempts: c.attempts, ...(c.lastError ? { lastError: c.lastError } : {}) }));
}
