import { sql } from 'kysely';
import { HiveError } from '../core/errors.js';
import { isoOrNull } from '../core/iso-time.js';
import type { Db } from '../store/database.js';
import type { NewAgentLog } from '../store/schema.js';
import { literal, textArray, withoutNulls } from '../store/script.js';
import {
  TASK_STATE_COLUMNS,
  type TaskState,
  type TaskStateRow,
  taskFromRow,
  WORKFLOW_STATE_COLUMNS,
  type WorkflowState,
  type WorkflowStateRow,
  workflowFromRow,
} from './state.js';

/**
 * Workflows with their tasks, read under the workflows' row locks (taken in id order, so two coordinators
 * locking overlapping sets cannot deadlock), and what the state machine changed written back: one multi-row
 * statement per table, each row guarded on the status and attempt it was loaded with. Units of work send
 * these statements as scripts (store/script.ts): values travel as literals.
 */

/**
 * How a unit of work's transaction begins. A unit reads and writes rows by key, so what it costs must follow the
 * rows it touches, not the size of the tables. PostgreSQL's planner does not know that: on tables without
 * statistics (autovacuum off, or a table that grew since it was last analyzed) it takes `id = ANY(<300 ids>)`
 * for a large share of the table and scans the whole of it, once per statement. Measured in a 20,000-workflow
 * run: 250 of ~600 units scanned both `tasks` and `workflows` whole, 5.6 million rows read. Turning sequential
 * scans off for the transaction leaves the planner every index path (it still scans a table that has none).
 */
export const BEGIN_UNIT_STATEMENTS: readonly string[] = ['BEGIN', 'SET LOCAL enable_seqscan = off'];

/** Workflow IDs in the order every writer locks them: each once, sorted. */
function lockOrder(ids: readonly string[]): string[] {
  return [...new Set(ids)].sort();
}

/**
 * Locks workflow rows in id order. Every writer of task rows takes these locks first (units of work, the
 * dispatch recorder), so lock order is the same everywhere and writers cannot deadlock on task rows.
 */
export async function lockWorkflows(tx: Db, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const unique = lockOrder(ids);
  await sql`SELECT id FROM workflows WHERE id = ANY(${unique}::text[]) ORDER BY id FOR UPDATE`.execute(tx);
}

/**
 * The statements that lock these workflows in id order (the lock order of lockWorkflows) and read them, then
 * read their tasks. Two statements, not one: under READ COMMITTED the second takes its snapshot after the
 * locks are held, so it sees every task change committed by the unit of work that held them before.
 */
export function loadWorkflowsStatements(ids: readonly string[]): [string, string] {
  const unique = textArray(lockOrder(ids));
  return [
    `SELECT ${WORKFLOW_STATE_COLUMNS.join(', ')}, xmin::text AS xmin FROM workflows WHERE id = ANY(${unique}) ORDER BY id FOR UPDATE`,
    `SELECT ${TASK_STATE_COLUMNS.join(', ')}, xmin::text AS xmin FROM tasks WHERE workflow_id = ANY(${unique})`,
  ];
}

/**
 * For a unit deciding on cached workflows (workflow-cache.ts): locks them in id order (as loadWorkflowsStatements
 * does), then checks, in a statement of its own so that its snapshot is taken under the locks, that their
 * workflow and task rows are exactly the ones cached, by row version. Any difference (a row another process
 * wrote, a task inserted or deleted) raises HW001, and the unit reruns on rows read afresh.
 */
export function checkCachedStatements(workflows: Iterable<WorkflowState>): [string, string] {
  const expected: { k: string; w: string; t: string; x: string | undefined }[] = [];
  for (const wf of workflows) {
    expected.push({ k: 'w', w: wf.id, t: '', x: wf.xmin });
    for (const t of wf.tasks.values()) expected.push({ k: 't', w: wf.id, t: t.id, x: t.xmin });
  }
  const ids = textArray(lockOrder(expected.map((e) => e.w)));
  return [
    `SELECT 1 FROM workflows WHERE id = ANY(${ids}) ORDER BY id FOR UPDATE`,
    `SELECT hive_check_cached(${ids}, ${literal(JSON.stringify(expected))}::json)`,
  ];
}

/** The transaction's ID as a row it writes carries it in xmin (the low 32 bits of txid_current()). */
export const CURRENT_XID_STATEMENT = 'SELECT (txid_current() % 4294967296)::text AS xid';

/** The engine's state from the rows the load statements returned. */
export function workflowsFromRows(
  wfRows: readonly Record<string, unknown>[],
  taskRows: readonly Record<string, unknown>[],
): Map<string, WorkflowState> {
  const byWorkflow = new Map<string, TaskState[]>();
  for (const r of taskRows as TaskStateRow[]) {
    const list = byWorkflow.get(r.workflow_id) ?? [];
    list.push(taskFromRow(r));
    byWorkflow.set(r.workflow_id, list);
  }
  return new Map(
    (wfRows as WorkflowStateRow[]).map((w) => [w.id, workflowFromRow(w, byWorkflow.get(w.id) ?? [])]),
  );
}

