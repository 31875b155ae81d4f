import { sql } from 'kysely';
import type { Pipeline, PipelineReplies } from '../bus/redis.js';
import { currentContext } from '../core/context.js';
import { HiveError } from '../core/errors.js';
import { connectionGeneration, type Db } from '../store/database.js';
import { runScript, type StatementResult } from '../store/script.js';
import { observeEvents } from '../telemetry/engine-metrics.js';
import { workflowCacheUnits } from '../telemetry/metrics.js';
import { recordSpan } from '../telemetry/tracing.js';
import type { EngineDeps } from './deps.js';
import { type DispatchItem, dispatcherFor, recordSends, type Sent } from './dispatcher.js';
import { Effects } from './effects.js';
import {
  assignSeqs,
  eventsFromDrafts,
  type HiveEvent,
  insertEventsStatement,
  queuePublish,
} from './events.js';
import { WorkflowMachine } from './machine.js';
import type { Router } from './router.js';
import { FINAL_WORKFLOW_STATUSES, type WorkflowState } from './state.js';
import { markCommitted, workflowCacheFor } from './workflow-cache.js';
import {
  asConcurrentChange,
  BEGIN_UNIT_STATEMENTS,
  CURRENT_XID_STATEMENT,
  checkCachedStatements,
  insertLogsStatement,
  isRetryableTxError,
  loadWorkflowsStatements,
  workflowsFromRows,
  workflowWrites,
} from './workflow-repo.js';

export type Mutator = (
  machine: WorkflowMachine,
  workflows: Map<string, WorkflowState>,
  fx: Effects,
  tx: Db,
) => void | Promise<void>;

export interface UnitOfWorkResult {
  fx: Effects;
  events: HiveEvent[];
  /** The unit's workflows as committed. The workflow cache owns them afterwards: read them, don't keep them. */
  workflows: Map<string, WorkflowState>;
  /** The workflows whose own row (status, error, times) the unit changed or inserted. */
  changed: Set<string>;
}

interface Committed {
  fx: Effects;
  events: HiveEvent[];
  workflows: Map<string, WorkflowState>;
  /** The transaction's ID (the xmin of every row it wrote), when it had workflows to cache. */
  xid: string | undefined;
}

export interface UnitOfWorkOptions {
  /**
   * The mutator runs no query of its own, so a unit that loads no workflows can send BEGIN with its writes and
   * COMMIT: one round trip (submissions).
   */
  beginWithWrites?: boolean;
  /** Redis writes of the caller's own to make after the commit, in the unit's pipeline (see afterCommit). */
  alsoAfterCommit?: (pipeline: Pipeline) => void;
}

const MAX_TX_ATTEMPTS = 5;

/**
 * The one way state changes: lock the workflows, let the state machine decide, persist rows, events and
 * log lines in the same transaction, and only after the commit touch Redis (send tasks, publish events,
 * signal cancellations). A deadlock or guarded-update conflict reruns the whole unit on fresh rows.
 *
 * Workflows this process committed last are decided on from its cache (workflow-cache.ts), checked in the
 * write script: one round trip. A mutator of a unit with workflow IDs therefore runs no query of its own.
 */
export async function runUnitOfWork(
  deps: EngineDeps,
  router: Router,
  workflowIds: readonly string[],
  mutate: Mutator,
  options: UnitOfWorkOptions = {},
): Promise<UnitOfWorkResult> {
  const dispatcher = dispatcherFor(deps);
  const cache = workflowCacheFor(deps);
  const sends = await dispatcher.take(workflowIds);
  let result: Committed;
  let generation = -1;
  for (let attempt = 1; ; attempt++) {
    // Only a first try uses the cache: a rerun decides on rows read afresh.
    let cached = attempt === 1 ? cache.take(workflowIds) : undefined;
    const takenIn = connectionGeneration();
    if (cached && !sends.every((s) => cached?.get(s.item.workflowId)?.tasks.has(s.item.taskId))) {
      cached = undefined; // a send recordSends would mark with a query of its own, outside the transaction
    }
    let used: Map<string, WorkflowState> | undefined;
    try {
      result = await deps.db.connection().execute((conn) => {
        // Checked once the connection is held: a connection opened since the take may lead to another server.
        generation = connectionGeneration();
        used = cached && generation === takenIn ? cached : undefined;
        return transact(
          conn,
          deps,
          router,
          workflowIds,
          sends,
          mutate,
          options.beginWithWrites ?? false,
          used,
        );
      });
      if (used) cache.fresh();
      if (workflowIds.length > 0) workflowCacheUnits.inc({ outcome: used ? 'hit' : 'read' });
      break;
    } catch (err) {
      if (used && isRetryableTxError(err)) {
        cache.stale();
        workflowCacheUnits.inc({ outcome: 'stale' });
      }
      if (attempt < MAX_TX_ATTEMPTS && isRetryableTxError(err)) continue;
      dispatcher.putBack(sends);
      throw err;
    }
  }
  await afterCommit(deps, result.fx, result.events, options.alsoAfterCommit);
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
  const changed = new Set<string>();
  for (const wf of result.workflows.values()) if (wf.dirty) changed.add(wf.id);
  markCommitted(result.workflows.values(), result.xid);
  cache.put(result.workflows.values(), generation);
  return { fx: result.fx, events: result.events, workflows: result.workflows, changed };
}

/**
 * One try of a unit, on one connection, in two round trips: BEGIN with the locking reads, then the writes (rows
 * with their guards, log lines, events) with the COMMIT. A unit deciding on cached workflows (their rows checked
 * first thing in the write script), or one that loads nothing and whose mutator runs no query of its own
 * (`beginWithWrites`: a submission), is one round trip.
 */
