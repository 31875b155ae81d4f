/**
 * An agent instance: one consumer in its agent's consumer group, running up to `concurrency` attempts.
 *
 * Delivery: XREADGROUP hands an entry to this instance; it reports `started`, runs the attempt, reports the
 * `result` and only then acknowledges and deletes the entry (both through the ResultOutbox, one pipeline per
 * turn of the event loop). If the instance dies, the entry stays pending
 * and another instance takes it over with XAUTOCLAIM once it has been idle for the visibility timeout; a
 * live instance keeps its entries' idle time low (XCLAIM JUSTID) so long tasks are not stolen. An entry
 * delivered more than `maxDeliveries` times (it keeps killing its instances) goes to the dead-letter stream.
 *
 * Liveness is real: a heartbeat key with a TTL (gone when the process is), plus heartbeat messages the
 * coordinator turns into agent_instances rows and agent.online / agent.offline events.
 */
import { hostname } from 'node:os';
import { deadLetterArgs, fieldsToRecord } from '../bus/dead-letter.js';
import {
  capProgress,
  decode,
  type Envelope,
  encode,
  type MessageKind,
  type Payload,
  type ProgressStep,
} from '../bus/envelope.js';
import { type Keys, WORKER_GROUP } from '../bus/keys.js';
import { createRedis, type Redis, subscribeWhenReady } from '../bus/redis.js';
import {
  autoClaim,
  deliveryCounts,
  ensureGroup,
  readGroup,
  type StreamEntry,
  sleep,
} from '../bus/stream-reader.js';
import type { EngineConfig } from '../core/config-file.js';
import { newContext, runInContext, traceparentOf } from '../core/context.js';
import { newId } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import { parseTraceparent } from '../core/traceparent.js';
import { recordSpan, SpanKind } from '../telemetry/tracing.js';
import { AttemptAbort } from './attempt-abort.js';
import { ResultOutbox } from './result-outbox.js';
import type { LogLevel, Runner, RunnerOutcome } from './runner.js';

export interface AgentWorkerOptions {
  name: string;
  redisUrl: string;
  keys: Keys;
  engine: EngineConfig;
  runner: Runner;
  concurrency: number;
  logger: Logger;
  instanceId?: string;
  /** How long close() waits for running attempts before releasing them to other instances. */
  drainTimeoutMs?: number;
}

interface Running {
  entryId: string;
  workflowId: string;
  taskId: string;
  attempt: number;
  abort: AttemptAbort;
}

const MAX_LOG_LINE = 16_384;
/** task.progress events one attempt may record; a runaway run's further steps are log lines only. */
const MAX_PROGRESS_STEPS = 1_000;

