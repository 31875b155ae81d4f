import { currentContext } from '../core/context.js';
import type { Db } from '../store/database.js';
import { observeEvents } from '../telemetry/engine-metrics.js';
import { recordSpan } from '../telemetry/tracing.js';
import type { EngineDeps } from './deps.js';
import { type DispatchItem, dispatcherFor, recordSends } from './dispatcher.js';
import { Effects } from './effects.js';
import { type HiveEvent, insertEvents, publishEvents } from './events.js';
import { WorkflowMachine } from './machine.js';
import type { Router } from './router.js';
import { FINAL_WORKFLOW_STATUSES, type WorkflowState } from './state.js';
import { isRetryableTxError, loadWorkflowsForUpdate, persistWorkflows } from './workflow-repo.js';

export type Mutator = (
  machine: WorkflowMachine,
  workflows: Map<string, WorkflowState>,
  fx: Effects,
  tx: Db,
) => void | Promise<void>;

export interface UnitOfWorkResult {
  fx: Effects;
  events: HiveEvent[];
  workflows: Map<string, WorkflowState>;
}

const MAX_TX_ATTEMPTS = 5;

/**
 * The one way state changes: lock the workflows, let the state machine decide, persist rows, events and
 * log lines in the same transaction, and only after the commit touch Redis (send tasks, publish events,
 * signal cancellations). A deadlock or guarded-update conflict reruns the whole unit on fresh rows.
 */
export async function runUnitOfWork(
  deps: EngineDeps,
  router: Router,
  workflowIds: readonly string[],
  mutate: Mutator,
  prepare?: (tx: Db) => Promise<void>,
): Promise<UnitOfWorkResult> {
  const dispatcher = dispatcherFor(deps);
  const sends = await dispatcher.take(workflowIds);
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await deps.db.transaction().execute(async (tx) => {
        await router.refresh(tx);
        if (prepare) await prepare(tx);
        // The sends taken are of these same workflows: their locks are the ones taken here.
        const workflows = await loadWorkflowsForUpdate(tx, workflowIds);
        const dispatched = await recordSends(tx, sends, workflows);
        const fx = new Effects();
        const machine = new WorkflowMachine(deps.config, router, fx);
        await mutate(machine, workflows, fx, tx);
        await persistWorkflows(tx, workflows.values());
        if (fx.logs.length > 0) await tx.insertInto('agent_logs').values(fx.logs).execute();
        const events = await insertEvents(tx, [...dispatched, ...fx.events]);
        return { fx, events, workflows };
      });
      await afterCommit(deps, result.fx, result.events);
      observeEvents(result.events, (e) =>
        e.workflowId && e.taskId ? result.workflows.get(e.workflowId)?.tasks.get(e.taskId)?.type : undefined,
      );
      for (const wf of result.workflows.values()) {
        if (!wf.dirty || !FINAL_WORKFLOW_STATUSES.has(wf.status) || !wf.startedAt) continue;
        recordSpan({
          name: `workflow ${wf.name ?? wf.id}`,
          traceId: wf.traceId,
          startMs: wf.startedAt.getTime(),
          endMs: (wf.finishedAt ?? new Date()).getTime(),
          attributes: {
            'hive.workflow_id': wf.id,
            'hive.correlation_id': wf.correlationId,
            'hive.status': wf.status,
          },
          error: wf.error?.message,
        });
      }
      return result;
    } catch (err) {
      if (attempt < MAX_TX_ATTEMPTS && isRetryableTxError(err)) continue;
      dispatcher.putBack(sends);
      throw err;
    }
  }
}

export function dispatchItems(fx: Effects): DispatchItem[] {
  return fx.dispatches.map(({ workflow, task }) => ({
    workflowId: task.workflowId,
    taskId: task.id,
    attempt: task.attempt,
    agent: task.agent!,
    type: task.type,
    input: task.input,
    timeoutMs: task.timeoutMs,
    correlationId: task.correlationId,
    traceId: workflow.traceId ?? currentContext()?.traceId ?? null,
  }));
}

/** Redis side effects of a committed unit. Failures here lose nothing: the sweeps resend from PostgreSQL. */
export async function afterCommit(deps: EngineDeps, fx: Effects, events: HiveEvent[]): Promise<void> {
  try {
    await dispatcherFor(deps).send(dispatchItems(fx));
  } catch (err) {
    deps.logger.warn({ err }, 'dispatch after commit failed; the outbox sweep will resend');
  }
  try {
    await publishEvents(deps.redis, deps.keys, events, deps.config.engine.eventsMaxLen);
    if (fx.cancels.length > 0) {
      const pipeline = deps.redis.pipeline();
      for (const c of fx.cancels)
        pipeline.publish(deps.keys.agentControl(c.agent), JSON.stringify({ type: 'cancel', ...c }));
      await pipeline.exec();
    }
  } catch (err) {
    deps.logger.warn({ err }, 'publishing after commit failed');
  }
}
