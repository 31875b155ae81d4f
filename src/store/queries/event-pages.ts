import { sql } from 'kysely';
import { type EventFilter, eventsOfPage, type HiveEvent, matches } from '../../engine/events.js';
import type { Db } from '../database.js';

/**
 * Reading the event log (migration 0005): events are stored a page per transaction, so readers select pages —
 * by sequence range through the primary key on last_seq, by correlation or workflow through the GIN indexes on
 * the page's IDs — and pick the events they want out of each page's JSON here. Pages never overlap and follow
 * one another in commit order, so pages ordered by last_seq hold their events in seq order.
 */

/** The highest sequence number recorded (0 for an empty log). */
export async function lastEventSeq(db: Db): Promise<number> {
  const row = await db
    .selectFrom('event_pages')
    .select('last_seq')
    .orderBy('last_seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  return Number(row?.last_seq ?? 0);
}

export interface EventRead {
  /** The matching events with after < seq ≤ upTo, in seq order. */
  events: HiveEvent[];
  /**
   * The highest sequence number the read covered (at most `upTo`): every matching event at or below it was
   * returned, so it is the next read's `after`.
   */
  through: number;
  /** Fewer pages than there may be were read: read again from `through`. */
  more: boolean;
}

export interface EventReadOptions {
  after: number;
  upTo?: number | undefined;
  filter?: EventFilter;
  /** Pages read at most (a page holds one transaction's events: one to a few thousand). */
  pages?: number;
}

/** Events after a sequence number, optionally up to another and filtered, a few pages at a time. */
export async function readEvents(db: Db, opts: EventReadOptions): Promise<EventRead> {
  const { after, upTo, filter = {}, pages = 8 } = opts;
  let q = db
    .selectFrom('event_pages')
    .select(['first_seq', 'last_seq', 'events'])
    .where('last_seq', '>', String(after))
    .orderBy('last_seq')
    .limit(pages);
  if (upTo !== undefined) q = q.where('first_seq', '<=', String(upTo));
  if (filter.correlationId)
    q = q.where(sql<boolean>`correlation_ids @> ARRAY[${filter.correlationId}]::text[]`);
  if (filter.workflowId) q = q.where(sql<boolean>`workflow_ids @> ARRAY[${filter.workflowId}]::text[]`);
  const rows = await q.execute();
  const events: HiveEvent[] = [];
  for (const row of rows) {
    for (const e of eventsOfPage(row)) {
      if (e.seq > after && (upTo === undefined || e.seq <= upTo) && matches(filter, e)) events.push(e);
    }
  }
  const more = rows.length === pages;
  const lastRead = rows.length > 0 ? Number(rows.at(-1)!.last_seq) : after;
  // Pages not read may hold more: the read covered up to the last one read. Otherwise it covered all of (after, upTo].
  const through = upTo === undefined ? lastRead : more ? Math.min(lastRead, upTo) : upTo;
  return { events, through, more };
}

/** The events of one correlation ID in seq order, at most `limit` (the trace view). */
export async function eventsOfCorrelation(
  db: Db,
  correlationId: string,
  limit: number,
): Promise<HiveEvent[]> {
  const events: HiveEvent[] = [];
  let after = 0;
  for (;;) {
    const read = await readEvents(db, { after, filter: { correlationId }, pages: 100 });
    for (const e of read.events) {
      if (events.length === limit) return events;
      events.push(e);
    }
    if (!read.more) return events;
    after = read.through;
  }
}
