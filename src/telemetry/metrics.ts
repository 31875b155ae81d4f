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

export const queueDepth = new Gauge({
  name: 'hive_queue_depth',
  help: 'Entries in an agent task stream (waiting or in progress)',
  labelNames: ['agent'] as const,
  registers: [registry],
});

export const queuePending = new Gauge({
  name: 'hive_queue_pending',
  help: 'Entries delivered to an agent instance and not yet acknowledged',
  labelNames: ['agent'] as const,
  registers: [registry],
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
