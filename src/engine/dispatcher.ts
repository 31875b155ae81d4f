import { sql } from 'kysely';
import { encode } from '../bus/envelope.js';
import type { Pipeline, PipelineReplies } from '../bus/redis.js';
import { newSpanId, newTraceId } from '../core/ids.js';
import { isoTime } from '../core/iso-time.js';
import { formatTraceparent } from '../core/traceparent.js';
import type { Db } from '../store/database.js';
import { recordSpan, SpanKind } from '../telemetry/tracing.js';
import { type EngineDeps, perDeps } from './deps.js';
import { type EventDraft, type HiveEvent, insertEvents, publishEvents } from './events.js';
import type { WorkflowState } from './state.js';
import { workflowCacheFor } from './workflow-cache.js';
import { lockWorkflows } from './workflow-repo.js';

/** A task attempt to send to its agent's stream. */
export interface DispatchItem {
  workflowId: string;
  taskId: string;
  attempt: number;
  agent: string;
  type: string;
  input: unknown;
  timeoutMs: number;
  correlationId: string;
  traceId: string | null;
}

export interface Sent {
  item: DispatchItem;
  entryId: string;
  ts: number;
}

/**
 * Sends task attempts to agent streams (one pipeline per batch) and records each send: `dispatched_at`, the
 * stream entry ID and a `task.dispatched` event.
 *
 * The record waits, per workflow, for the next unit of work on that workflow: the one applying the task's
 * result, usually, which writes the marker with the task's other changes in one UPDATE and the
 * `task.dispatched` event just before `task.started`. Sends still unrecorded after `holdMs` (long tasks, or
 * workflows nobody touches meanwhile) are recorded together by a marker transaction of their own (a group
 * commit). The outbox stays exact: a task committed as queued whose send was never recorded keeps
 * `dispatched_at` NULL, and the recovery sweep sends it again if it has not started by then (its threshold,
 * `outboxAfterMs`, is well above `holdMs`). A crash between the XADD and the record therefore costs at most
 * a duplicate delivery, which the attempt guard absorbs.
 */
export class Dispatcher {
  /** Unrecorded sends by workflow, in send order (a Map keeps insertion order: oldest workflows first). */
  private pending = new Map<string, Sent[]>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: EngineDeps,
    private readonly holdMs = 200,
  ) {}

  async send(items: readonly DispatchItem[]): Promise<void> {
    if (items.length === 0) return;
    const pipeline = this.deps.redis.pipeline();
    const sent = this.queueSends(pipeline, items);
    sent((await pipeline.exec()) ?? []);
  }

  /**
   * Adds the XADDs of these attempts to `pipeline`, so that a unit of work's Redis writes after its commit go out
   * in one write. The returned function takes the pipeline's replies and holds each send Redis accepted for
   * its record (a refused one is logged: the outbox sweep resends it).
   */
  queueSends(pipeline: Pipeline, items: readonly DispatchItem[]): (replies: PipelineReplies) => void {
    if (items.length === 0) return () => {};
    const offset = pipeline.length;
    const now = Date.now();
    for (const item of items) {
      const fields = encode({
        kind: 'task',
        cid: item.correlationId,
        tp: formatTraceparent(item.traceId ?? newTraceId(), newSpanId()),
        ts: now,
        wf: item.workflowId,
        task: item.taskId,
        attempt: item.attempt,
        payload: { type: item.type, agent: item.agent, input: item.input, timeoutMs: item.timeoutMs },
      });
      pipeline.xadd(this.deps.keys.agentTasks(item.agent), '*', ...fields);
    }
    return (replies) => {
      const sentAt = Date.now();
      items.forEach((item, i) => {
        const [err, id] = replies[offset + i] ?? [new Error('no reply'), null];
        recordSpan({
          name: `dispatch ${item.type}`,
          traceId: item.traceId,
          startMs: now,
          endMs: sentAt,
          kind: SpanKind.PRODUCER,
          attributes: {
            'hive.workflow_id': item.workflowId,
            'hive.task_id': item.taskId,
            'hive.agent': item.agent,
            'hive.attempt': item.attempt,
          },
          error: err ? String(err) : undefined,
        });
        if (err || typeof id !== 'string') {
          this.deps.logger.warn(
            { err, workflowId: item.workflowId, taskId: item.taskId },
            'dispatch failed; the outbox sweep will resend',
          );
          return;
        }
        this.hold({ item, entryId: id, ts: now });
      });
      this.schedule();
    };
  }

  private hold(s: Sent): void {
    this.pendingOf(s.item.workflowId).push(s);
  }

  private pendingOf(workflowId: string): Sent[] {
    let list = this.pending.get(workflowId);
    if (!list) {
      list = [];
      this.pending.set(workflowId, list);
    }
    return list;
  }

  private schedule(): void {
    if (this.timer || this.pending.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush(Date.now() - this.holdMs);
    }, this.holdMs / 2);
  }

  /**
   * Records the sends made before `sentBefore` (every send when omitted: on shutdown and in tests) in a
   * transaction of their own.
   */
  flush(sentBefore = Number.POSITIVE_INFINITY): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch: Sent[] = [];
    for (const [wf, list] of this.pending) {
      if (list[0]!.ts >= sentBefore) continue;
      batch.push(...list);
      this.pending.delete(wf);
    }
    this.flushing = this.flushing.then(() => (batch.length > 0 ? this.record(batch) : undefined));
    this.schedule();
    return this.flushing;
  }

  /**
   * Hands the unrecorded sends of these workflows to a unit of work on them, which records them in its own
   * transaction before its own events: a task's `task.dispatched` then precedes its `task.started`.
   */
  async take(workflowIds: readonly string[]): Promise<Sent[]> {
    // A record already under way commits first, so this process's dispatch records stay in send order. A timer
    // flush that starts while waiting may take these workflows' sends: wait until no new one has begun.
    for (let f = this.flushing; ; f = this.flushing) {
      await f;
      if (f === this.flushing) break;
    }
    const batch: Sent[] = [];
    for (const wf of workflowIds) {
      const list = this.pending.get(wf);
      if (!list) continue;
      batch.push(...list);
      this.pending.delete(wf);
    }
    return batch;
  }

  /** Returns sends whose unit of work failed, to be recorded later, ahead of newer sends of their workflows. */
  putBack(batch: Sent[]): void {
    for (const s of [...batch].reverse()) this.pendingOf(s.item.workflowId).unshift(s);
    this.schedule();
  }

  private async record(batch: Sent[]): Promise<void> {
    let events: HiveEvent[] = [];
    // These task rows change outside a unit of work: a cached copy would fail its check at the next unit.
    workflowCacheFor(this.deps).drop(batch.map((s) => s.item.workflowId));
    try {
      events = await this.deps.db.transaction().execute(async (tx) => {
        await lockWorkflows(
          tx,
          batch.map((s) => s.item.workflowId),
        );
        return insertEvents(tx, await recordSends(tx, batch));
      });
    } catch (err) {
      // Unrecorded sends are resent by the outbox sweep if their task has not started by then.
      this.deps.logger.warn({ err, sends: batch.length }, 'recording dispatches failed');
      return;
    }
    await publishEvents(this.deps.redis, this.deps.keys, events, this.deps.config.engine.eventsMaxLen).catch(
      () => {},
    );
  }
}

