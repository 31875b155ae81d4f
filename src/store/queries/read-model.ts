import { sql } from 'kysely';
import { HiveError } from '../../core/errors.js';
import type { Db } from '../database.js';
import { decodeCursor, encodeCursor, invalidCursor } from './cursor.js';
import { eventsOfCorrelation } from './event-pages.js';
import { logView, taskView, workflowSummary, workflowView } from './views.js';

/** The read side of the API: plain queries over the tables, shaped as CONTRACT §6. */
export async function getWorkflow(db: Db, id: string) {
  const w = await db.selectFrom('workflows').selectAll().where('id', '=', id).executeTakeFirst();
  if (!w) throw new HiveError('HIVE_ERR_WORKFLOW_NOT_FOUND', `no workflow with id "${id}"`);
  const tasks = await db.selectFrom('tasks').selectAll().where('workflow_id', '=', id).execute();
  return workflowView(w, tasks);
}

export async function listWorkflows(
  db: Db,
  opts: { status?: string | undefined; limit: number; cursor?: string | undefined },
) {
  const after = decodeCursor(opts.cursor);
  if (after !== undefined && typeof after !== 'string') throw invalidCursor();
  let q = db
    .selectFrom('workflows')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(opts.limit + 1);
  if (opts.status) q = q.where('status', '=', opts.status);
  if (after !== undefined) q = q.where('id', '<', String(after));
  const rows = await q.execute();
  const page = rows.slice(0, opts.limit);
  // Progress (done/total) per workflow in one grouped query.
  const counts = page.length
    ? await db
        .selectFrom('tasks')
        .select([
          'workflow_id',
          sql<number>`count(*)::int`.as('total'),
          sql<number>`count(*) FILTER (WHERE status = 'completed')::int`.as('done'),
        ])
        .where(sql<boolean>`workflow_id = ANY(${page.map((r) => r.id)}::text[])`)
        .groupBy('workflow_id')
        .execute()
    : [];
  const byId = new Map(counts.map((c) => [c.workflow_id, c]));
  return {
    items: page.map((w) => ({
      ...workflowSummary(w),
      progress: { done: Number(byId.get(w.id)?.done ?? 0), total: Number(byId.get(w.id)?.total ?? 0) },
    })),
    nextCursor: rows.length > opts.limit ? encodeCursor(page.at(-1)!.id) : null,
  };
}

/**
 * Agent log lines, oldest first within the page. Without `after`, the page is the newest `limit` lines and
 * `nextCursor` pages back to older ones; with `after` (a line id: how `--follow` polls), the lines after it.
 */
export async function listLogs(
  db: Db,
  f: {
    correlationId?: string | undefined;
    workflowId?: string | undefined;
    taskId?: string | undefined;
    agent?: string | undefined;
    limit: number;
    after?: number | undefined;
    cursor?: string | undefined;
  },
) {
  const before = decodeCursor(f.cursor);
  if (before !== undefined && typeof before !== 'number') throw invalidCursor();
  let q = db
    .selectFrom('agent_logs')
    .selectAll()
    .orderBy('id', f.after !== undefined ? 'asc' : 'desc')
    .limit(f.limit + 1);
  if (f.correlationId) q = q.where('correlation_id', '=', f.correlationId);
  if (f.workflowId) q = q.where('workflow_id', '=', f.workflowId);
  if (f.taskId) q = q.where('task_id', '=', f.taskId);
  if (f.agent) q = q.where('agent', '=', f.agent);
  if (f.after !== undefined) q = q.where('id', '>', String(f.after));
  if (before !== undefined) q = q.where('id', '<', String(before));
  const rows = await q.execute();
  const more = rows.length > f.limit;
  const page = rows.slice(0, f.limit);
  if (f.after !== undefined) return { items: page.map(logView), nextCursor: null };
  return {
    items: page.reverse().map(logView),
    nextCursor: more ? encodeCursor(Number(page[0]!.id)) : null,
  };
}

/** Everything under one correlation ID, each part with its timings. */
export async function correlationTimeline(db: Db, cid: string) {
  const [workflows, tasks, events, logs, requests, commands] = await Promise.all([
    db.selectFrom('workflows').selectAll().where('correlation_id', '=', cid).orderBy('created_at').execute(),
    // Through the workflows (a task carries its workflow's correlation ID; tasks have no index of their own on it).
    db
      .selectFrom('tasks')
      .selectAll()
      .where('workflow_id', 'in', (eb) =>
        eb.selectFrom('workflows').select('id').where('correlation_id', '=', cid),
      )
      .execute(),
    eventsOfCorrelation(db, cid, 10_000),
    db
      .selectFrom('agent_logs')
      .selectAll()
      .where('correlation_id', '=', cid)
      .orderBy('id')
      .limit(10_000)
      .execute(),
    db
      .selectFrom('http_requests')
      .selectAll()
      .where('correlation_id', '=', cid)
      .orderBy('id')
      .limit(1_000)
      .execute(),
    db.selectFrom('command_runs').selectAll().where('correlation_id', '=', cid).orderBy('ts').execute(),
  ]);
  return {
    correlationId: cid,
    commands: commands.map((c) => ({
      id: c.id,
      ts: c.ts.toISOString(),
      command: c.command,
      args: c.args,
      file: c.file,
      workflowId: c.workflow_id,
      status: c.status,
      error: c.error ?? null,
    })),
    requests: requests.map((r) => ({
      ts: r.ts.toISOString(),
      method: r.method,
      route: r.route,
      url: r.url,
      status: r.status,
      durationMs: r.duration_ms,
      traceId: r.trace_id,
    })),
    workflows: workflows.map(workflowSummary),
    tasks: tasks.map((t) => ({ workflowId: t.workflow_id, ...taskView(t) })),
    events,
    logs: logs.map(logView),
  };
}

export async function listDeadLetters(db: Db, opts: { limit: number; cursor?: string | undefined }) {
  const after = decodeCursor(opts.cursor);
  if (after !== undefined && typeof after !== 'number') throw invalidCursor();
  let q = db
    .selectFrom('dead_letters')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(opts.limit + 1);
  if (after !== undefined) q = q.where('id', '<', String(after));
  const rows = await q.execute();
  const page = rows.slice(0, opts.limit);
  return {
    items: page.map((d) => ({
      id: Number(d.id),
      ts: d.ts.toISOString(),
      stream: d.stream,
      entryId: d.entry_id,
      reason: d.reason,
      fields: d.fields,
      correlationId: d.correlation_id,
      workflowId: d.workflow_id,
      taskId: d.task_id,
    })),
    nextCursor: rows.length > opts.limit ? encodeCursor(Number(page.at(-1)!.id)) : null,
  };
}
