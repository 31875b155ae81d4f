import { sql } from 'kysely';
import type { Keys } from '../bus/keys.js';
import type { Pipeline, Redis } from '../bus/redis.js';
import { isoTime } from '../core/iso-time.js';
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

/**
 * Events as they will be stored: ts from the draft, or now. They have no sequence number until their page is
 * inserted (`assignSeqs`), so their JSON is the page's as it is stored.
 */
export function eventsFromDrafts(drafts: readonly EventDraft[]): HiveEvent[] {
  const now = Date.now();
  return drafts.map((d) => {
    const e = {
      // A creation time outside a Date's range (a hostile message) falls back to now rather than throw.
      ts: isoTime(d.ts !== undefined && Math.abs(d.ts) <= 8.64e15 ? d.ts : now),
      type: d.type,
      correlationId: d.correlationId,
      data: d.data ?? {},
    } as HiveEvent;
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

/** Events per live-stream entry: the stream is capped by entry count, so this bounds its memory too. */
const LIVE_CHUNK = 100;

/**
 * The JSON of a page's events (without sequence numbers) in live-stream chunks, kept from the INSERT for the
 * publish after the commit, which sends the same text with the page's numbers. Kept as bytes outside V8's heap:
 * kept as strings they outlived the round trip to PostgreSQL, and every string alive when the young generation is
 * collected is copied, then promoted (about 3 KB per two-step workflow at full load).
 */
const liveChunks = new WeakMap<readonly HiveEvent[], Buffer[]>();

function chunksOf(events: readonly HiveEvent[]): string[] {
  const stored = events.some((e) => e.seq !== undefined)
    ? events.map(({ seq: _seq, ...rest }) => rest)
    : events;
  const texts: string[] = [];
  for (let i = 0; i < stored.length; i += LIVE_CHUNK)
    texts.push(JSON.stringify(stored.slice(i, i + LIVE_CHUNK)));
  liveChunks.set(
    events,
    texts.map((t) => Buffer.from(t, 'utf8')),
  );
  return texts;
}

/** A page's stored text: the events as a JSON array, without their sequence numbers (the page's range gives them). */
export function pageText(events: readonly HiveEvent[]): string {
  const texts = chunksOf(events);
  return texts.length === 1 ? texts[0]! : `[${texts.map((t) => t.slice(1, -1)).join(',')}]`;
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
  return stored.map((e, i) => ({ ...e, seq: first + i, data: e.data ?? {} }));
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

/**
 * Adds the live-stream XADDs of these events to `pipeline` (see publishEvents). Events of one page (what an
 * insert returned) go out as the JSON their page was stored with, numbered by the entry's `first`.
 */
export function queuePublish(
  pipeline: Pipeline,
  keys: Keys,
  events: readonly HiveEvent[],
  maxLen = 200,
): void {
  if (events.length === 0) return;
  const texts = liveChunks.get(events);
  const contiguous = events.at(-1)!.seq === events[0]!.seq + events.length - 1;
  const sorted = texts && contiguous ? events : [...events].sort((a, b) => a.seq - b.seq);
  for (let i = 0, k = 0; i < sorted.length; i += LIVE_CHUNK, k++) {
    const last = Math.min(i + LIVE_CHUNK, sorted.length) - 1;
    pipeline.xadd(
      keys.events(),
      'MAXLEN',
      '~',
      String(maxLen),
      '*',
      'first',
      String(sorted[i]!.seq),
      'last',
      String(sorted[last]!.seq),
      'events',
      texts && contiguous ? texts[k]! : JSON.stringify(sorted.slice(i, last + 1)),
    );
  }
}

/**
 * Reads one live-stream entry back into events (the inverse of publishEvents): events stored without a number
 * are numbered from the entry's `first`. An entry that is not what publishEvents writes gives no events.
 */
export function eventsFromStreamFields(fields: readonly string[]): HiveEvent[] {
  let first = Number.NaN;
  let text: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'first') first = Number(fields[i + 1]);
    else if (fields[i] === 'events') text = fields[i + 1];
  }
  if (text === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  const events = parsed as HiveEvent[];
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    if (typeof e !== 'object' || e === null) return [];
    if (typeof e.seq !== 'number') {
      if (!Number.isSafeInteger(first) || first < 1) return [];
      e.seq = first + i;
    }
  }
  return events;
}
