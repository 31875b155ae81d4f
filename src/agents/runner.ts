import type { ErrorBody, ProgressStep, Usage } from '../bus/envelope.js';

export type { ProgressStep };

/** A task attempt as a runner sees it (CONTRACT §3: the JSON written to a command's stdin). */
export interface RunnerTask {
  id: string;
  workflowId: string;
  correlationId: string;
  type: string;
  attempt: number;
  input: unknown;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface RunnerContext {
  readonly agent: string;
  readonly instance: string;
  /** Aborted on timeout (reason 'timeout') or cancellation (reason 'cancelled') or shutdown ('shutdown'). */
  readonly signal: AbortSignal;
  /** `signal.aborted`, without making the signal where nothing has asked for it yet (see AttemptAbort). */
  readonly aborted: boolean;
  readonly timeoutMs: number;
  readonly traceparent: string;
  /** Stored as an agent log line under the task's correlation ID. */
  log(level: LogLevel, message: string): void;
  /**
   * A step of a coding CLI's run, as it happens: stored as an agent log line (`message`, else the step's
   * summary) and recorded as a `task.progress` event. Only the coding runners report steps (other runners'
   * output is log lines only); absent where nothing records them.
   */
  progress?(step: ProgressStep, message?: string, level?: LogLevel): void;
}

export type RunnerOutcome =
  | { ok: true; output?: unknown; usage?: Usage }
  | { ok: false; error: ErrorBody; retryable?: boolean; usage?: Usage };

/** Runs one attempt. A runner resolves with an outcome; a throw counts as a failed attempt. */
export interface Runner {
  run(task: RunnerTask, ctx: RunnerContext): Promise<RunnerOutcome>;
  close?(): Promise<void>;
}

export type AbortReason = 'timeout' | 'cancelled' | 'shutdown';

export function abortReason(signal: AbortSignal): AbortReason | undefined {
  if (!signal.aborted) return undefined;
  const r = signal.reason;
  return r === 'timeout' || r === 'cancelled' || r === 'shutdown' ? r : 'cancelled';
}

/** The failure an aborted attempt reports. */
export function abortedOutcome(signal: AbortSignal, timeoutMs: number): RunnerOutcome {
  const reason = abortReason(signal);
  if (reason === 'timeout') {
    return {
      ok: false,
      error: { code: 'HIVE_ERR_TASK_TIMEOUT', message: `task timed out after ${timeoutMs} ms` },
    };
  }
  return {
    ok: false,
    error: { code: 'HIVE_ERR_TASK_CANCELLED', message: `task ${reason ?? 'cancelled'}` },
    retryable: reason === 'shutdown',
  };
}
