import type { ErrorBody, Usage } from '../bus/envelope.js';
import type { TaskRow, WorkflowRow } from '../store/schema.js';

export const WORKFLOW_STATUSES = [
  'pending',
  'running',
  'completed',
  'failed',
  'cancelled',
  'compensating',
  'rolled_back',
  'rollback_failed',
] as const;
export type WorkflowStatus = (typeof WORKFLOW_STATUSES)[number];

export const TASK_STATUSES = [
  'pending',
  'queued',
  'running',
  'completed',
  'failed',
  'cancelled',
  'skipped',
  'compensated',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** The columns the engine loads: not the spec, inputs' history or timestamps it never reads. */
export const WORKFLOW_STATE_COLUMNS = [
  'id',
  'correlation_id',
  'name',
  'status',
  'error',
  'trace_id',
  'budget_usd',
  'started_at',
  'finished_at',
] as const satisfies readonly (keyof WorkflowRow)[];
/** `xmin`: the row version (the writing transaction's ID), read with the row as text (see workflow-cache). */
export type WorkflowStateRow = Pick<WorkflowRow, (typeof WORKFLOW_STATE_COLUMNS)[number]> & { xmin?: string };

export const TASK_STATE_COLUMNS = [
  'workflow_id',
  'id',
  'position',
  'correlation_id',
  'type',
  'agent',
  'requested_agent',
  'candidates',
  'status',
  'attempt',
  'max_attempts',
  'timeout_ms',
  'depends_on',
  'input',
  'output',
  'error',
  'usage',
  'compensate',
  'compensation_of',
  'completed_order',
  'instance',
  'not_before',
  'deadline_at',
  'queued_at',
  'started_at',
  'finished_at',
  'msg_id',
] as const satisfies readonly (keyof TaskRow)[];
export type TaskStateRow = Pick<TaskRow, (typeof TASK_STATE_COLUMNS)[number]> & { xmin?: string };

export const FINAL_WORKFLOW_STATUSES: ReadonlySet<WorkflowStatus> = new Set([
  'completed',
  'failed',
  'cancelled',
  'rolled_back',
  'rollback_failed',
]);
export const ACTIVE_TASK_STATUSES: ReadonlySet<TaskStatus> = new Set(['queued', 'running']);

/** In-memory copy of a task row, changed by the state machine and written back with a guarded update. */
export interface TaskState {
  workflowId: string;
  id: string;
  position: number;
  correlationId: string;
  type: string;
  agent: string | null;
  requestedAgent: string | null;
  candidates: string[];
  status: TaskStatus;
  attempt: number;
  maxAttempts: number;
  timeoutMs: number;
  dependsOn: string[];
  input: unknown;
  output: unknown;
  error: ErrorBody | null;
  usage: Usage | null;
  compensate: { type: string; agent?: string; input?: unknown } | null;
  compensationOf: string | null;
  completedOrder: number | null;
  instance: string | null;
  notBefore: Date | null;
  deadlineAt: Date | null;
  queuedAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  /**
   * The row as loaded (null: a new row to insert). The update is guarded on status and attempt; `msgId` is the
   * stream entry whose send is recorded (a send recorded once is not recorded again).
   */
  orig: { status: TaskStatus; attempt: number; msgId?: string | null } | null;
  dirty: boolean;
  /** A new attempt was queued: the dispatch marker of the previous one no longer applies. */
  resetDispatch: boolean;
  /**
   * The dispatch marker of the current attempt, recorded in this unit of work: written by the same UPDATE as
   * the task's other changes instead of an UPDATE of its own (one row version fewer per dispatch).
   */
  dispatchMark?: { at: number; msgId: string };
  /** The row version as read or last written by this process (undefined: not known); see workflow-cache. */
  xmin?: string;
}

export interface WorkflowState {
  id: string;
  correlationId: string;
  name: string | null;
  status: WorkflowStatus;
  error: ErrorBody | null;
  traceId: string | null;
  budgetUsd: number | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  tasks: Map<string, TaskState>;
  origStatus: WorkflowStatus | null;
  dirty: boolean;
  /** The row version as read or last written by this process (undefined: not known); see workflow-cache. */
  xmin?: string;
}

export function taskFromRow(r: TaskStateRow): TaskState {
  return {
    workflowId: r.workflow_id,
    id: r.id,
    position: r.position,
    correlationId: r.correlation_id,
    type: r.type,
    agent: r.agent,
    requestedAgent: r.requested_agent,
    candidates: r.candidates ?? [],
    status: r.status as TaskStatus,
    attempt: r.attempt,
    maxAttempts: r.max_attempts,
    timeoutMs: r.timeout_ms,
    dependsOn: r.depends_on ?? [],
    input: r.input,
    output: r.output ?? null,
    error: (r.error as ErrorBody | null) ?? null,
    usage: (r.usage as Usage | null) ?? null,
    compensate: (r.compensate as TaskState['compensate']) ?? null,
    compensationOf: r.compensation_of,
    completedOrder: r.completed_order,
    instance: r.instance,
    notBefore: r.not_before,
    deadlineAt: r.deadline_at,
    queuedAt: r.queued_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    orig: { status: r.status as TaskStatus, attempt: r.attempt, msgId: r.msg_id },
    dirty: false,
    resetDispatch: false,
    xmin: r.xmin,
  };
}

export function workflowFromRow(r: WorkflowStateRow, tasks: TaskState[]): WorkflowState {
  return {
    id: r.id,
    correlationId: r.correlation_id,
    name: r.name,
    status: r.status as WorkflowStatus,
    error: (r.error as ErrorBody | null) ?? null,
    traceId: r.trace_id,
    budgetUsd: r.budget_usd,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    tasks: new Map(tasks.sort((a, b) => a.position - b.position).map((t) => [t.id, t])),
    origStatus: r.status as WorkflowStatus,
    dirty: false,
    xmin: r.xmin,
  };
}
