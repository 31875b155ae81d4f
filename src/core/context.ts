import { AsyncLocalStorage } from 'node:async_hooks';
import { isValidCorrelationId, newId, newSpanId, newTraceId } from './ids.js';
import { formatTraceparent, parseTraceparent } from './traceparent.js';

/**
 * The correlation context follows a piece of work through every async hop. It is entered with `run()` only
 * (never `enterWith()`), so a context cannot leak into unrelated work that happens to share a tick.
 */
export interface HiveContext {
  readonly correlationId: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly workflowId?: string;
  readonly taskId?: string;
  readonly agent?: string;
}

const storage = new AsyncLocalStorage<HiveContext>();

export function currentContext(): HiveContext | undefined {
  return storage.getStore();
}

export function runInContext<T>(ctx: HiveContext, fn: () => T): T {
  return storage.run(Object.freeze({ ...ctx }), fn);
}

/** Runs `fn` in the current context extended with `extra` (a new span unless one is given). */
export function withContext<T>(extra: Partial<HiveContext>, fn: () => T): T {
  const base = currentContext() ?? newContext();
  return runInContext({ ...base, spanId: newSpanId(), ...extra }, fn);
}

export interface ContextSeed {
  correlationId?: string | undefined;
  traceparent?: string | undefined;
  workflowId?: string | undefined;
  taskId?: string | undefined;
  agent?: string | undefined;
}

/**
 * Builds a context from untrusted inbound values: a valid correlation ID is kept (else a new one), a valid
 * traceparent is continued in a new child span (else a new trace starts).
 */
export function newContext(seed: ContextSeed = {}): HiveContext {
  const parent = parseTraceparent(seed.traceparent);
  const ctx: { -readonly [K in keyof HiveContext]: HiveContext[K] } = {
    correlationId: isValidCorrelationId(seed.correlationId) ? seed.correlationId : newId(),
    traceId: parent?.traceId ?? newTraceId(),
    spanId: newSpanId(),
  };
  if (seed.workflowId) ctx.workflowId = seed.workflowId;
  if (seed.taskId) ctx.taskId = seed.taskId;
  if (seed.agent) ctx.agent = seed.agent;
  return ctx;
}

export function traceparentOf(ctx: HiveContext): string {
  return formatTraceparent(ctx.traceId, ctx.spanId);
}

/** The fields a context contributes to a stream message (see bus/envelope.ts). */
export function contextToFields(ctx: HiveContext): { cid: string; tp: string } {
  return { cid: ctx.correlationId, tp: traceparentOf(ctx) };
}

/** The environment a child process inherits (CONTRACT §3, command runner protocol). */
export function contextToEnv(ctx: HiveContext): Record<string, string> {
  const env: Record<string, string> = {
    HIVE_CORRELATION_ID: ctx.correlationId,
    TRACEPARENT: traceparentOf(ctx),
  };
  if (ctx.workflowId) env.HIVE_WORKFLOW_ID = ctx.workflowId;
  if (ctx.taskId) env.HIVE_TASK_ID = ctx.taskId;
  return env;
}

/** Reads a context back from a child's environment, as a process started by a runner would. */
export function contextFromEnv(env: NodeJS.ProcessEnv = process.env): HiveContext {
  return newContext({
    correlationId: env.HIVE_CORRELATION_ID,
    traceparent: env.TRACEPARENT,
    workflowId: env.HIVE_WORKFLOW_ID,
    taskId: env.HIVE_TASK_ID,
  });
}