export class AgentWorker {
  readonly instanceId: string;
  private readonly stream: string;
  private readonly running = new Map<string, Running>();
  private readonly stop = new AbortController();
  private readonly startedAt = Date.now();
  private cmd!: Redis;
  private outbox!: ResultOutbox;
  private reader!: Redis;
  private sub!: Redis;
  private loops: Promise<void>[] = [];
  private slotWaiters: (() => void)[] = [];
  private readonly log: Logger;
  private closed: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly opts: AgentWorkerOptions) {
    this.instanceId = opts.instanceId ?? `${opts.name}-${hostname()}-${process.pid}-${newId().slice(-8)}`;
    this.stream = opts.keys.agentTasks(opts.name);
    this.log = opts.logger.child({ component: `agent:${opts.name}`, instance: this.instanceId });
  }

  get runningCount(): number {
    return this.running.size;
  }

  async start(): Promise<void> {
    this.cmd = createRedis(this.opts.redisUrl, `${this.instanceId}:cmd`);
    this.reader = createRedis(this.opts.redisUrl, `${this.instanceId}:reader`);
    this.sub = createRedis(this.opts.redisUrl, `${this.instanceId}:control`);
    this.outbox = new ResultOutbox(this.cmd, this.opts.keys.results(), this.stream);
    await ensureGroup(this.cmd, this.stream, WORKER_GROUP);
    this.sub.on('message', (_channel, message) => this.onControl(message));
    await subscribeWhenReady(this.sub, this.opts.keys.agentControl(this.opts.name));
    await this.beat('online');
    this.loops = [this.readLoop(), this.claimLoop(), this.keepAliveLoop(), this.heartbeatLoop()];
    this.log.info({ concurrency: this.opts.concurrency }, 'agent instance started');
  }

  /** Drains: takes no new work, lets running attempts finish (up to drainTimeoutMs), then releases the rest. */
  close(): Promise<void> {
    this.closed ??= this.doClose();
    return this.closed;
  }

  private async doClose(): Promise<void> {
    this.stop.abort();
    this.reader.disconnect();
    for (const w of this.slotWaiters.splice(0)) w();
    const drained = Promise.allSettled([...this.inFlight]);
    const timeout = sleep(this.opts.drainTimeoutMs ?? 30_000);
    await Promise.race([drained, timeout]);
    for (const r of this.running.values()) r.abort.abort('shutdown');
    await drained;
    await Promise.allSettled(this.loops);
    await this.outbox.flush().catch(() => {});
    await this.beat('offline').catch(() => {});
    await this.cmd.del(this.opts.keys.instance(this.opts.name, this.instanceId)).catch(() => {});
    this.sub.disconnect();
    await this.cmd.quit().catch(() => this.cmd.disconnect());
    await this.opts.runner.close?.();
    this.log.info('agent instance stopped');
  }

  private get stopping(): boolean {
    return this.stop.signal.aborted;
  }

  private freeSlots(): number {
    return this.opts.concurrency - this.running.size;
  }

  private async waitForSlot(): Promise<void> {
    while (this.freeSlots() <= 0 && !this.stopping) await new Promise<void>((r) => this.slotWaiters.push(r));
  }

  private async readLoop(): Promise<void> {
    while (!this.stopping) {
      await this.waitForSlot();
      if (this.stopping) break;
      try {
        // Entries a dead instance held come first: under a backlog, new entries would otherwise take every slot
        // that frees and the dead instance's tasks would wait for the queue to drain.
        if (Date.now() - this.lastClaim >= this.opts.engine.claimIntervalMs && (await this.claimIdle()) > 0)
          continue;
        const entries = await readGroup(
          this.reader,
          this.stream,
          WORKER_GROUP,
          this.instanceId,
          this.freeSlots(),
          1_000,
        );
        for (const entry of entries) this.track(this.handle(entry));
      } catch (err) {
        if (this.stopping) break;
        this.log.warn({ err }, 'reading tasks failed; retrying');
        await sleep(500, this.stop.signal);
      }
    }
  }

  /** Takes over entries whose consumer stopped touching them (a dead instance), when idle. */
  private async claimLoop(): Promise<void> {
    while (!this.stopping) {
      await sleep(this.opts.engine.claimIntervalMs, this.stop.signal);
      if (
        this.stopping ||
        this.freeSlots() <= 0 ||
        Date.now() - this.lastClaim < this.opts.engine.claimIntervalMs
      )
        continue;
      try {
        await this.claimIdle();
      } catch (err) {
        if (!this.stopping) this.log.warn({ err }, 'claiming idle tasks failed');
      }
    }
  }

  private lastClaim = 0;
  private claiming: Promise<number> | undefined;

  /** One XAUTOCLAIM pass for the free slots; returns how many entries were taken. Never two passes at once. */
  private claimIdle(): Promise<number> {
    this.claiming ??= (async () => {
      try {
        this.lastClaim = Date.now();
        const { visibilityTimeoutMs, maxDeliveries } = this.opts.engine;
        const free = this.freeSlots();
        if (free <= 0) return 0;
        let entries = await autoClaim(
          this.cmd,
          this.stream,
          WORKER_GROUP,
          this.instanceId,
          visibilityTimeoutMs,
          free,
        );
        // An entry this instance is still running comes back when its keep-alive ran late (a loaded machine):
        // it is ours again now, and running it a second time would start a duplicate attempt (which, for a
        // worktree agent, removes the first one's folder under it).
        entries = entries.filter((e) => !this.running.has(e[0]));
        // Closing began while the claim was under way: the drain list is already taken, so leave the entries
        // pending (another instance takes them over) rather than start runs nobody waits for.
        if (this.stopping) return 0;
        if (entries.length === 0) return 0;
        const counts = await deliveryCounts(
          this.cmd,
          this.stream,
          WORKER_GROUP,
          entries.map((e) => e[0]),
        );
        for (const entry of entries) {
          const deliveries = counts.get(entry[0]) ?? 1;
          if (deliveries > maxDeliveries) await this.deadLetterTask(entry, deliveries);
          else {
            this.log.warn(
              { entryId: entry[0], deliveries },
              'took over a task from an instance that stopped',
            );
            this.track(this.handle(entry));
          }
        }
        return entries.length;
      } finally {
        this.claiming = undefined;
      }
    })();
    return this.claiming;
  }

  /** Resets the idle time of the entries this instance is working on, so they are not taken over. */
  private async keepAliveLoop(): Promise<void> {
    const every = Math.max(100, Math.floor(this.opts.engine.visibilityTimeoutMs / 3));
    while (!this.stopping) {
      await sleep(every, this.stop.signal);
      const ids = [...this.running.values()].map((r) => r.entryId);
      if (ids.length === 0) continue;
      try {
        await this.cmd.xclaim(this.stream, WORKER_GROUP, this.instanceId, 0, ...ids, 'JUSTID');
      } catch (err) {
        if (!this.stopping) this.log.warn({ err }, 'keeping claims alive failed');
      }
    }
  }

  private async heartbeatLoop(): Promise<void> {
    while (!this.stopping) {
      await sleep(this.opts.engine.heartbeatMs, this.stop.signal);
      if (this.stopping) break;
      await this.beat('beat').catch((err) => this.log.warn({ err }, 'heartbeat failed'));
    }
  }

  private async beat(state: 'online' | 'beat' | 'offline'): Promise<void> {
    const info = {
      instance: this.instanceId,
      agent: this.opts.name,
      state,
      host: hostname(),
      pid: process.pid,
      concurrency: this.opts.concurrency,
      running: this.running.size,
      startedAt: this.startedAt,
    };
    const pipeline = this.cmd.pipeline();
    if (state !== 'offline') {
      pipeline.set(
        this.opts.keys.instance(this.opts.name, this.instanceId),
        JSON.stringify({ ...info, lastHeartbeat: Date.now() }),
        'PX',
        this.opts.engine.heartbeatMs * 3,
      );
    }
    pipeline.xadd(
      this.opts.keys.results(),
      '*',
      ...encode({
        kind: 'heartbeat',
        cid: this.instanceCorrelationId,
        tp: traceparentOf(newContext()),
        ts: Date.now(),
        payload: info,
      }),
    );
    await pipeline.exec();
  }

  /** The instance's own lifetime events (online/offline) share one correlation ID. */
  private readonly instanceCorrelationId = newId();

  private track(p: Promise<void>): void {
    // An attempt whose result could not be written (Redis gone for good) stays pending in the stream and is
    // taken over later; it must not become an unhandled rejection that ends the process.
    const settled = p.catch((err) => {
      if (!this.stopping) this.log.warn({ err }, 'an attempt ended without its result written');
    });
    this.inFlight.add(settled);
    settled.finally(() => this.inFlight.delete(settled));
  }

  private onControl(message: string): void {
    let m: { type?: string; workflowId?: string; taskId?: string; attempt?: number; reason?: string };
    try {
      m = JSON.parse(message);
    } catch {
      return;
    }
    if (m.type !== 'cancel') return;
    for (const r of this.running.values()) {
      if (r.workflowId === m.workflowId && r.taskId === m.taskId && r.attempt === m.attempt) {
        r.abort.abort(m.reason === 'timeout' ? 'timeout' : 'cancelled');
      }
    }
  }

  private async ackAndDelete(
    entryId: string,
    before?: (p: ReturnType<Redis['pipeline']>) => void,
  ): Promise<void> {
    const pipeline = this.cmd.pipeline();
    before?.(pipeline);
    pipeline.xack(this.stream, WORKER_GROUP, entryId);
    pipeline.xdel(this.stream, entryId);
    await pipeline.exec();
  }

  private async deadLetterTask([entryId, fields]: StreamEntry, deliveries: number): Promise<void> {
    const reason = `delivered ${deliveries} times without a result (limit ${this.opts.engine.maxDeliveries})`;
    const decoded = decode(fields);
    await this.ackAndDelete(entryId, (p) => {
      const [key, ...rest] = deadLetterArgs(this.opts.keys, {
        stream: this.stream,
        entryId,
        reason,
        fields: fieldsToRecord(fields),
      });
      p.xadd(key as string, ...(rest as string[]));
      if (decoded.ok && decoded.envelope.kind === 'task') {
        const env = decoded.envelope;
        p.xadd(
          this.opts.keys.results(),
          '*',
          ...this.message(env, 'dead', {
            instance: this.instanceId,
            agent: this.opts.name,
            reason,
            deliveries,
          }),
        );
      }
    });
    this.log.error({ entryId, deliveries }, 'task dead-lettered');
  }

  private message<K extends MessageKind>(
    env: Envelope<'task'>,
    kind: K,
    payload: Payload<K>,
    ts = Date.now(),
  ): string[] {
    return encode({
      kind,
      cid: env.cid,
      tp: env.tp,
      ts,
      wf: env.wf!,
      task: env.task!,
      attempt: env.attempt!,
      payload,
    } as Envelope<K>);
  }

  private async handle([entryId, fields]: StreamEntry): Promise<void> {
    const decoded = decode(fields);
    if (!decoded.ok || decoded.envelope.kind !== 'task') {
      const reason = decoded.ok ? `a ${decoded.envelope.kind} message on a task stream` : decoded.reason;
      this.log.warn({ entryId, reason }, 'malformed task entry dead-lettered');
      await this.ackAndDelete(entryId, (p) => {
        const [key, ...rest] = deadLetterArgs(this.opts.keys, {
          stream: this.stream,
          entryId,
          reason,
          fields: fieldsToRecord(fields),
        });
        p.xadd(key as string, ...(rest as string[]));
      });
      return;
    }
    const env = decoded.envelope as Envelope<'task'>;
    const abort = new AttemptAbort();
    const run: Running = { entryId, workflowId: env.wf!, taskId: env.task!, attempt: env.attempt!, abort };
    this.running.set(entryId, run);
    const ctx = newContext({
      correlationId: env.cid,
      traceparent: env.tp,
      workflowId: env.wf,
      taskId: env.task,
      agent: this.opts.name,
    });
    try {
      await runInContext(ctx, () => this.execute(env, run, traceparentOf(ctx)));
    } finally {
      this.running.delete(entryId);
      this.slotWaiters.shift()?.();
    }
  }

  private async execute(env: Envelope<'task'>, run: Running, traceparent: string): Promise<void> {
    const who = { instance: this.instanceId, agent: this.opts.name };
    const started = Date.now();
    this.outbox.started(run.entryId, () => this.message(env, 'started', who, started));
    const lines: Payload<'log'>['lines'] = [];
    let flushTimer: NodeJS.Timeout | undefined;
    const flush = () => {
      if (flushTimer) clearTimeout(flushTimer);
      flushTimer = undefined;
      if (lines.length === 0) return;
      const batch = lines.splice(0, 1_000);
      // Through the outbox, in order with the attempt's result: a run's last lines (and progress steps) are
      // applied before the result that ends it.
      void this.outbox
        .log(this.message(env, 'log', { ...who, lines: batch }))
        .catch((err) => this.log.warn({ err }, 'log lines lost'));
    };
    const logLine = (level: LogLevel, message: string, progress?: ProgressStep) => {
      const line: Payload<'log'>['lines'][number] = {
        ts: Date.now(),
        level,
        message: message.length > MAX_LOG_LINE ? `${message.slice(0, MAX_LOG_LINE)}…` : message,
      };
      if (progress) line.progress = progress;
      lines.push(line);
      if (lines.length >= 200) flush();
      else flushTimer ??= setTimeout(flush, 25);
    };
    // A step rides on its log line (same batch, same order); past the cap a run's steps are log lines only.
    let stepsLeft = MAX_PROGRESS_STEPS;
    const progress = (step: ProgressStep, message?: string, level: LogLevel = 'info') => {
      const capped = capProgress(step);
      logLine(level, message ?? capped.summary, stepsLeft-- > 0 ? capped : undefined);
    };
    const timeout = setTimeout(() => run.abort.abort('timeout'), env.payload.timeoutMs);
    let outcome: RunnerOutcome;
    try {
      outcome = await this.opts.runner.run(
        {
          id: env.task!,
          workflowId: env.wf!,
          correlationId: env.cid,
          type: env.payload.type,
          attempt: env.attempt!,
          input: env.payload.input,
        },
        {
          agent: this.opts.name,
          instance: this.instanceId,
          // Getters: the signal is made only for a runner or handler that asks for it (see AttemptAbort).
          get signal() {
            return run.abort.signal;
          },
          get aborted() {
            return run.abort.aborted;
          },
          timeoutMs: env.payload.timeoutMs,
          traceparent,
          log: (level, message) => logLine(level, message),
          progress,
        },
      );
    } catch (err) {
      outcome =
        run.abort.reason === 'timeout'
          ? {
              ok: false,
              error: {
                code: 'HIVE_ERR_TASK_TIMEOUT',
                message: `task timed out after ${env.payload.timeoutMs} ms`,
              },
            }
          : {
              ok: false,
              error: {
                code: 'HIVE_ERR_TASK_FAILED',
                message: err instanceof Error ? err.message : String(err),
              },
            };
    } finally {
      clearTimeout(timeout);
    }
    flush();
    const parent = parseTraceparent(env.tp);
    recordSpan({
      name: `task ${env.payload.type}`,
      traceId: parent?.traceId,
      parentSpanId: parent?.spanId,
      startMs: started,
      endMs: Date.now(),
      kind: SpanKind.CONSUMER,
      attributes: {
        'hive.agent': this.opts.name,
        'hive.instance': this.instanceId,
        'hive.workflow_id': env.wf,
        'hive.task_id': env.task,
        'hive.attempt': env.attempt,
        'hive.correlation_id': env.cid,
      },
      error: outcome.ok ? undefined : outcome.error.message,
    });
    // Released at shutdown: no result and no ack, so another instance takes the entry over.
    if (run.abort.reason === 'shutdown') return;
    const result: Payload<'result'> = {
      ...who,
      ok: outcome.ok,
      durationMs: Date.now() - started,
      startedAt: started,
    };
    if (outcome.ok) result.output = outcome.output ?? null;
    else {
      result.error = outcome.error;
      if (outcome.retryable !== undefined) result.retryable = outcome.retryable;
    }
    if (outcome.usage) result.usage = outcome.usage;
    await this.outbox.result(run.entryId, this.message(env, 'result', result));
  }
}
