import type { AgentConfig } from '../../core/config-file.js';
import {
  abortedOutcome,
  type Runner,
  type RunnerContext,
  type RunnerOutcome,
  type RunnerTask,
} from '../runner.js';

/**
 * The `http` runner: POSTs the task to the agent's URL with the correlation headers; a 2xx JSON body is the
 * output. 4xx answers are not retried (the request itself is wrong), 5xx, 429 and network errors are.
 */
export class HttpRunner implements Runner {
  constructor(private readonly agent: AgentConfig) {}

  async run(task: RunnerTask, ctx: RunnerContext): Promise<RunnerOutcome> {
    let res: Response;
    try {
      res = await fetch(this.agent.url!, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-correlation-id': task.correlationId,
          traceparent: ctx.traceparent,
          'x-hive-task-id': task.id,
          'x-hive-workflow-id': task.workflowId,
          'x-hive-attempt': String(task.attempt),
        },
        body: JSON.stringify(task),
        signal: ctx.signal,
      });
    } catch (err) {
      if (ctx.signal.aborted) return abortedOutcome(ctx.signal, ctx.timeoutMs);
      return {
        ok: false,
        error: { code: 'HIVE_ERR_TASK_HTTP', message: `request failed: ${(err as Error).message}` },
      };
    }
    const text = await res.text().catch(() => '');
    if (!res.ok) {
      return {
        ok: false,
        error: {
          code: 'HIVE_ERR_TASK_HTTP',
          message: `agent answered ${res.status}`,
          details: { status: res.status, body: text.slice(0, 2_000) },
        },
        retryable: res.status >= 500 || res.status === 429,
      };
    }
    if (text.trim() === '') return { ok: true, output: null };
    try {
      return { ok: true, output: JSON.parse(text) };
    } catch {
      return {
        ok: false,
        error: {
          code: 'HIVE_ERR_TASK_OUTPUT_INVALID',
          message: 'agent answered 2xx with a body that is not JSON',
        },
        retryable: false,
      };
    }
  }
}
