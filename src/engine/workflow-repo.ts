import { sql } from 'kysely';
import { HiveError } from '../core/errors.js';
import type { Db } from '../store/database.js';
import {
  TASK_STATE_COLUMNS,
  type TaskState,
  taskFromRow,
  WORKFLOW_STATE_COLUMNS,
  type WorkflowState,
  workflowFromRow,
} from './state.js';

/**
 * Loads workflows with their tasks under the workflows' row locks (taken in id order, so two coordinators
 * locking overlapping sets cannot deadlock), and writes back what the state machine changed: one
 * multi-row statement per table, each row guarded on the status and attempt it was loaded with.
 */
/**
 * Locks workflow rows in id order. Every writer of task rows takes these locks first (units of work, the
 * dispatch recorder), so lock order is the same everywhere and writers cannot deadlock on task rows.
 */
export async function lockWorkflows(tx: Db, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const unique = [...new Set(ids)].sort();
  await sql`SELECT id FROM workflows WHERE id = ANY(${unique}::text[]) ORDER BY id FOR UPDATE`.execute(tx);
}

export async function loadWorkflowsForUpdate(
  tx: Db,
  ids: readonly string[],
): Promise<Map<string, WorkflowState>> {
  if (ids.length === 0) return new Map();
  const unique = [...new Set(ids)].sort();
  // Locked and read in one statement, in id order (the lock order of lockWorkflows). One array parameter
  // instead of an IN list of hundreds of placeholders: cheaper to bind and to plan.
  const wfRows = await tx
    .selectFrom('workflows')
    .select(WORKFLOW_STATE_COLUMNS)
    .where(sql<boolean>`id = ANY(${unique}::text[])`)
    .orderBy('id')
    .forUpdate()
    .execute();
  const taskRows = await tx
    .selectFrom('tasks')
    .select(TASK_STATE_COLUMNS)
    .where(sql<boolean>`workflow_id = ANY(${unique}::text[])`)
    .execute();
  const byWorkflow = new Map<string, TaskState[]>();
  for (const r of taskRows) {
    const list = byWorkflow.get(r.workflow_id) ?? [];
    list.push(taskFromRow(r));
    byWorkflow.set(r.workflow_id, list);
  }
  return new Map(wfRows.map((w) => [w.id, workflowFromRow(w, byWorkflow.get(w.id) ?? [])]));
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/**
 * Inserts tasks as one JSON parameter (jsonb_populate_recordset against the table's own row type): a batch of
 * a thousand tasks is one statement with one bound value instead of tens of thousands of placeholders.
 */
export async function insertTasks(tx: Db, tasks: readonly TaskState[]): Promise<void> {
  if (tasks.length === 0) return;
  const rows = tasks.map((t) => ({
    workflow_id: t.workflowId,
    id: t.id,
    position: t.position,
    correlation_id: t.correlationId,
    type: t.type,
    agent: t.agent,
    requested_agent: t.requestedAgent,
    candidates: t.candidates,
    status: t.status,
    attempt: t.attempt,
    max_attempts: t.maxAttempts,
    timeout_ms: t.timeoutMs,
    depends_on: t.dependsOn,
    input: t.input ?? {},
    output: t.output ?? null,
    error: t.error,
    usage: t.usage,
    compensate: t.compensate,
    compensation_of: t.compensationOf,
    completed_order: t.completedOrder,
    instance: t.instance,
    not_before: iso(t.notBefore),
    deadline_at: iso(t.deadlineAt),
    queued_at: iso(t.queuedAt),
    started_at: iso(t.startedAt),
    finished_at: iso(t.finishedAt),
  }));
  // A new row holds exactly what the engine keeps of a task; the other columns take their defaults.
  const cols = sql.raw(TASK_STATE_COLUMNS.join(', '));
  await sql`INSERT INTO tasks (${cols}) SELECT ${cols} FROM jsonb_populate_recordset(NULL::tasks, ${JSON.stringify(rows)}::jsonb)`.execute(
    tx,
  );
}

class ConcurrentChange extends HiveError {
  constructor(what: string) {
    super('HIVE_ERR_WORKFLOW_CONFLICT', `${what} changed underneath a guarded update`);
  }
}

export function isRetryableTxError(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  // 23505: two submissions of the same client-chosen workflow id raced; the rerun finds the first one.
  return err instanceof ConcurrentChange || code === '40P01' || code === '40001' || code === '23505';
}

export async function persistWorkflows(tx: Db, workflows: Iterable<WorkflowState>): Promise<void> {
  const wfUpdates: unknown[] = [];
  const inserts: TaskState[] = [];
  const updates: unknown[] = [];
  for (const wf of workflows) {
    if (wf.dirty && wf.origStatus !== null) {
      wfUpdates.push({
        id: wf.id,
        prev_status: wf.origStatus,
        status: wf.status,
        error: wf.error,
        started_at: iso(wf.startedAt),
        finished_at: iso(wf.finishedAt),
      });
    }
    for (const t of wf.tasks.values()) {
      if (!t.dirty) continue;
      if (t.orig === null) {
        inserts.push(t);
        continue;
      }
      updates.push({
        workflow_id: t.workflowId,
        id: t.id,
        prev_status: t.orig.status,
        prev_attempt: t.orig.attempt,
        status: t.status,
        attempt: t.attempt,
        agent: t.agent,
        output: t.output ?? null,
        error: t.error,
        usage: t.usage,
        completed_order: t.completedOrder,
        instance: t.instance,
        not_before: iso(t.notBefore),
        deadline_at: iso(t.deadlineAt),
        queued_at: iso(t.queuedAt),
        started_at: iso(t.startedAt),
        finished_at: iso(t.finishedAt),
        reset_dispatch: t.resetDispatch,
        dispatched_at: t.dispatchMark?.at ?? null,
        msg_id: t.dispatchMark?.msgId ?? null,
      });
    }
  }
  if (wfUpdates.length > 0) {
    const res = await sql`
      UPDATE workflows w SET status = v.status, error = v.error, started_at = v.started_at,
        finished_at = v.finished_at, updated_at = now()
      FROM jsonb_to_recordset(${JSON.stringify(wfUpdates)}::jsonb) AS v(id text, prev_status text, status text,
        error jsonb, started_at timestamptz, finished_at timestamptz)
      WHERE w.id = v.id AND w.status = v.prev_status`.execute(tx);
    if (Number(res.numAffectedRows ?? 0) !== wfUpdates.length) throw new ConcurrentChange('a workflow');
  }
  if (updates.length > 0) {
    // dispatched_at/msg_id belong to the dispatcher (written after the XADD): set here when this unit of work
    // records the dispatch (dispatchMark), cleared when a new attempt is queued, and otherwise left alone, so
    // this update never erases a dispatch marker written concurrently.
    const res = await sql`
      UPDATE tasks t SET status = v.status, attempt = v.attempt, agent = v.agent, output = v.output,
        error = v.error, usage = v.usage, completed_order = v.completed_order, instance = v.instance,
        not_before = v.not_before, deadline_at = v.deadline_at, queued_at = v.queued_at,
        started_at = v.started_at, finished_at = v.finished_at,
        dispatched_at = CASE WHEN v.reset_dispatch THEN NULL ELSE coalesce(v.dispatched_at, t.dispatched_at) END,
        msg_id = CASE WHEN v.reset_dispatch THEN NULL ELSE coalesce(v.msg_id, t.msg_id) END
      FROM jsonb_to_recordset(${JSON.stringify(updates)}::jsonb) AS v(workflow_id text, id text, prev_status text,
        prev_attempt int, status text, attempt int, agent text, output jsonb, error jsonb, usage jsonb,
        completed_order int, instance text, not_before timestamptz, deadline_at timestamptz,
        queued_at timestamptz, started_at timestamptz, finished_at timestamptz, reset_dispatch boolean,
        dispatched_at timestamptz, msg_id text)
      WHERE t.workflow_id = v.workflow_id AND t.id = v.id AND t.status = v.prev_status AND t.attempt = v.prev_attempt`.execute(
      tx,
    );
    if (Number(res.numAffectedRows ?? 0) !== updates.length) throw new ConcurrentChange('a task');
  }
  await insertTasks(tx, inserts);
}
