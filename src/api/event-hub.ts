import type { Redis } from '../bus/redis.js';
import { sleep } from '../bus/stream-reader.js';
import type { EngineDeps } from '../engine/deps.js';
import { type EventFilter, eventsFromStreamFields, type HiveEvent, matches } from '../engine/events.js';
import { lastEventSeq, readEvents } from '../store/queries/event-pages.js';
import { liveClientsDropped } from '../telemetry/metrics.js';

export type { EventFilter };

/** What waiting for a transport to drain ended with. */
export type Writable = 'ready' | 'stalled' | 'closed';

export interface Subscriber {
  filter: EventFilter;
  /**
   * Writes one event. Returns false when the transport's unsent bytes are over the bound: the hub then writes
   * nothing more until `whenWritable` says so (without `whenWritable`, false drops the client at once).
   */
  send(event: HiveEvent): boolean;
  /**
   * Resolves 'ready' once the unsent bytes are back under the bound, 'stalled' when the client has read
   * nothing for a while (it is then dropped as too slow), 'closed' when the connection went away.
   */
  whenWritable?(): Promise<Writable>;
  close(reason: string): void;
}

/** How long a client over the bound may read nothing at all before it is dropped as too slow. */
export const LIVE_STALL_MS = 2_000;

/**
 * Waits for a transport to drain under half the bound (`unsent()` its unsent bytes). Progress — fewer unsent
 * bytes than at the last look — restarts the stall clock, so a slow reader that keeps reading is never dropped;
 * one that reads nothing for `stallMs` is. `onDrain` wakes the wait at once where the transport has an event.
 */
export function waitWritable(t: {
  unsent(): number;
  closed(): boolean;
  bound: number;
  onDrain?: (wake: () => void) => () => void;
  onClose?: (wake: () => void) => () => void;
  stallMs?: number;
  pollMs?: number;
}): Promise<Writable> {
  const stallMs = t.stallMs ?? LIVE_STALL_MS;
  return new Promise((resolve) => {
    let least = t.unsent();
    let progressAt = Date.now();
    const offs: (() => void)[] = [];
    const finish = (w: Writable) => {
      clearInterval(timer);
      for (const off of offs) off();
      resolve(w);
    };
    const check = () => {
      if (t.closed()) return finish('closed');
      const n = t.unsent();
      if (n <= t.bound / 2) return finish('ready');
      if (n < least) {
        least = n;
        progressAt = Date.now();
      } else if (Date.now() - progressAt >= stallMs) finish('stalled');
    };
    const timer = setInterval(check, t.pollMs ?? 10);
    if (t.onDrain) offs.push(t.onDrain(check));
    if (t.onClose) offs.push(t.onClose(check));
    check();
  });
}

/**
 * Event pages read from PostgreSQL at a time for a client catching up (a page is one transaction's events:
 * up to a few thousand in a busy coordinator's batch), and for the hub filling a hole.
 */
const REPLAY_PAGES = 4;
const CATCH_UP_PAGES = 8;

