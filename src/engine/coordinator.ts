/**
 * The coordinator closes the loop: it reads agents' messages from the results stream in batches, applies
 * them to PostgreSQL in one unit of work per batch, and only then acknowledges them (XACK + XDEL, so the
 * stream holds only what PostgreSQL has not recorded yet). Several coordinators may run: they share one
 * consumer group, every transition is guarded, and entries a dead coordinator held are claimed after
 * `claimIdleMs`. Periodic sweeps (retries due, deadlines, the outbox, silent instances) run on whichever
 * coordinator holds a short Redis lease.
 */
import { hostname } from 'node:os';
import { sql } from 'kysely';
import { deadLetterArgs, fieldsToRecord } from '../bus/dead-letter.js';
import { type AnyEnvelope, decode, type Envelope } from '../bus/envelope.js';
import { COORDINATOR_GROUP } from '../bus/keys.js';
import type { Pipeline, Redis } from '../bus/redis.js';
import { autoClaim, ensureGroup, readGroup, type StreamEntry, sleep } from '../bus/stream-reader.js';
import { newContext, runInContext } from '../core/context.js';
import { newId } from '../core/ids.js';
import { deadLetters } from '../telemetry/metrics.js';
import type { EngineDeps } from './deps.js';
import { type DispatchItem, dispatcherFor } from './dispatcher.js';
import { type EventDraft, insertEvents, publishEvents } from './events.js';
import { Router } from './router.js';
import { runUnitOfWork } from './unit-of-work.js';

export interface CoordinatorOptions {
  /** Entries per read; one transaction per batch. */
  batchSize?: number;
  /**
   * Batches applied at once. The work per batch is mostly waiting on PostgreSQL round trips, so a few batches
   * in flight keep both the database and this process busy; workflow row locks keep them apart. They are read
   * by one reader, so batches on the same workflow join its lane in stream order (see lane).
   */
  batchesInFlight?: number;
  blockMs?: number;
  /** Results held by a coordinator idle this long are taken over by another. */
  claimIdleMs?: number;
  sweepIntervalMs?: number;
  /** Grace after a task's deadline before the coordinator fails it (the agent enforces the deadline itself). */
  deadlineGraceMs?: number;
  /** A task queued this long without a dispatch marker is sent again by the outbox sweep. */
  outboxAfterMs?: number;
  /** Creates the blocking reader connection (its own socket: XREADGROUP BLOCK would stall other commands). */
  connect: (name: string) => Redis;
}

type TaskEnvelope = Envelope<'started' | 'log' | 'result' | 'dead'> & {
  wf: string;
  task: string;
  attempt: number;
};

/** The lane of the batches that carry heartbeats (a key no workflow ID can be). */
const INSTANCES_LANE = Symbol('instances');

export class Coordinator {
  readonly id = `coord-${hostname()}-${process.pid}-${newId().slice(-6)}`;
  private readonly router = new Router();
  private readonly opts: Required<Omit<CoordinatorOptions, 'connect'>>;
  private readonly abort = new AbortController();
  private reader: Redis | undefined;
  private dlqReader: Redis | undefined;
  private loops: Promise<void>[] = [];
  /**
   * The batch last read for each workflow, still being applied: later batches on it wait for it (see lane). Keys
   * are workflow IDs, and INSTANCES_LANE for the batches carrying heartbeats.
   */
  private lanes = new Map<string | typeof INSTANCES_LANE, Promise<void>>();
  private readonly log;

  constructor(
    private readonly deps: EngineDeps,
    private readonly options: CoordinatorOptions,
  ) {
    this.opts = {
      batchSize: options.batchSize ?? 512,
      batchesInFlight: options.batchesInFlight ?? 2,
      blockMs: options.blockMs ?? 1_000,
      claimIdleMs: options.claimIdleMs ?? 10_000,
      sweepIntervalMs: options.sweepIntervalMs ?? 200,
      deadlineGraceMs: options.deadlineGraceMs ?? 2_000,
      outboxAfterMs: options.outboxAfterMs ?? 2_000,
    };
    this.log = deps.logger.child({ component: 'coordinator', coordinator: this.id });
  }

