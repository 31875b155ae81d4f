import type { HiveEvent } from '../engine/events.js';
import { queuedToStarted, taskDuration, workflowsFinished } from './metrics.js';

const FINAL = new Set([
  'workflow.completed',
  'workflow.failed',
  'workflow.cancelled',
  'workflow.rolled_back',
  'workflow.rollback_failed',
]);

/** Observes committed events into the Prometheus metrics of this process (labels: agent, type, status — no IDs). */
export function observeEvents(
  events: readonly HiveEvent[],
  typeOf: (e: HiveEvent) => string | undefined,
): void {
  for (const e of events) {
    const d = e.data as { durationMs?: unknown; queuedToStartedMs?: unknown };
    if (e.type === 'task.started' && typeof d.queuedToStartedMs === 'number' && e.agent) {
      queuedToStarted.observe({ agent: e.agent }, Math.max(0, d.queuedToStartedMs) / 1000);
    } else if (
      (e.type === 'task.completed' || e.type === 'task.failed' || e.type === 'task.retrying') &&
      typeof d.durationMs === 'number' &&
      e.agent
    ) {
      taskDuration.observe(
        {
          agent: e.agent,
          type: typeOf(e) ?? 'unknown',
          outcome: e.type === 'task.completed' ? 'completed' : 'failed',
        },
        d.durationMs / 1000,
      );
    } else if (FINAL.has(e.type)) {
      workflowsFinished.inc({ status: e.type.slice('workflow.'.length) });
    }
  }
}