/** A time as milliseconds since the epoch: the updates' rows carry times as numbers (to_timestamp(ms / 1000)). */
const ms = (d: Date | null) => (d ? d.getTime() : null);

/**
 * The INSERT of new tasks as one JSON literal (json_populate_recordset against the table's own row type): a
 * batch of a thousand tasks is one statement with one value instead of tens of thousands of placeholders.
 */
export function insertTasksStatement(tasks: readonly TaskState[]): string {
  // A key left out reads as NULL, as a null would (the base record is NULL::tasks).
  const rows = tasks.map((t) =>
    withoutNulls({
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
      output: t.output,
      error: t.error,
      usage: t.usage,
      compensate: t.compensate,
      compensation_of: t.compensationOf,
      completed_order: t.completedOrder,
      instance: t.instance,
      not_before: isoOrNull(t.notBefore),
      deadline_at: isoOrNull(t.deadlineAt),
      queued_at: isoOrNull(t.queuedAt),
      started_at: isoOrNull(t.startedAt),
      finished_at: isoOrNull(t.finishedAt),
    }),
  );
  // A new row holds exactly what the engine keeps of a task; the other columns take their defaults.
  const cols = TASK_STATE_COLUMNS.join(', ');
  return `INSERT INTO tasks (${cols}) SELECT ${cols} FROM json_populate_recordset(NULL::tasks, ${literal(JSON.stringify(rows))}::json)`;
}

/** The INSERT of log lines (agent lines and engine notes) as one JSON literal. */
export function insertLogsStatement(logs: readonly NewAgentLog[]): string {
  const cols = 'ts, agent, instance, workflow_id, task_id, correlation_id, level, message';
  return `INSERT INTO agent_logs (${cols}) SELECT ${cols} FROM json_populate_recordset(NULL::agent_logs, ${literal(JSON.stringify(logs))}::json)`;
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

/** The SQLSTATE hive_expect_rows raises (migrations/0002): a guarded update changed fewer rows than loaded. */
const GUARD_FAILED = 'HW001';

/** A guard that failed inside a write script, as the error the unit of work reruns on. */
export function asConcurrentChange(err: unknown): unknown {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e?.code !== GUARD_FAILED) return err;
  return new ConcurrentChange(
    String(e.message ?? 'a row').replace(/ changed underneath a guarded update$/, ''),
  );
}

/**
 * What the state machine changed, as statements: one multi-row statement per table, each row guarded on the
 * status and attempt it was loaded with; new tasks inserted.
 */
export function workflowWrites(workflows: Iterable<WorkflowState>): string[] {
  const writes: string[] = [];
  const wfUpdates: unknown[] = [];
  const inserts: TaskState[] = [];
  const updates: unknown[] = [];
  for (const wf of workflows) {
    if (wf.dirty && wf.origStatus !== null) {
      wfUpdates.push(
        withoutNulls({
          id: wf.id,
          prev_status: wf.origStatus,
          status: wf.status,
          error: wf.error,
          started_at: ms(wf.startedAt),
          finished_at: ms(wf.finishedAt),
        }),
      );
    }
    for (const t of wf.tasks.values()) {
      if (!t.dirty) continue;
      if (t.orig === null) {
        inserts.push(t);
        continue;
      }
      updates.push(
        withoutNulls({
          workflow_id: t.workflowId,
          id: t.id,
          prev_status: t.orig.status,
          prev_attempt: t.orig.attempt,
          status: t.status,
          attempt: t.attempt,
          agent: t.agent,
          output: t.output,
          error: t.error,
          usage: t.usage,
          completed_order: t.completedOrder,
          instance: t.instance,
          not_before: ms(t.notBefore),
          deadline_at: ms(t.deadlineAt),
          queued_at: ms(t.queuedAt),
          started_at: ms(t.startedAt),
          finished_at: ms(t.finishedAt),
          reset_dispatch: t.resetDispatch || null,
          dispatched_at: t.dispatchMark?.at ?? null,
          msg_id: t.dispatchMark?.msgId ?? null,
        }),
      );
    }
  }
  // The updates run inside functions (migration 0004): their plans are kept for the session, and a row that
  // moved on underneath (fewer rows changed than sent) raises HW001.
  if (wfUpdates.length > 0) {
    writes.push(
      `SELECT hive_update_workflows(${literal(JSON.stringify(wfUpdates))}::json, ${wfUpdates.length})`,
    );
  }
  if (updates.length > 0) {
    writes.push(`SELECT hive_update_tasks(${literal(JSON.stringify(updates))}::json, ${updates.length})`);
  }
  if (inserts.length > 0) writes.push(insertTasksStatement(inserts));
  return writes;
}
