import type { Usage } from '../../bus/envelope.js';
import { isHiveError } from '../../core/errors.js';
import {
  abortedOutcome,
  type LogLevel,
  type Runner,
  type RunnerContext,
  type RunnerOutcome,
  type RunnerTask,
} from '../runner.js';

export interface TaskLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface HandlerContext {
  /** Aborted on timeout, cancellation or shutdown: long handlers should watch it. */
  signal: AbortSignal;
  log: TaskLogger;
  attempt: number;
  agent: string;
  instance: string;
  traceparent: string;
  /** Reports token and cost usage for the task (CONTRACT §6 `usage`). */
  reportUsage(usage: Usage): void;
}

export type TaskHandler = (task: RunnerTask, ctx: HandlerContext) => Promise<unknown> | unknown;

/** The `sdk` runner: a function in the agent's own process. Its return value is the output; a throw fails the attempt. */
export class SdkRunner implements Runner {
  constructor(private readonly handle: TaskHandler) {}

  async run(task: RunnerTask, ctx: RunnerContext): Promise<RunnerOutcome> {
    let usage: Usage | undefined;
    const at = (level: LogLevel) => (message: string) => ctx.log(level, String(message));
    const hctx: HandlerContext = {
      // A getter: a handler that never looks at its signal costs no AbortSignal (see AttemptAbort).
      get signal() {
        return ctx.signal;
      },
      log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
      attempt: task.attempt,
      agent: ctx.agent,
      instance: ctx.instance,
      traceparent: ctx.traceparent,
      reportUsage: (u) => {
        usage = u;
      },
    };
    try {
      const output = await this.handle(task, hctx);
      if (ctx.aborted) return abortedOutcome(ctx.signal, ctx.timeoutMs);
      return usage ? { ok: true, output: output ?? null, usage } : { ok: true, output: output ?? null };
    } catch (err) {
      if (ctx.aborted) return abortedOutcome(ctx.signal, ctx.timeoutMs);
      const error = isHiveError(err)
        ? err.toJSON()
        : {
            code:
              (err as { code?: string })?.code &&
              /^[A-Z0-9_]{1,64}$/.test(String((err as { code?: string }).code))
                ? String((err as { code: string }).code)
                : 'HIVE_ERR_TASK_FAILED',
            message: err instanceof Error ? err.message : String(err),
          };
      const retryable = (err as { retryable?: boolean })?.retryable;
      return {
        ok: false,
        error,
        ...(retryable === false ? { retryable: false } : {}),
        ...(usage ? { usage } : {}),
      };
    }
  }
}
