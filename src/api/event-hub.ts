import { sql } from 'kysely';
import type { Redis } from '../bus/redis.js';
import { sleep } from '../bus/stream-reader.js';
import type { EngineDeps } from '../engine/deps.js';
import { eventFromRow, eventsFromStreamFields, type HiveEvent } from '../engine/events.js';
import { liveClientsDropped } from '../telemetry/metrics.js';

export interface EventFilter {
  correlationId?: string | undefined;
  workflowId?: string | undefined;
  agent?: string | undefined;
}

export interface Subscriber {
  filter: EventFilter;
  /** Returns false when the client cannot keep up; it is then dropped. */
  send(event: HiveEvent): boolean;
  close(reason: string): void;
}

export function matches(f: EventFilter, e: HiveEvent): boolean {
  return (
    (!f.correlationId || e.correlationId === f.correlationId) &&
    (!f.workflowId || e.workflowId === f.workflowId) &&
    (!f.agent || e.agent === f.agent)
  );
}

/** How long a hole in the sequence is waited for before it is taken as a rolled-back transaction. */
const GAP_WAIT_MS = 250;

/**
 * One tail of the event log per API process, fanned out to every SSE and WebSocket client.
 *
 * Order: events are delivered strictly by sequence number. Sequence numbers are handed out in commit order
 * (engine/events.ts), so the live stream's entries normally arrive contiguous and go straight out (the fast
 * path, no query). A hole — entries published out of order by two coordinators, a notification lost while
 * Redis restarted — is filled from PostgreSQL; a hole still empty after GAP_WAIT_MS is a rolled-back
 * transaction's unused number and is skipped. A poll every second covers a quiet or absent Redis.
 */
export class EventHub {
  private last = 0;
  private readonly subscribers = new Set<Subscriber>();
  private readonly stop = new AbortController();
  private loops: Promise<void>[] = [];
  private gapSince: number | undefined;
  private catching: Promise<void> | undefined;

  constructor(
    private readonly deps: EngineDeps,
    private readonly reader: Redis,
  ) {}

  get lastSeq(): number {
    return this.last;
  }

  async start(): Promise<void> {
    const r = await sql<{ m: number | null }>`SELECT max(seq) AS m FROM events`.execute(this.deps.db);
    this.last = Number(r.rows[0]?.m ?? 0);
    this.loops = [this.tail(), this.poll()];
  }

  async close(): Promise<void> {
    this.stop.abort();
    this.reader.disconnect();
    for (const s of this.subscribers) s.close('server shutting down');
    await Promise.allSettled(this.loops);
  }

  private async tail(): Promise<void> {
    let id = '$';
    while (!this.stop.signal.aborted) {
      try {
        const res = (await this.reader.xread(
          'COUNT',
          100,
          'BLOCK',
          1_000,
          'STREAMS',
          this.deps.keys.events(),
          id,
        )) as [string, [string, string[]][]][] | null;
        if (!res) continue;
        for (const [entryId, fields] of res[0]![1]) {
          id = entryId;
          this.offer(eventsFromStreamFields(fields));
        }
      } catch {
        if (this.stop.signal.aborted) return;
        await sleep(500, this.stop.signal);
      }
    }
  }

  private async poll(): Promise<void> {
    while (!this.stop.signal.aborted) {
      await sleep(1_000, this.stop.signal);
      await this.catchUp().catch(() => {});
    }
  }

  private offer(events: HiveEvent[]): void {
    let hole = false;
    for (const e of events.sort((a, b) => a.seq - b.seq)) {
      if (e.seq <= this.last) continue;
      if (e.seq === this.last + 1 && !hole) this.deliver(e);
      else hole = true;
    }
    if (hole) void this.catchUp();
  }

  private deliver(e: HiveEvent): void {
    this.last = e.seq;
    this.gapSince = undefined;
    for (const s of this.subscribers) {
      if (!matches(s.filter, e)) continue;
      if (!s.send(e)) {
        this.subscribers.delete(s);
        liveClientsDropped.inc();
        s.close('client too slow');
      }
    }
  }

  /** Reads committed events after `last` from PostgreSQL and delivers them in order (see the class comment). */
  private catchUp(): Promise<void> {
    this.catching ??= (async () => {
      try {
        for (;;) {
          const rows = await this.deps.db
            .selectFrom('events')
            .selectAll()
            .where('seq', '>', String(this.last) as never)
            .orderBy('seq')
            .limit(1_000)
            .execute();
          if (rows.length === 0) return;
          for (const row of rows) {
            const e = eventFromRow(row);
            if (e.seq !== this.last + 1) {
              this.gapSince ??= Date.now();
              if (Date.now() - this.gapSince < GAP_WAIT_MS) {
                setTimeout(() => void this.catchUp(), GAP_WAIT_MS);
                return;
              }
            }
            this.deliver(e);
          }
          if (rows.length < 1_000) return;
        }
      } finally {
        this.catching = undefined;
      }
    })();
    return this.catching;
  }

  /**
   * Adds a subscriber, first replaying what it missed (`after`, from PostgreSQL) with no gap and no duplicate:
   * live events that arrive during the replay are held back and released after it.
   */
  async subscribe(sub: Subscriber, after?: number): Promise<() => void> {
    if (after === undefined) {
      this.subscribers.add(sub);
      return () => this.subscribers.delete(sub);
    }
    const held: HiveEvent[] = [];
    let replaying = true;
    const gate: Subscriber = {
      filter: sub.filter,
      send: (e) => {
        // A client may claim a sequence number this process has not seen yet: nothing at or below it again.
        if (e.seq <= after) return true;
        if (!replaying) return sub.send(e);
        held.push(e);
        return true;
      },
      close: (r) => sub.close(r),
    };
    this.subscribers.add(gate);
    const upTo = this.last;
    try {
      await this.replay(sub, gate, after, upTo);
    } catch (err) {
      this.subscribers.delete(gate);
      throw err;
    }
    if (!this.subscribers.has(gate)) return () => {};
    replaying = false;
    for (const e of held) {
      if (e.seq > upTo && !sub.send(e)) {
        this.subscribers.delete(gate);
        liveClientsDropped.inc();
        sub.close('client too slow');
        return () => {};
      }
    }
    return () => this.subscribers.delete(gate);
  }

  /** Sends the committed events in (cursor, upTo] matching the filter; drops the client if it falls behind. */
  private async replay(sub: Subscriber, gate: Subscriber, from: number, upTo: number): Promise<void> {
    let cursor = from;
    while (cursor < upTo) {
      let q = this.deps.db
        .selectFrom('events')
        .selectAll()
        .where('seq', '>', String(cursor) as never)
        .where('seq', '<=', String(upTo) as never)
        .orderBy('seq')
        .limit(1_000);
      if (sub.filter.correlationId) q = q.where('correlation_id', '=', sub.filter.correlationId);
      if (sub.filter.workflowId) q = q.where('workflow_id', '=', sub.filter.workflowId);
      if (sub.filter.agent) q = q.where('agent', '=', sub.filter.agent);
      const rows = await q.execute();
      for (const row of rows) {
        if (!sub.send(eventFromRow(row))) {
          this.subscribers.delete(gate);
          liveClientsDropped.inc();
          sub.close('client too slow');
          return;
        }
      }
      if (rows.length < 1_000) break;
      cursor = Number(rows.at(-1)!.seq);
    }
  }

  get size(): number {
    return this.subscribers.size;
  }
}
