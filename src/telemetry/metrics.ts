import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics (`hive_` prefix, base units). Labels never carry IDs: cardinality stays bounded by the
 * number of routes, agents and task types.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'hive_process_' });

const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export const httpDuration = new Histogram({
  name: 'hive_http_request_duration_seconds',
  help: 'HTTP request duration by method, route template and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: latencyBuckets,
  registers: [registry],
});

export const taskDuration = new Histogram({
  name: 'hive_task_duration_seconds',
  help: 'Task attempt duration reported by agents, by agent and task type',
  labelNames: ['agent', 'type', 'outcome'] as const,
  buckets: latencyBuckets,
  registers: [registry],
});

export const queuedToStarted = new Histogram({
  name: 'hive_task_queued_to_started_seconds',
  help: 'Time from a task being queued to an agent starting it',
  labelNames: ['agent'] as const,
  buckets: latencyBuckets,
  registers: [registry],
});

export const workflowsFinished = new Counter({
  name: 'hive_workflows_finished_total',
  help: 'Workflows that reached a final status, by status',
  labelNames: ['status'] as const,
  registers: [registry],
});

export const workflowCacheUnits = new Counter({
  name: 'hive_workflow_cache_units_total',
  help: 'Units of work by how they read their workflows: hit (cached copy, checked), stale (check failed, rerun), read',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const deadLetters = new Counter({
  name: 'hive_dead_letters_total',
  help: 'Stream entries moved to the dead-letter stream',
  registers: [registry],
});

export const liveClientsDropped = new Counter({
  name: 'hive_live_clients_dropped_total',
  help: 'SSE and WebSocket clients dropped for reading too slowly',
  registers: [registry],
});

/**
 * What the gauges read at scrape time. The process that serves /metrics sets it (the API, from its Redis and
 * database); a process that never sets it reports no queue gauges rather than invented zeros.
 */
export interface MetricsSource {
  /** Per configured agent: entries in its task stream and entries delivered but not acknowledged. */
  queues(): Promise<Array<{ agent: string; depth: number; pending: number }>>;
  /** Rows in the dead-letter table (every process's dead letters, not only this one's). */
  deadLetters(): Promise<number>;
}

// Several API servers may live in one process (tests): the newest one still open answers.
const sources: MetricsSource[] = [];
let queueRead:
  | { at: number; value: Promise<Array<{ agent: string; depth: number; pending: number }>> }
  | undefined;
const source = () => sources.at(-1);

export function setMetricsSource(s: MetricsSource): void {
  sources.push(s);
  queueRead = undefined;
}

/** Removes `s`; an older source still registered answers again. */
export function clearMetricsSource(s: MetricsSource): void {
  const i = sources.lastIndexOf(s);
  if (i >= 0) sources.splice(i, 1);
  queueRead = undefined;
}

/** Both queue gauges are collected concurrently by one scrape: they share one Redis round trip. */
function queues() {
  const s = source();
  if (!s) return Promise.resolve([]);
  if (!queueRead || Date.now() - queueRead.at > 250) {
    queueRead = { at: Date.now(), value: s.queues().catch(() => []) };
  }
  return queueRead.value;
}

export const queueDepth = new Gauge({
  name: 'hive_queue_depth',
  help: 'Entries in an agent task stream (waiting or in progress)',
  labelNames: ['agent'] as const,
  registers: [registry],
  async collect() {
    for (const q of await queues()) this.set({ agent: q.agent }, q.depth);
  },
});

export const queuePending = new Gauge({
  name: 'hive_queue_pending',
  help: 'Entries delivered to an agent instance and not yet acknowledged',
  labelNames: ['agent'] as const,
  registers: [registry],
  async collect() {
    for (const q of await queues()) this.set({ agent: q.agent }, q.pending);
  },
});

export const deadLettersStored = new Gauge({
  name: 'hive_dead_letters',
  help: 'Dead-letter entries recorded in the database (all processes)',
  registers: [registry],
  async collect() {
    const s = source();
    if (!s) return;
    const n = await s.deadLetters().catch(() => undefined);
    if (n !== undefined) this.set(n);
  },
});

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
new Gauge({
  name: 'hive_event_loop_lag_seconds',
  help: 'Event loop delay p99 over the last scrape interval',
  registers: [registry],
  collect() {
    this.set(loopDelay.percentile(99) / 1e9);
    loopDelay.reset();
  },
});
