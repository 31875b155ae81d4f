import { sql } from 'kysely';
import type { Keys } from '../bus/keys.js';
import type { Redis } from '../bus/redis.js';
import type { Db } from '../store/database.js';
import type { EventRow } from '../store/schema.js';

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

const EVENT_ORDER_LOCK = 4_483_002;

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

/** Inserts events in one multi-row statement inside `tx`; returns them with their sequence numbers. */
export async function insertEvents(tx: Db, drafts: readonly EventDraft[]): Promise<HiveEvent[]> {
  if (drafts.length === 0) return [];
  await sql`SELECT pg_advisory_xact_lock(${EVENT_ORDER_LOCK})`.execute(tx);
  const now = Date.now();
  const rows = await tx
    .insertInto('events')
    .values(
      drafts.map((d) => ({
        ts: new Date(d.ts ?? now),
        type: d.type,
        correlation_id: d.correlationId,
        workflow_id: d.workflowId ?? null,
        task_id: d.taskId ?? null,
        agent: d.agent ?? null,
        data: JSON.stringify(d.data ?? {}),
      })),
    )
    .returningAll()
    .execute();
  return rows.map(eventFromRow).sort((a, b) => a.seq - b.seq);
}

/**
 * Publishes committed events to the live stream (capped: it is a notification channel; PostgreSQL is the
 * record). Best effort: a reader that misses one catches up from PostgreSQL by sequence number.
 */
export async function publishEvents(
  redis: Redis,
  keys: Keys,
  events: readonly HiveEvent[],
  maxLen = 10_000,
): Promise<void> {
  if (events.length === 0) return;
  const pipeline = redis.pipeline();
  for (const e of events) {
    pipeline.xadd(
      keys.events(),
      'MAXLEN',
      '~',
      String(maxLen),
      '*',
      'seq',
      String(e.seq),
      'event',
      JSON.stringify(e),
    );
  }
  await pipeline.exec();
}
