import { sql } from 'kysely';
import { encode } from '../bus/envelope.js';
import { newSpanId, newTraceId } from '../core/ids.js';
import { formatTraceparent } from '../core/traceparent.js';
import type { Db } from '../store/database.js';
import { recordSpan, SpanKind } from '../telemetry/tracing.js';
import type { EngineDeps } from './deps.js';
import { type EventDraft, type HiveEvent, insertEvents, publishEvents } from './events.js';
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
 * The record is written by a per-process marker that groups the sends of every caller into one transaction
 * every few milliseconds (a group commit), instead of one extra commit per coordinator batch on the hot path.
 * The outbox stays exact: a task committed as queued whose send was never recorded keeps `dispatched_at`
 * NULL, and the recovery sweep sends it again if it has not started by then. A crash between the XADD and
 * the record therefore costs at most a duplicate delivery, which the attempt guard absorbs.
 */
export class Dispatcher {
  private pending: Sent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: EngineDeps,
    private readonly flushMs = 10,
  ) {}

  async send(items: readonly DispatchItem[]): Promise<void> {
    if (items.length === 0) return;
    const pipeline = this.deps.redis.pipeline();
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
    const replies = (await pipeline.exec()) ?? [];
    const sentAt = Date.now();
    replies.forEach(([err, id], i) => {
      const item = items[i]!;
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
      this.pending.push({ item, entryId: id, ts: now });
    });
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  /** Writes the records of every send so far (also called on shutdown and by tests). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    this.flushing = this.flushing.then(() => (batch.length > 0 ? this.record(batch) : undefined));
    return this.flushing;
  }

  /**
   * Hands the unrecorded sends to a unit of work that records them in its own transaction, before its own
   * events: a task's `task.dispatched` then precedes its `task.started` in sequence order.
   */
  async take(): Promise<Sent[]> {
    // A flush already under way commits first, so this process's dispatch records stay in send order.
    await this.flushing;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    return batch;
  }

  /** Returns sends whose unit of work failed, to be recorded later. */
  putBack(batch: Sent[]): void {
    if (batch.length === 0) return;
    this.pending.unshift(...batch);
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  private async record(batch: Sent[]): Promise<void> {
    let events: HiveEvent[] = [];
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

/** Marks sends as recorded inside `tx` and returns their `task.dispatched` events, to insert in the same transaction. */
export async function recordSends(tx: Db, batch: readonly Sent[]): Promise<EventDraft[]> {
  if (batch.length === 0) return [];
  // Callers hold the workflows' locks (see lockWorkflows) before touching their task rows.
  const marks = batch.map((s) => ({
    w: s.item.workflowId,
    t: s.item.taskId,
    a: s.item.attempt,
    m: s.entryId,
    ts: new Date(s.ts).toISOString(),
  }));
  await sql`
    UPDATE tasks t SET dispatched_at = v.ts, msg_id = v.m
    FROM jsonb_to_recordset(${JSON.stringify(marks)}::jsonb) AS v(w text, t text, a int, m text, ts timestamptz)
    WHERE t.workflow_id = v.w AND t.id = v.t AND t.attempt = v.a`.execute(tx);
  return batch.map((s) => ({
    type: 'task.dispatched' as const,
    correlationId: s.item.correlationId,
    workflowId: s.item.workflowId,
    taskId: s.item.taskId,
    agent: s.item.agent,
    data: { attempt: s.item.attempt, entryId: s.entryId },
    ts: s.ts,
  }));
}

const dispatchers = new WeakMap<EngineDeps, Dispatcher>();

/** The process's dispatcher for these deps (one marker queue per process, shared by submit, coordinator and sweeps). */
export function dispatcherFor(deps: EngineDeps): Dispatcher {
  let d = dispatchers.get(deps);
  if (!d) {
    d = new Dispatcher(deps);
    dispatchers.set(deps, d);
  }
  return d;
}
