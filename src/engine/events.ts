import { sql } from 'kysely';
import type { Keys } from '../bus/keys.js';
import type { Pipeline, Redis } from '../bus/redis.js';
import type { Db } from '../store/database.js';
import type { EventRow } from '../store/schema.js';
import { literal } from '../store/script.js';

/**
 * Events (CONTRACT §7) are written in the transaction that makes the change they describe, then published to
 * a capped live stream. Event inserts take a transaction-scoped advisory lock first: sequence numbers are
 * then handed out in commit order, so a reader that has seen seq N has seen every committed event below N.
 * That is what makes SSE resume (`Last-Event-ID`) gapless. The lock is taken last in the transaction, so it is
 * held only for the insert and the commit.
 */
export const EVENT_TYPES = [
  'workflow.submitted',
  'workflow.started',
  'workflow.completed',
  'workflow.failed',
  'workflow.cancelled',
  'workflow.compensating',
  'workflow.rolled_back',
  'workflow.rollback_failed',
  'task.queued',
  'task.routed',
  'task.dispatched',
  'task.started',
  'task.completed',
  'task.failed',
  'task.retrying',
  'task.timed_out',
  'task.cancelled',
  'task.dead_lettered',
  /** A step of a coding CLI's run (init, a turn, an item, the result), as it happens. */
  'task.progress',
  'agent.online',
  'agent.offline',
  'command.invoked',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface EventDraft {
  type: EventType;
  correlationId: string;
  workflowId?: string | undefined;
  taskId?: string | undefined;
  agent?: string | undefined;
  data?: Record<string, unknown>;
  /** Creation time (ms); defaults to now. Kept from the moment the change happened, for latency figures. */
  ts?: number;
}

export interface HiveEvent {
  seq: number;
  ts: string;
  type: EventType;
  correlationId: string;
  workflowId?: string;
  taskId?: string;
  agent?: string;
  data: Record<string, unknown>;
}

export function eventFromRow(row: EventRow): HiveEvent {
  const e: HiveEvent = {
    seq: Number(row.seq),
    ts: new Date(row.ts).toISOString(),
    type: row.type as EventType,
    correlationId: row.correlation_id,
    data: (row.data ?? {}) as Record<string, unknown>,
  };
  if (row.workflow_id) e.workflowId = row.workflow_id;
  if (row.task_id) e.taskId = row.task_id;
  if (row.agent) e.agent = row.agent;
  return e;
}

/**
 * Inserts events inside `tx` and returns them with their sequence numbers. A unit of work sends the same
 * statement (`insertEventsStatement`) in its write script instead.
 */
export async function insertEvents(tx: Db, drafts: readonly EventDraft[]): Promise<HiveEvent[]> {
  if (drafts.length === 0) return [];
  const events = eventsFromDrafts(drafts);
  const res = await sql.raw<{ seq: number }>(insertEventsStatement(events)).execute(tx);
  assignSeqs(events, res.rows);
  return events;
}

/** Events as they will be stored (sequence numbers still 0): ts from the draft, or now. */
export function eventsFromDrafts(drafts: readonly EventDraft[]): HiveEvent[] {
  const now = Date.now();
  return drafts.map((d) => {
    const e: HiveEvent = {
      seq: 0,
      // A creation time outside a Date's range (a hostile message) falls back to now rather than throw.
      ts: new Date(d.ts !== undefined && Math.abs(d.ts) <= 8.64e15 ? d.ts : now).toISOString(),
      type: d.type,
      correlationId: d.correlationId,
      data: d.data ?? {},
    };
    if (d.workflowId) e.workflowId = d.workflowId;
    if (d.taskId) e.taskId = d.taskId;
    if (d.agent) e.agent = d.agent;
    return e;
  });
}

/**
 * The INSERT of these events, returning their sequence numbers: a call of hive_insert_events (migration 0004),
 * whose plan PostgreSQL keeps for the session. The rows travel as one JSON literal (jsonb_to_recordset): for the
 * hundreds of events of a coordinator batch that is several times cheaper to parse than eight values per row.
 * The function takes the advisory lock before any sequence number is drawn, and inserts in draft order, so
 * sequence numbers follow the order the changes were decided in.
 */
export function insertEventsStatement(events: readonly HiveEvent[]): string {
  const rows = events.map((e, n) => ({
    n,
    ts: e.ts,
    type: e.type,
    c: e.correlationId,
    w: e.workflowId ?? null,
    t: e.taskId ?? null,
    a: e.agent ?? null,
    d: e.data,
  }));
  return `SELECT hive_insert_events(${literal(JSON.stringify(rows))}::jsonb) AS seq`;
}

/** Gives the events the sequence numbers their INSERT returned (in draft order: the lowest first). */
export function assignSeqs(events: HiveEvent[], rows: readonly { seq: unknown }[]): void {
  const seqs = rows.map((r) => Number(r.seq)).sort((a, b) => a - b);
  events.forEach((e, i) => {
    e.seq = seqs[i]!;
  });
}

/**
 * Publishes committed events to the live stream: one entry per committed batch (`first`, `last`, `events` as a
 * JSON array), so a batch of hundreds of events is one XADD. The stream is capped: it is a notification
 * channel; PostgreSQL is the record, and a reader that misses an entry catches up from it by sequence number.
 */
export async function publishEvents(
  redis: Redis,
  keys: Keys,
  events: readonly HiveEvent[],
  maxLen = 200,
): Promise<void> {
  if (events.length === 0) return;
  const pipeline = redis.pipeline();
  queuePublish(pipeline, keys, events, maxLen);
  await pipeline.exec();
}

/** Adds the live-stream XADDs of these events to `pipeline` (see publishEvents). */
export function queuePublish(
  pipeline: Pipeline,
  keys: Keys,
  events: readonly HiveEvent[],
  maxLen = 200,
): void {
  if (events.length === 0) return;
  const sorted = [...events].sort((a, b) => a.seq - b.seq);
  // Entries of at most 100 events: the stream is capped by entry count, so this bounds its memory too.
  for (let i = 0; i < sorted.length; i += 100) {
    const chunk = sorted.slice(i, i + 100);
    pipeline.xadd(
      keys.events(),
      'MAXLEN',
      '~',
      String(maxLen),
      '*',
      'first',
      String(chunk[0]!.seq),
      'last',
      String(chunk.at(-1)!.seq),
      'events',
      JSON.stringify(chunk),
    );
  }
}

/** Reads one live-stream entry back into events (the inverse of publishEvents). */
export function eventsFromStreamFields(fields: readonly string[]): HiveEvent[] {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'events') {
      try {
        const parsed = JSON.parse(fields[i + 1]!);
        return Array.isArray(parsed) ? (parsed as HiveEvent[]) : [];
      } catch {
        return [];
      }
    }
  }
  return [];
}
