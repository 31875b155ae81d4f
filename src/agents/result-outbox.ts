import { WORKER_GROUP } from '../bus/keys.js';
import type { Redis } from '../bus/redis.js';

interface Pending {
  entryId: string;
  /** Built only when the message goes out: most `started` messages of short tasks never do. */
  fields: () => string[];
  /** A `started` still unsent is dropped when its attempt's result joins the same flush. */
  kind: 'started' | 'result';
  dropped?: boolean;
}

/**
 * What an agent instance sends back, gathered over one turn of the event loop and written as one pipeline:
 * the messages to the results stream in the order they were made, then one XACK and one XDEL covering every
 * entry whose result went out in it. Each write to a socket costs tens of microseconds here, so an instance
 * finishing fifty tasks in a turn makes one write instead of a hundred.
 *
 * A `started` message still waiting when its attempt's result arrives is not sent: the result carries the
 * start time (`startedAt`) and the coordinator records `task.started` from it. An attempt that runs longer
 * than a turn has its `started` sent on its own, as before.
 */
export class ResultOutbox {
  private queue: Pending[] = [];
  private readonly startedByEntry = new Map<string, Pending>();
  private waiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  private scheduled = false;

  constructor(
    private readonly redis: Redis,
    private readonly resultsKey: string,
    private readonly taskStream: string,
  ) {}

  /** Queues the `started` message of an attempt (not awaited: the attempt runs while it goes out). */
  started(entryId: string, fields: () => string[]): void {
    const p: Pending = { entryId, fields, kind: 'started' };
    this.startedByEntry.set(entryId, p);
    this.queue.push(p);
    this.schedule();
  }

  /** Queues an attempt's result; resolves once it is in the results stream and its task entry acknowledged. */
  result(entryId: string, fields: string[]): Promise<void> {
    const started = this.startedByEntry.get(entryId);
    if (started) started.dropped = true;
    this.startedByEntry.delete(entryId);
    this.queue.push({ entryId, fields: () => fields, kind: 'result' });
    this.schedule();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Sends what is queued now (also used on shutdown, so no started message is left behind). */
  async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.queue;
    const waiters = this.waiters;
    this.queue = [];
    this.waiters = [];
    for (const p of batch) if (p.kind === 'started') this.startedByEntry.delete(p.entryId);
    const sent = batch.filter((p) => !p.dropped);
    if (sent.length === 0) {
      for (const w of waiters) w.resolve();
      return;
    }
    try {
      const pipeline = this.redis.pipeline();
      for (const p of sent) pipeline.xadd(this.resultsKey, '*', ...p.fields());
      const done = sent.filter((p) => p.kind === 'result').map((p) => p.entryId);
      if (done.length > 0) {
        pipeline.xack(this.taskStream, WORKER_GROUP, ...done);
        pipeline.xdel(this.taskStream, ...done);
      }
      await pipeline.exec();
      for (const w of waiters) w.resolve();
    } catch (err) {
      for (const w of waiters) w.reject(err);
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }
}
