import { WORKER_GROUP } from '../bus/keys.js';
import type { Redis } from '../bus/redis.js';

interface Pending {
  /** The task entry this message reports on; a `result` acknowledges it once written. */
  entryId: string | undefined;
  /** Built only when the message goes out: most `started` messages of short tasks never do. */
  fields: () => string[];
  kind: 'started' | 'log' | 'result';
  /** A `started` still unsent is dropped when its attempt's result joins the same flush. */
  dropped?: boolean;
  settle?: { resolve: () => void; reject: (err: unknown) => void };
}

/**
 * What an agent instance sends back, gathered over one turn of the event loop and written together: the
 * messages to the results stream in the order they were made (log lines before the result that follows them),
 * then one XACK and one XDEL covering every entry whose result was written. Each write to a socket costs tens of
 * microseconds here, so an instance finishing fifty tasks in a turn makes two writes instead of a hundred.
 *
 * An entry is acknowledged only after its result is in the results stream: the XADDs go first and their replies
 * are checked (a Redis refusing writes at maxmemory refuses the XADD but would still take an XACK); an attempt
 * whose result was refused is reported to its caller and its entry stays pending, to be taken over.
 *
 * A `started` message still waiting when its attempt's result arrives is not sent: the result carries the
 * start time (`startedAt`) and the coordinator records `task.started` from it. An attempt that runs longer
 * than a turn has its `started` sent on its own, as before.
 */
export class ResultOutbox {
  private queue: Pending[] = [];
  private readonly startedByEntry = new Map<string, Pending>();
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

  /** Queues a batch of log lines; resolves once written. In order with the attempt's other messages. */
  log(fields: string[]): Promise<void> {
    return this.enqueue({ entryId: undefined, fields: () => fields, kind: 'log' });
  }

  /** Queues an attempt's result; resolves once it is in the results stream and its task entry acknowledged. */
  result(entryId: string, fields: string[]): Promise<void> {
    const started = this.startedByEntry.get(entryId);
    if (started) started.dropped = true;
    this.startedByEntry.delete(entryId);
    return this.enqueue({ entryId, fields: () => fields, kind: 'result' });
  }

  private enqueue(p: Pending): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      p.settle = { resolve, reject };
    });
    this.queue.push(p);
    this.schedule();
    return done;
  }

  /** Sends what is queued now (also used on shutdown, so no started message is left behind). */
  async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (const p of batch) if (p.kind === 'started') this.startedByEntry.delete(p.entryId!);
    const sent = batch.filter((p) => !p.dropped);
    if (sent.length === 0) return;
    let written: Pending[] = [];
    try {
      const pipeline = this.redis.pipeline();
      for (const p of sent) pipeline.xadd(this.resultsKey, '*', ...p.fields());
      const replies = (await pipeline.exec()) ?? [];
      sent.forEach((p, i) => {
        const err = replies[i]?.[0];
        if (err) p.settle?.reject(err);
        else written.push(p);
      });
      const acked = written.filter((p) => p.kind === 'result').map((p) => p.entryId!);
      if (acked.length > 0) {
        await this.redis
          .pipeline()
          .xack(this.taskStream, WORKER_GROUP, ...acked)
          .xdel(this.taskStream, ...acked)
          .exec();
      }
    } catch (err) {
      for (const p of sent) if (!written.includes(p)) p.settle?.reject(err);
      // Results written but not acknowledged: the entries stay pending and the coordinator's attempt guard
      // absorbs the rerun of whichever instance takes them over.
      for (const p of written) p.settle?.reject(err);
      written = [];
    }
    for (const p of written) p.settle?.resolve();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }
}