async function transact(
  conn: Db,
  deps: EngineDeps,
  router: Router,
  workflowIds: readonly string[],
  sends: readonly Sent[],
  mutate: Mutator,
  beginWithWrites: boolean,
  cached: Map<string, WorkflowState> | undefined,
): Promise<Committed> {
  // Outside the transaction: the load figures are an estimate for routing, not state.
  await router.refresh(conn);
  let open = false;
  try {
    let workflows = cached ?? new Map<string, WorkflowState>();
    const beginNow = !cached && (workflowIds.length > 0 || !beginWithWrites);
    if (beginNow) {
      open = true;
      const load = workflowIds.length > 0 ? loadWorkflowsStatements(workflowIds) : [];
      const loaded = await runScript(conn, [...BEGIN_UNIT_STATEMENTS, ...load]);
      const at = BEGIN_UNIT_STATEMENTS.length;
      workflows = workflowsFromRows(loaded[at]?.rows ?? [], loaded[at + 1]?.rows ?? []);
    }
    // The sends taken are of these same workflows: their locks are the ones taken here.
    const dispatched = await recordSends(conn, sends, workflows);
    const fx = new Effects();
    const machine = new WorkflowMachine(deps.config, router, fx);
    // Deciding on cached workflows, the mutator runs before BEGIN: a query of its own would run outside the
    // transaction, so it gets none.
    await mutate(machine, workflows, fx, cached ? NO_QUERIES : conn);
    const events = eventsFromDrafts([...dispatched, ...fx.events]);
    open = true;
    const { reply, eventsAt, xidAt } = sendWrites(conn, beginNow, cached, fx, workflows, events);
    const results = await reply;
    open = false;
    if (eventsAt >= 0) assignSeqs(events, (results[eventsAt]?.rows ?? []) as { first_seq?: unknown }[]);
    const xid = xidAt >= 0 ? (results[xidAt]?.rows[0] as { xid?: string } | undefined)?.xid : undefined;
    return { fx, events, workflows, xid };
  } catch (err) {
    throw asConcurrentChange(err);
  } finally {
    // Anything that failed before the COMMIT ran (a guard that lost, a refused statement) ends the transaction.
    if (open) await sql`ROLLBACK`.execute(conn).catch(() => {});
  }
}

/**
 * Sends a unit's write script, ending in its COMMIT: the guards of cached rows, the mutator's writes, the rows
 * changed, log lines, the event page and the transaction ID. Built and sent here, outside the caller's async frame,
 * so that nothing holds the script's text while the server runs it (see runScript). Returns where the page's and
 * the transaction ID's answers are.
 */
function sendWrites(
  conn: Db,
  beginNow: boolean,
  cached: Map<string, WorkflowState> | undefined,
  fx: Effects,
  workflows: Map<string, WorkflowState>,
  events: readonly HiveEvent[],
): { reply: Promise<StatementResult[]>; eventsAt: number; xidAt: number } {
  const writes = [
    ...(beginNow ? [] : BEGIN_UNIT_STATEMENTS),
    ...(cached ? checkCachedStatements(cached.values()) : []),
    ...fx.writes,
    ...workflowWrites(workflows.values()),
    ...(fx.logs.length > 0 ? [insertLogsStatement(fx.logs)] : []),
  ];
  const eventsAt = events.length > 0 ? writes.push(insertEventsStatement(events)) - 1 : -1;
  const xidAt = workflows.size > 0 ? writes.push(CURRENT_XID_STATEMENT) - 1 : -1;
  writes.push('COMMIT');
  fx.writes.length = 0; // sent: the unit's effects outlive the round trip, its statements need not
  return { reply: runScript(conn, writes), eventsAt, xidAt };
}

const NO_QUERIES = new Proxy({} as Db, {
  get() {
    throw new HiveError(
      'HIVE_ERR_INTERNAL',
      'a mutator deciding on cached workflows runs no query of its own (it would run outside the transaction)',
    );
  },
});

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

/**
 * Redis side effects of a committed unit, in one pipeline (one write): the tasks to send, the live events, the
 * cancel signals, and whatever the caller adds (`more`: the coordinator's acknowledgements of the messages the
 * unit applied). Failures of the unit's own writes lose nothing: the sweeps resend from PostgreSQL. A pipeline
 * that could not be sent at all is thrown when the caller added writes of its own, so it can retry them.
 */
export async function afterCommit(
  deps: EngineDeps,
  fx: Effects,
  events: HiveEvent[],
  more?: (pipeline: Pipeline) => void,
): Promise<void> {
  const pipeline = deps.redis.pipeline();
  const sent = dispatcherFor(deps).queueSends(pipeline, dispatchItems(fx));
  queuePublish(pipeline, deps.keys, events, deps.config.engine.eventsMaxLen);
  for (const c of fx.cancels)
    pipeline.publish(deps.keys.agentControl(c.agent), JSON.stringify({ type: 'cancel', ...c }));
  const mine = pipeline.length;
  more?.(pipeline);
  if (pipeline.length === 0) return;
  let replies: PipelineReplies;
  try {
    replies = (await pipeline.exec()) ?? [];
  } catch (err) {
    deps.logger.warn({ err }, 'writing to Redis after commit failed; the outbox sweep will resend');
    if (more) throw err;
    return;
  }
  sent(replies);
  // Redis answers each command of a pipeline on its own (a server at maxmemory refuses an XADD and still takes
  // an XACK): a refusal among the caller's commands is thrown, and the caller writes them again.
  const refused = replies.slice(mine).find(([err]) => err)?.[0];
  if (refused) throw refused;
}