  async start(): Promise<void> {
    await ensureGroup(this.deps.redis, this.deps.keys.results(), COORDINATOR_GROUP);
    await ensureGroup(this.deps.redis, this.deps.keys.deadLetters(), COORDINATOR_GROUP);
    for (const name of Object.keys(this.deps.config.agents)) {
      await ensureGroup(this.deps.redis, this.deps.keys.agentTasks(name), 'workers');
    }
    await this.registerAgents();
    this.reader = this.options.connect(`${this.id}:results`);
    this.dlqReader = this.options.connect(`${this.id}:dlq`);
    this.loops = [this.resultsLoop(this.reader), this.deadLetterLoop(), this.sweepLoop()];
    this.log.info('coordinator started');
  }

  /** Stops reading; the batch in flight is finished and acknowledged first. */
  async close(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled(this.loops);
    await dispatcherFor(this.deps).flush();
    this.reader?.disconnect();
    this.dlqReader?.disconnect();
    this.log.info('coordinator stopped');
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async registerAgents(): Promise<void> {
    const rows = Object.entries(this.deps.config.agents).map(([name, a]) => ({
      name,
      capabilities: a.capabilities,
      runner: a.runner,
      concurrency: a.concurrency,
      instances: a.instances,
      updated_at: new Date(),
    }));
    if (rows.length === 0) return;
    await this.deps.db
      .insertInto('agents')
      .values(rows)
      .onConflict((oc) =>
        oc.column('name').doUpdateSet((eb) => ({
          capabilities: eb.ref('excluded.capabilities'),
          runner: eb.ref('excluded.runner'),
          concurrency: eb.ref('excluded.concurrency'),
          instances: eb.ref('excluded.instances'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }

  /**
   * One reader takes batches in stream order and starts applying each before reading the next, up to
   * `batchesInFlight` at once. Two readers on their own connections could have their replies handled out of
   * stream order, and a workflow's later message (a run's result) applied before an earlier one (its log).
   */
  private async resultsLoop(reader: Redis): Promise<void> {
    const stream = this.deps.keys.results();
    const consumer = this.id;
    const inFlight = new Set<Promise<void>>();
    // Entries of the batches being applied: a slow batch (lock waits, PostgreSQL retrying) goes idle in the
    // consumer group too, and must not be claimed and applied a second time by this same reader.
    const applying = new Set<string>();
    let lastClaim = 0;
    while (!this.stopped) {
      try {
        while (inFlight.size >= this.opts.batchesInFlight) await Promise.race(inFlight);
        if (this.stopped) break;
        let entries: StreamEntry[] = [];
        if (Date.now() - lastClaim > this.opts.claimIdleMs / 2) {
          lastClaim = Date.now();
          // Also the entries in flight when the claim went out: one whose batch is acknowledged and leaves
          // `applying` while XAUTOCLAIM's reply is on its way would otherwise be claimed and applied a second time.
          const inFlightAtClaim = new Set(applying);
          entries = (
            await autoClaim(
              this.deps.redis,
              stream,
              COORDINATOR_GROUP,
              consumer,
              this.opts.claimIdleMs,
              this.opts.batchSize,
            )
          ).filter(([id]) => !applying.has(id) && !inFlightAtClaim.has(id));
        }
        if (entries.length === 0) {
          entries = await readGroup(
            reader,
            stream,
            COORDINATOR_GROUP,
            consumer,
            this.opts.batchSize,
            this.opts.blockMs,
          );
        }
        if (entries.length === 0) continue;
        for (const [id] of entries) applying.add(id);
        // processUntilDone joins the batch's lanes before its first await: in the order read.
        const batch: Promise<void> = this.processUntilDone(entries)
          .catch((err) => this.log.error({ err }, 'applying a batch failed'))
          .finally(() => {
            for (const [id] of entries) applying.delete(id);
            inFlight.delete(batch);
          });
        inFlight.add(batch);
      } catch (err) {
        if (this.stopped) break;
        this.log.warn({ err }, 'reading results failed; retrying');
        await sleep(500, this.abort.signal);
      }
    }
    await Promise.allSettled(inFlight);
  }

  /**
   * A batch is retried until PostgreSQL takes it: nothing is acknowledged before its effect is committed.
   * Batches on the same workflow are applied in the order they were read (stream order): with several batches
   * in flight a later one could otherwise take the workflow's lock first, and a run's last progress step would
   * be numbered before its first.
   */
  private async processUntilDone(entries: StreamEntry[]): Promise<void> {
    const release = await this.lane(entries);
    try {
      await this.applyUntilDone(entries);
    } finally {
      release();
    }
  }

  /**
   * Joins the lanes of the batch's workflows (synchronously, in read order) and waits for the batches ahead.
   * Heartbeats share one lane: an instance's `offline` read after its last beat must not be applied before it
   * (the beat would set the instance online again, after it stopped).
   */
  private lane(entries: readonly StreamEntry[]): Promise<() => void> {
    const keys = new Set<string | typeof INSTANCES_LANE>();
    for (const [, fields] of entries) {
      const record = fieldsToRecord(fields);
      if (record.wf !== undefined) keys.add(record.wf);
      else if (record.kind === 'heartbeat') keys.add(INSTANCES_LANE);
    }
    const ahead = new Set<Promise<void>>();
    let done!: () => void;
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    for (const key of keys) {
      const prior = this.lanes.get(key);
      if (prior) ahead.add(prior);
      this.lanes.set(key, mine);
    }
    const release = () => {
      done();
      for (const key of keys) if (this.lanes.get(key) === mine) this.lanes.delete(key);
    };
    return ahead.size === 0 ? Promise.resolve(release) : Promise.all(ahead).then(() => release);
  }

  private async applyUntilDone(entries: StreamEntry[]): Promise<void> {
    for (let delay = 100; ; delay = Math.min(delay * 2, 5_000)) {
      try {
        await this.processBatch(entries);
        return;
      } catch (err) {
        this.log.warn({ err, entries: entries.length }, 'applying a batch of results failed; retrying');
        // On shutdown the entries stay pending and another coordinator claims them.
        if (this.stopped) return;
        await sleep(delay, this.abort.signal);
      }
    }
  }

  /**
   * Applies a batch, then acknowledges it. A batch PostgreSQL refuses for its data (SQLSTATE class 22: a NUL
   * in text, a number or a date out of range — values the envelope schema lets through) would be refused on
   * every retry and hold back every result read with it: its entries are then applied one at a time and the
   * ones refused on their own are dead-lettered. Other errors (PostgreSQL down, a lost connection) throw, and
   * the caller retries the batch.
   */
  async processBatch(entries: StreamEntry[]): Promise<void> {
    try {
      await this.applyBatch(entries);
    } catch (err) {
      if (!isDataError(err)) throw err;
      for (const entry of entries) {
        try {
          await this.applyBatch([entry]);
        } catch (one) {
          if (!isDataError(one)) throw one;
          this.log.warn({ err: one, entryId: entry[0] }, 'an entry PostgreSQL refuses was dead-lettered');
          await this.deadLetterEntry(entry, `refused by PostgreSQL: ${(one as Error).message}`);
        }
      }
    }
  }

  private async deadLetterEntry(entry: StreamEntry, reason: string): Promise<void> {
    const pipeline = this.deps.redis.pipeline();
    this.queueAcks(
      pipeline,
      [entry],
      [{ entryId: entry[0], reason: reason.slice(0, 1_000), fields: fieldsToRecord(entry[1]) }],
    );
    await pipeline.exec();
  }

  private async applyBatch(entries: StreamEntry[]): Promise<void> {
    const taskMessages: { entryId: string; env: TaskEnvelope }[] = [];
    const instanceMessages: Envelope<'heartbeat'>[] = [];
    const dead: { entryId: string; reason: string; fields: Record<string, string> }[] = [];
    for (const [entryId, fields] of entries) {
      const decoded = decode(fields);
      if (!decoded.ok) {
        dead.push({ entryId, reason: decoded.reason, fields: decoded.fields });
        continue;
      }
      const env: AnyEnvelope = decoded.envelope;
      if (env.kind === 'heartbeat') instanceMessages.push(env);
      else if (env.kind === 'task')
        dead.push({
          entryId,
          reason: 'a task message on the results stream',
          fields: fieldsToRecord(fields),
        });
      else taskMessages.push({ entryId, env: env as TaskEnvelope });
    }
    if (instanceMessages.length > 0) await this.applyInstances(instanceMessages);
    this.log.debug(
      { tasks: taskMessages.length, instances: instanceMessages.length, dead: dead.length },
      'applying a batch',
    );
    if (taskMessages.length > 0) {
      const ids = [...new Set(taskMessages.map((m) => m.env.wf))];
      // The batch runs in the context of its first message; every message's own IDs are in the rows it writes.
      const ctx = newContext({
        correlationId: taskMessages[0]!.env.cid,
        traceparent: taskMessages[0]!.env.tp,
      });
      const deadBefore = dead.length;
      await runInContext(ctx, () =>
        runUnitOfWork(
          this.deps,
          this.router,
          ids,
          (machine, workflows, fx) => {
            // A rerun of the unit (a deadlock, a guarded update that lost) decides again from scratch.
            dead.length = deadBefore;
            for (const { entryId, env } of taskMessages) {
              const wf = workflows.get(env.wf);
              const task = wf?.tasks.get(env.task);
              if (!wf || !task) {
                dead.push({
                  entryId,
                  reason: `unknown workflow or task (${env.wf}/${env.task})`,
                  fields: { kind: env.kind, cid: env.cid, wf: env.wf, task: env.task },
                });
                continue;
              }
              switch (env.kind) {
                case 'started':
                  machine.started(task, env.attempt, env.payload as Envelope<'started'>['payload'], env.ts);
                  break;
                case 'result':
                  machine.result(wf, task, env.attempt, env.payload as Envelope<'result'>['payload']);
                  break;
                case 'dead':
                  machine.deadLettered(wf, task, env.attempt, env.payload as Envelope<'dead'>['payload']);
                  break;
                case 'log': {
                  const p = env.payload as Envelope<'log'>['payload'];
                  // A coding runner's step is also a task.progress event, while its attempt is the task's live
                  // one: a step of a superseded attempt, or one applied after the attempt's result (batches run
                  // concurrently), stays a log line, so no progress follows a task's terminal event.
                  const live =
                    task.attempt === env.attempt && (task.status === 'queued' || task.status === 'running');
                  for (const line of p.lines) {
                    fx.logs.push({
                      ts: new Date(line.ts),
                      agent: p.agent,
                      instance: p.instance,
                      workflow_id: env.wf,
                      task_id: env.task,
                      correlation_id: env.cid,
                      level: line.level,
                      message: line.message,
                    });
                    if (line.progress && live)
                      fx.event({
                        type: 'task.progress',
                        correlationId: env.cid,
                        workflowId: env.wf,
                        taskId: env.task,
                        agent: p.agent,
                        ts: line.ts,
                        data: { attempt: env.attempt, instance: p.instance, ...line.progress },
                      });
                  }
                  break;
                }
              }
            }
          },
          // The acknowledgements ride the unit's own pipeline after its commit: one write for all of it.
          { alsoAfterCommit: (pipeline) => this.queueAcks(pipeline, entries, dead) },
        ),
      );
      return;
    }
    const pipeline = this.deps.redis.pipeline();
    this.queueAcks(pipeline, entries, dead);
    await pipeline.exec();
  }

  /** Dead-letters what could not be applied and acknowledges (XACK + XDEL) every entry of an applied batch. */
  private queueAcks(
    pipeline: Pipeline,
    entries: readonly StreamEntry[],
    dead: readonly { entryId: string; reason: string; fields: Record<string, string> }[],
  ): void {
    const stream = this.deps.keys.results();
    for (const d of dead) {
      const [key, ...rest] = deadLetterArgs(this.deps.keys, { stream, ...d });
      pipeline.xadd(key as string, ...(rest as string[]));
    }
    const ids = entries.map((e) => e[0]);
    pipeline.xack(stream, COORDINATOR_GROUP, ...ids);
    pipeline.xdel(stream, ...ids);
  }

  /** Instance heartbeats: rows in agent_instances, and agent.online / agent.offline on changes. */
  private async applyInstances(messages: Envelope<'heartbeat'>[]): Promise<void> {
    const events = await this.deps.db.transaction().execute(async (tx) => {
      const ids = [...new Set(messages.map((m) => m.payload.instance))];
      const known = new Map(
        (
          await tx.selectFrom('agent_instances').select(['id', 'status']).where('id', 'in', ids).execute()
        ).map((r) => [r.id, r.status]),
      );
      const drafts: EventDraft[] = [];
      for (const m of messages) {
        const p = m.payload;
        const was = known.get(p.instance);
        const status = p.state === 'offline' ? 'offline' : 'online';
        const now = new Date(m.ts);
        await tx
          .insertInto('agent_instances')
          .values({
            id: p.instance,
            agent: p.agent,
            host: p.host,
            pid: p.pid,
            concurrency: p.concurrency,
            status,
            running: p.running,
            started_at: new Date(p.startedAt),
            last_heartbeat: now,
            stopped_at: status === 'offline' ? now : null,
          })
          .onConflict((oc) =>
            oc.column('id').doUpdateSet({
              status,
              running: p.running,
              last_heartbeat: now,
              stopped_at: status === 'offline' ? now : null,
            }),
          )
          .execute();
        if (status !== was) {
          drafts.push({
            type: status === 'online' ? 'agent.online' : 'agent.offline',
            correlationId: m.cid,
            agent: p.agent,
            data: {
              instance: p.instance,
              host: p.host,
              pid: p.pid,
              reason: status === 'offline' ? 'stopped' : 'started',
            },
            ts: m.ts,
          });
        }
        known.set(p.instance, status);
      }
      return insertEvents(tx, drafts);
    });
    await publishEvents(this.deps.redis, this.deps.keys, events, this.deps.config.engine.eventsMaxLen);
  }

  /** Copies dead letters into PostgreSQL, where the API and dashboard list them. */
  private async deadLetterLoop(): Promise<void> {
    const stream = this.deps.keys.deadLetters();
    while (!this.stopped) {
      try {
        const entries = await readGroup(
          this.dlqReader!,
          stream,
          COORDINATOR_GROUP,
          this.id,
          256,
          this.opts.blockMs,
        );
        if (entries.length === 0) continue;
        const rows = entries.map(([entryId, list]) => {
          const f = fieldsToRecord(list);
          let fields: unknown = {};
          try {
            fields = JSON.parse(f.fields ?? '{}');
          } catch {
            fields = { raw: f.fields };
          }
          // PostgreSQL text and jsonb cannot hold NUL: a dead letter is recorded with U+FFFD in its place, or it
          // would be refused on every retry and hold back every dead letter after it.
          const text = (v: string) => v.replace(/\u0000/g, '\ufffd');
          const opt = (v: string | undefined) => (v === undefined ? null : text(v));
          return {
            stream: text(f.stream ?? stream),
            entry_id: text(f.entryId ?? entryId),
            reason: text(f.reason ?? 'unknown'),
            fields: JSON.stringify(fields).replace(/(?<!\\)\\u0000/g, '\\ufffd'),
            correlation_id: opt(f.cid),
            workflow_id: opt(f.wf),
            task_id: opt(f.task),
          };
        });
        await this.deps.db.insertInto('dead_letters').values(rows).execute();
        deadLetters.inc(rows.length);
        await this.deps.redis.xack(stream, COORDINATOR_GROUP, ...entries.map((e) => e[0]));
      } catch (err) {
        if (this.stopped) break;
        this.log.warn({ err }, 'recording dead letters failed; retrying');
        await sleep(1_000, this.abort.signal);
      }
    }
  }

  private async holdsLease(): Promise<boolean> {
    const key = this.deps.keys.sweepLease();
    const ttl = Math.max(1_000, this.opts.sweepIntervalMs * 10);
    if ((await this.deps.redis.set(key, this.id, 'PX', ttl, 'NX')) === 'OK') return true;
    if ((await this.deps.redis.get(key)) === this.id) {
      await this.deps.redis.pexpire(key, ttl);
      return true;
    }
    return false;
  }

  private async sweepLoop(): Promise<void> {
    let lastSlow = 0;
    while (!this.stopped) {
      await sleep(this.opts.sweepIntervalMs, this.abort.signal);
      if (this.stopped) break;
      try {
        if (!(await this.holdsLease())) continue;
        await this.sweepRetries();
        await this.sweepOutbox();
        if (Date.now() - lastSlow >= 1_000) {
          lastSlow = Date.now();
          await this.sweepLost();
          await this.sweepDeadlines();
          await this.sweepInstances();
        }
      } catch (err) {
        if (this.stopped) break;
        this.log.warn({ err }, 'sweep failed; retrying');
      }
    }
  }

  /** Tasks whose retry backoff has passed get their next attempt. */
  async sweepRetries(): Promise<void> {
    const rows = await this.deps.db
      .selectFrom('tasks')
      .select('workflow_id')
      .distinct()
      .where('status', '=', 'pending')
      .where('not_before', '<=', new Date())
      .limit(500)
      .execute();
    if (rows.length === 0) return;
    await runUnitOfWork(
      this.deps,
      this.router,
      rows.map((r) => r.workflow_id),
      (machine, workflows) => {
        for (const wf of workflows.values()) for (const t of wf.tasks.values()) machine.retryDue(wf, t);
      },
    );
  }

  /** Running tasks past their deadline (plus grace) fail their attempt: the agent is hung or gone. */
  async sweepDeadlines(): Promise<void> {
    const limit = new Date(Date.now() - this.opts.deadlineGraceMs);
    const rows = await this.deps.db
      .selectFrom('tasks')
      .select('workflow_id')
      .distinct()
      .where('status', '=', 'running')
      .where('deadline_at', '<', limit)
      .limit(200)
      .execute();
    if (rows.length === 0) return;
    await runUnitOfWork(
      this.deps,
      this.router,
      rows.map((r) => r.workflow_id),
      (machine, workflows) => {
        for (const wf of workflows.values()) {
          for (const t of wf.tasks.values())
            if (t.status === 'running' && t.deadlineAt && t.deadlineAt < limit) machine.timedOut(wf, t);
        }
      },
    );
  }

  /** The outbox: tasks committed as queued but never written to a stream (a crash or Redis outage in between). */
  async sweepOutbox(): Promise<void> {
    const due = () =>
      this.deps.db
        .selectFrom('tasks')
        .innerJoin('workflows', 'workflows.id', 'tasks.workflow_id')
        .select(SENDABLE_COLUMNS)
        .where('tasks.status', '=', 'queued')
        .where('tasks.dispatched_at', 'is', null)
        .where('tasks.queued_at', '<', new Date(Date.now() - this.opts.outboxAfterMs))
        .limit(500)
        .execute();
    if ((await due()).length === 0) return;
    // A send not yet recorded (a process that died holding it) whose task an agent already took: its started or
    // result message waits in the results stream. Sending it again would run it twice. PostgreSQL is read again
    // after the stream, so a message applied (and deleted) between the two reads shows there instead.
    const awaiting = await this.resultsAwaiting();
    if (!awaiting) return;
    const rows = await due();
    const unsent = rows.filter((r) => !awaiting.has(`${r.workflow_id}|${r.id}|${r.attempt}`));
    if (unsent.length === 0) return;
    this.log.info({ tasks: unsent.length }, 'outbox: sending tasks that were committed but not sent');
    await dispatcherFor(this.deps).send(unsent.map(toDispatchItem));
  }

  /**
   * The attempts (`workflow|task|attempt`) with a message waiting in the results stream, or undefined when the
   * stream holds a backlog too long to read now (the sweeps then wait for a quieter round). The stream is short:
   * entries are deleted once PostgreSQL has them.
   */
  private async resultsAwaiting(): Promise<Set<string> | undefined> {
    const backlog = (await this.deps.redis.xrange(this.deps.keys.results(), '-', '+', 'COUNT', 10_001)) as [
      string,
      string[],
    ][];
    if (backlog.length > 10_000) return undefined;
    return new Set(
      backlog.map(([, f]) => {
        const r = fieldsToRecord(f);
        return `${r.wf}|${r.task}|${r.attempt}`;
      }),
    );
  }

  /**
   * Recovery from a Redis that lost data: tasks PostgreSQL says are queued or running, sent long enough ago,
   * whose stream entry no longer exists. Entries are deleted only after their result was written, so a
   * missing entry with no result applied for `lostAfterMs` means the message (or its result) was lost; the
   * same attempt is sent again, and the attempt guard keeps a late original result from counting twice.
   */
  async sweepLost(): Promise<void> {
    const before = new Date(Date.now() - this.deps.config.engine.lostAfterMs);
    const rows = await this.deps.db
      .selectFrom('tasks')
      .innerJoin('workflows', 'workflows.id', 'tasks.workflow_id')
      .select([...SENDABLE_COLUMNS, 'tasks.msg_id'])
      .where('tasks.status', 'in', ['queued', 'running'])
      .where('tasks.msg_id', 'is not', null)
      .where('tasks.dispatched_at', '<', before)
      .where((eb) => eb.or([eb('tasks.started_at', 'is', null), eb('tasks.started_at', '<', before)]))
      .limit(200)
      .execute();
    if (rows.length === 0) return;
    const pipeline = this.deps.redis.pipeline();
    for (const r of rows) pipeline.xrange(this.deps.keys.agentTasks(r.agent!), r.msg_id!, r.msg_id!);
    const replies = (await pipeline.exec()) ?? [];
    const missing = rows.filter((_, i) => {
      const [err, entries] = replies[i] ?? [];
      return !err && Array.isArray(entries) && entries.length === 0;
    });
    if (missing.length === 0) return;
    // A task entry is deleted right after its result is written: a result still waiting in the results stream
    // (a coordinator behind) means nothing was lost.
    const awaiting = await this.resultsAwaiting();
    if (!awaiting) return;
    const unseen = missing.filter((r) => !awaiting.has(`${r.workflow_id}|${r.id}|${r.attempt}`));
    if (unseen.length === 0) return;
    // Results are committed before they are deleted from the stream: one that vanished since the first query
    // shows up here as a task no longer active.
    const still = await this.deps.db
      .selectFrom('tasks')
      .select(['workflow_id', 'id', 'attempt'])
      .where('status', 'in', ['queued', 'running'])
      .where(
        sql<boolean>`(workflow_id, id) IN (SELECT * FROM unnest(${unseen.map((r) => r.workflow_id)}::text[], ${unseen.map((r) => r.id)}::text[]))`,
      )
      .execute();
    const active = new Set(still.map((r) => `${r.workflow_id}|${r.id}|${r.attempt}`));
    const lost = unseen.filter((r) => active.has(`${r.workflow_id}|${r.id}|${r.attempt}`));
    if (lost.length === 0) return;
    this.log.warn({ tasks: lost.length }, 'recovery: resending tasks whose stream entries were lost');
    await dispatcherFor(this.deps).send(lost.map(toDispatchItem));
  }

  /** Instances that stopped beating (their TTL key expired) are marked offline, with an agent.offline event. */
  async sweepInstances(): Promise<void> {
    const silentFor = this.deps.config.engine.heartbeatMs * 3;
    const rows = await this.deps.db
      .selectFrom('agent_instances')
      .select(['id', 'agent', 'host', 'pid', 'last_heartbeat'])
      .where('status', '=', 'online')
      .where('last_heartbeat', '<', new Date(Date.now() - silentFor))
      .execute();
    if (rows.length === 0) return;
    const alive = await Promise.all(
      rows.map((r) => this.deps.redis.exists(this.deps.keys.instance(r.agent, r.id))),
    );
    const gone = rows.filter((_, i) => alive[i] === 0);
    if (gone.length === 0) return;
    const events = await this.deps.db.transaction().execute(async (tx) => {
      const res = await tx
        .updateTable('agent_instances')
        .set({ status: 'offline', stopped_at: new Date() })
        .where(
          'id',
          'in',
          gone.map((g) => g.id),
        )
        .where('status', '=', 'online')
        .returning(['id', 'agent', 'host', 'pid', 'last_heartbeat'])
        .execute();
      return insertEvents(
        tx,
        res.map((r) => ({
          type: 'agent.offline' as const,
          correlationId: newId(),
          agent: r.agent,
          data: {
            instance: r.id,
            host: r.host,
            pid: r.pid,
            reason: 'heartbeat stopped',
            lastHeartbeat: r.last_heartbeat,
          },
        })),
      );
    });
    await publishEvents(this.deps.redis, this.deps.keys, events, this.deps.config.engine.eventsMaxLen);
  }
}

/** PostgreSQL refused the values themselves (SQLSTATE class 22): the same data can never succeed. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('22');
}

/** The columns a resend needs: the task row and its workflow's trace ID. */
const SENDABLE_COLUMNS = [
  'tasks.workflow_id',
  'tasks.id',
  'tasks.attempt',
  'tasks.agent',
  'tasks.type',
  'tasks.input',
  'tasks.timeout_ms',
  'tasks.correlation_id',
  'workflows.trace_id',
] as const;

interface SendableRow {
  workflow_id: string;
  id: string;
  attempt: number;
  agent: string | null;
  type: string;
  input: unknown;
  timeout_ms: number;
  correlation_id: string;
  trace_id: string | null;
}

/** A task row (joined with its workflow's trace ID) as the attempt to send again. */
function toDispatchItem(r: SendableRow): DispatchItem {
  return {
    workflowId: r.workflow_id,
    taskId: r.id,
    attempt: r.attempt,
    agent: r.agent!,
    type: r.type,
    input: r.input,
    timeoutMs: r.timeout_ms,
    correlationId: r.correlation_id,
    traceId: r.trace_id,
  };
}

/** Total of tasks not yet in a final state; handy for tests and drains. */
export async function activeTaskCount(deps: EngineDeps): Promise<number> {
  const r = await sql<{
    n: number;
  }>`SELECT count(*)::int AS n FROM tasks WHERE status IN ('pending','queued','running')`.execute(deps.db);
  return Number(r.rows[0]?.n ?? 0);
}