/**
 * Marks sends as recorded inside `tx` and returns their `task.dispatched` events, to insert in the same
 * transaction. A send whose task is among `loaded` (a unit of work's workflows) gets its marker in memory,
 * written by the unit's own task UPDATE; the others get one UPDATE here.
 */
export async function recordSends(
  tx: Db,
  batch: readonly Sent[],
  loaded?: ReadonlyMap<string, WorkflowState>,
): Promise<EventDraft[]> {
  if (batch.length === 0) return [];
  const rest: Sent[] = [];
  // A send is recorded once: one put back after a unit whose COMMIT went through unseen (the connection lost
  // with the reply) is found already marked, and gets no second task.dispatched.
  const recorded = new Set<Sent>();
  for (const s of batch) {
    const task = loaded?.get(s.item.workflowId)?.tasks.get(s.item.taskId);
    if (!task) rest.push(s);
    else if (task.orig?.msgId === s.entryId) recorded.add(s);
    else if (task.attempt === s.item.attempt && task.orig !== null) {
      task.dispatchMark = { at: s.ts, msgId: s.entryId };
      task.dirty = true;
    }
    // (an older attempt's send: the row moved on; nothing to mark, as the guarded UPDATE would find)
  }
  if (rest.length > 0) for (const s of await markSends(tx, rest)) recorded.add(s);
  return batch
    .filter((s) => !recorded.has(s))
    .map((s) => ({
      type: 'task.dispatched' as const,
      correlationId: s.item.correlationId,
      workflowId: s.item.workflowId,
      taskId: s.item.taskId,
      agent: s.item.agent,
      data: { attempt: s.item.attempt, entryId: s.entryId },
      ts: s.ts,
    }));
}

/** Marks the sends' task rows; returns the sends that were already recorded (their rows hold their entry ID). */
async function markSends(tx: Db, batch: readonly Sent[]): Promise<Sent[]> {
  // Callers hold the workflows' locks (see lockWorkflows) before touching their task rows.
  const marks = batch.map((s) => ({
    w: s.item.workflowId,
    t: s.item.taskId,
    a: s.item.attempt,
    m: s.entryId,
    ts: isoTime(s.ts),
  }));
  // `marked` is not read: PostgreSQL runs a data-modifying CTE to completion whether or not the query reads it.
  // The final SELECT sees the rows as they were before it (one snapshot), so it reports only sends recorded earlier.
  const res = await sql<{ m: string }>`
    WITH v AS (
      -- LIMIT: the planner's row estimate (it takes any set-returning function for 100 rows), so it looks rows up by key.
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(marks)}::jsonb) AS v(w text, t text, a int, m text, ts timestamptz)
      LIMIT ${sql.lit(marks.length)}
    ), marked AS (
      UPDATE tasks t SET dispatched_at = v.ts, msg_id = v.m FROM v
      WHERE t.workflow_id = v.w AND t.id = v.t AND t.attempt = v.a AND t.msg_id IS DISTINCT FROM v.m
      RETURNING 1
    )
    SELECT v.m FROM v JOIN tasks t ON t.workflow_id = v.w AND t.id = v.t AND t.msg_id = v.m`.execute(tx);
  const already = new Set(res.rows.map((r) => r.m));
  return batch.filter((s) => already.has(s.entryId));
}

/** The process's dispatcher for these deps (one marker queue per process, shared by submit, coordinator and sweeps). */
export const dispatcherFor = perDeps((deps) => new Dispatcher(deps));
