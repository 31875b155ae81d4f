import type { NewAgentLog } from '../store/schema.js';
import type { EventDraft } from './events.js';
import type { TaskState, WorkflowState } from './state.js';

export interface CancelSignal {
  agent: string;
  workflowId: string;
  taskId: string;
  attempt: number;
  reason: 'cancelled' | 'timeout';
}

/**
 * What a unit of work decided beside the rows it changed: events and log lines to insert in the same
 * transaction, and the Redis writes to make only after the commit (tasks to send, signals to running tasks).
 */
export class Effects {
  readonly events: EventDraft[] = [];
  readonly logs: NewAgentLog[] = [];
  readonly dispatches: { workflow: WorkflowState; task: TaskState }[] = [];
  readonly cancels: CancelSignal[] = [];
  /** Statements of the caller's own for the unit's write script, run before the engine's (new workflow rows). */
  readonly writes: string[] = [];
  constructor(readonly now: Date = new Date()) {}

  event(draft: EventDraft): void {
    this.events.push(draft);
  }

  /** An engine note attached to a task (stale results, takeovers): kept with the agent logs of that task. */
  note(task: TaskState, level: 'info' | 'warn', message: string, instance: string | null = null): void {
    this.logs.push({
      ts: this.now,
      agent: task.agent ?? 'hive',
      instance,
      workflow_id: task.workflowId,
      task_id: task.id,
      correlation_id: task.correlationId,
      level,
      message,
    });
  }
}
