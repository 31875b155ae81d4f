import { sql } from 'kysely';
import type { Keys } from '../bus/keys.js';
import type { Pipeline, Redis } from '../bus/redis.js';
import type { Db } from '../store/database.js';
import type { EventRow } from '../store/schema.js';
import { literal, textArray } from '../store/script.js';

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

/** What a live client asked to see (GET /api/events): every given field must match. */
export interface EventFilter {
  correlationId?: string | undefined;
  workflowId?: string | undefined;
  agent?: string | undefined;
}

export function matches(f: EventFilter, e: HiveEvent): boolean {
  return (
    (!f.correlationId || e.correlationId === f.correlationId) &&
    (!f.workflowId || e.workflowId === f.workflowId) &&
    (!f.agent || e.agent === f.agent)
  );
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
  const res = await sql.raw<{ first_seq: string }>(insertEventsStatement(events)).execute(tx);
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
 * The INSERT of these events as one page (migration 0005): a call of hive_insert_event_page, whose plan
 * PostgreSQL keeps for the session, with the events as one JSON array in draft order and the page's distinct
 * correlation and workflow IDs for its indexes. The function takes the event-order lock before it draws the
 * page's range of sequence numbers and returns the first (`first_seq`); `assignSeqs` numbers the events from it.
 */
export function insertEventsStatement(events: readonly HiveEvent[]): string {
  const correlationIds = new Set<string>();
  const workflowIds = new Set<string>();
  for (const e of events) {
    correlationIds.add(e.correlationId);
    if (e.workflowId) workflowIds.add(e.workflowId);
  }
  return `SELECT hive_insert_event_page(${literal(pageText(events))}, ${events.length}, ${textArray([
    ...correlationIds,
  ])}, ${textArray([...workflowIds])}) AS first_seq`;
}

/** A page's stored text: the events as a JSON array, without their sequence numbers (the page's range gives them). */
export function pageText(events: readonly HiveEvent[]): string {
  return JSON.stringify(events.map(({ seq: _seq, ...stored }) => stored));
}

/** Gives the events the sequence numbers of their page, whose first its INSERT returned (in draft order). */
export function assignSeqs(events: HiveEvent[], rows: readonly { first_seq?: unknown }[]): void {
  const first = Number(rows[0]?.first_seq);
  if (events.length > 0 && !Number.isSafeInteger(first))
    throw new Error('the event page insert returned no first_seq');
  events.forEach((e, i) => {
    e.seq = first + i;
  });
}

/** The events of a stored page, numbered from its first sequence number (the inverse of `pageText`). */
export function eventsOfPage(page: { first_seq: unknown; events: string }): HiveEvent[] {
  const first = Number(page.first_seq);
  const stored = JSON.parse(page.events) as Omit<HiveEvent, 'seq'>[];
  return stored.map((e, i) => ({ seq: first + i, ...e, data: e.data ?? {} }));
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