interface SubState {
  sub: Subscriber;
  /** The last sequence number the client has been sent (or needs nothing at or below). */
  cursor: number;
  /** Reading from PostgreSQL rather than taking live deliveries. */
  catching: boolean;
  alive: boolean;
  gate?: Subscriber;
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
    this.last = await lastEventSeq(this.deps.db);
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
          const read = await readEvents(this.deps.db, { after: this.last, pages: CATCH_UP_PAGES });
          for (const e of read.events) {
            if (e.seq !== this.last + 1) {
              this.gapSince ??= Date.now();
              if (Date.now() - this.gapSince < GAP_WAIT_MS) {
                setTimeout(() => void this.catchUp(), GAP_WAIT_MS);
                return;
              }
            }
            this.deliver(e);
          }
          if (!read.more) return;
        }
      } finally {
        this.catching = undefined;
      }
    })();
    return this.catching;
  }

  /**
   * Adds a subscriber, first replaying what it missed (`after`, from PostgreSQL) with no gap and no duplicate.
   *
   * Each subscriber is either live (events written as the hub delivers them) or catching up (events read from
   * PostgreSQL after its cursor, one page at a time, waiting for the transport to drain whenever it is over the
   * bound). A live subscriber whose transport goes over the bound — a burst the server wrote in one tick, or a
   * reader slower than the stream — turns to catching up instead of being dropped, and turns live again when its
   * cursor reaches the hub's last sequence number (checked and switched in one tick, so nothing falls between).
   * Memory per client stays at the bound plus one page: nothing is queued in the process, PostgreSQL holds it.
   * Only a client that reads nothing at all for LIVE_STALL_MS is dropped.
   */
  async subscribe(sub: Subscriber, after?: number): Promise<() => void> {
    const state: SubState = { sub, cursor: after ?? this.last, catching: after !== undefined, alive: true };
    const gate: Subscriber = {
      filter: sub.filter,
      send: (e) => {
        if (!state.alive) return true;
        // Catching up reads it from PostgreSQL; at or below the cursor it was sent already (or a client claimed a
        // sequence number this process has not seen yet: nothing at or below it again).
        if (state.catching || e.seq <= state.cursor) return true;
        state.cursor = e.seq;
        if (sub.send(e)) return true;
        if (!sub.whenWritable) return false;
        state.catching = true;
        this.catchUpSubscriber(state, true).catch(() => this.failed(state));
        return true;
      },
      close: (r) => {
        state.alive = false;
        sub.close(r);
      },
    };
    state.gate = gate;
    const unsubscribe = () => {
      state.alive = false;
      this.subscribers.delete(gate);
    };
    this.subscribers.add(gate);
    if (state.catching) {
      try {
        await this.catchUpSubscriber(state);
      } catch (err) {
        unsubscribe();
        throw err;
      }
      if (!state.alive) {
        this.subscribers.delete(gate);
        return () => {};
      }
    }
    return unsubscribe;
  }

  /** Drops a client as too slow (or because its transport says so). */
  private drop(state: SubState): void {
    if (!state.alive) return;
    state.alive = false;
    if (state.gate) this.subscribers.delete(state.gate);
    liveClientsDropped.inc();
    state.sub.close('client too slow');
  }

  /** Waits for the subscriber's transport to drain; false (and the client dropped or gone) if it did not. */
  private async drained(state: SubState): Promise<boolean> {
    if (!state.sub.whenWritable) {
      this.drop(state);
      return false;
    }
    const w = await state.sub.whenWritable();
    if (w === 'stalled') this.drop(state);
    else if (w === 'closed') state.alive = false;
    return w === 'ready' && state.alive;
  }

  /** A catch-up that could not read PostgreSQL: the client is closed and reconnects with its Last-Event-ID. */
  private failed(state: SubState): void {
    if (!state.alive) return;
    state.alive = false;
    if (state.gate) this.subscribers.delete(state.gate);
    state.sub.close('catch-up failed, reconnect');
  }

  /**
   * Sends the committed events after the subscriber's cursor matching its filter, with backpressure, until the
   * cursor reaches the hub's last sequence number; the subscriber is then live again. `drainFirst`: the
   * transport is over the bound already (a live write put it there).
   */
  private async catchUpSubscriber(state: SubState, drainFirst = false): Promise<void> {
    const { sub } = state;
    if (drainFirst && !(await this.drained(state))) return;
    for (;;) {
      if (!state.alive) return;
      const upTo = this.last;
      if (state.cursor >= upTo) {
        state.catching = false; // same tick as reading `last`: the next delivered event goes straight out
        return;
      }
      const read = await readEvents(this.deps.db, {
        after: state.cursor,
        upTo,
        filter: sub.filter,
        pages: REPLAY_PAGES,
      });
      for (const e of read.events) {
        if (!state.alive) return;
        if (e.seq <= state.cursor) continue;
        state.cursor = e.seq;
        if (!sub.send(e) && !(await this.drained(state))) return;
      }
      // Every matching event up to `through` has been sent: nothing else matching lies below it.
      if (state.alive && state.cursor < read.through) state.cursor = read.through;
    }
  }

  get size(): number {
    return this.subscribers.size;
  }
}
