import { newContext } from '../core/context.js';
import { formatProblems, HiveError, type Problem } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { isoOrNull } from '../core/iso-time.js';
import { parseTraceparent } from '../core/traceparent.js';
import { literal } from '../store/script.js';
import type { EngineDeps } from './deps.js';
import { Router } from './router.js';
import { planWorkflow, type WorkflowPlan } from './spec.js';
import type { TaskState, WorkflowState } from './state.js';
import { runUnitOfWork } from './unit-of-work.js';
import { insertTasksStatement } from './workflow-repo.js';

export interface SubmitOptions {
  correlationId: string;
  traceparent?: string | undefined;
  /** Shared across calls in one process so routing sees the tasks it just placed. */
  router?: Router;
}

export interface SubmitResult {
  id: string;
  correlationId: string;
  status: string;
  /** false when a workflow with the client's `id` already existed (submission is idempotent on it). */
  created: boolean;
}

export const MAX_BATCH = 1_000;
const defaultRouter = new Router();

function newTask(wfId: string, correlationId: string, plan: WorkflowPlan['tasks'][number]): TaskState {
  return {
    workflowId: wfId,
    id: plan.id,
    position: plan.position,
    correlationId,
    type: plan.type,
    agent: null,
    requestedAgent: plan.agent ?? null,
    candidates: plan.candidates,
    status: 'pending',
    attempt: 0,
    maxAttempts: plan.maxAttempts,
    timeoutMs: plan.timeoutMs,
    dependsOn: plan.dependsOn,
    input: plan.input,
    output: null,
    error: null,
    usage: null,
    compensate: plan.compensate ?? null,
    compensationOf: null,
    completedOrder: null,
    instance: null,
    notBefore: null,
    deadlineAt: null,
    queuedAt: null,
    startedAt: null,
    finishedAt: null,
    orig: null,
    dirty: false,
    resetDispatch: false,
  };
}

/**
 * Validates every spec (all problems of all specs reported together), then writes the workflows, their tasks
 * and their first events in one transaction and sends the ready tasks. A batch is all or none.
 */
export async function submitWorkflows(
  deps: EngineDeps,
  raws: readonly unknown[],
  opts: SubmitOptions,
): Promise<SubmitResult[]> {
  if (raws.length > MAX_BATCH) {
    throw new HiveError(
      'HIVE_ERR_SPEC_INVALID',
      `a batch holds at most ${MAX_BATCH} workflows (got ${raws.length})`,
    );
  }
  const problems: Problem[] = [];
  const plans: WorkflowPlan[] = [];
  raws.forEach((raw, i) => {
    try {
      plans.push(planWorkflow(raw, deps.config, raws.length > 1 ? `workflows.${i}.` : ''));
    } catch (err) {
      if (err instanceof HiveError && Array.isArray(err.details))
        problems.push(...(err.details as Problem[]));
      else throw err;
    }
  });
  const clientIds = plans.map((p) => p.id).filter((id): id is string => id !== undefined);
  if (new Set(clientIds).size !== clientIds.length) {
    problems.push({ path: 'workflows', message: 'the batch holds the same workflow id twice' });
  }
  if (problems.length > 0) {
    throw new HiveError('HIVE_ERR_SPEC_INVALID', formatProblems('Invalid workflow spec', problems), {
      details: problems,
    });
  }
  const traceId = parseTraceparent(opts.traceparent)?.traceId ?? newContext().traceId;
  const ids = plans.map((p) => p.id ?? newId());
  const results = new Map<string, SubmitResult>();
  await runUnitOfWork(
    deps,
    opts.router ?? defaultRouter,
    [],
    async (machine, workflows, fx, tx) => {
      const existing = clientIds.length
        ? await tx
            .selectFrom('workflows')
            .select(['id', 'correlation_id', 'status'])
            .where('id', 'in', clientIds)
            .execute()
        : [];
      for (const e of existing)
        results.set(e.id, { id: e.id, correlationId: e.correlation_id, status: e.status, created: false });
      const fresh: WorkflowState[] = [];
      plans.forEach((plan, i) => {
        const id = ids[i]!;
        if (results.has(id)) return;
        const wf: WorkflowState = {
          id,
          correlationId: opts.correlationId,
          name: plan.name ?? null,
          status: 'pending',
          error: null,
          traceId,
          budgetUsd: plan.budgetUsd ?? null,
          startedAt: null,
          finishedAt: null,
          tasks: new Map(plan.tasks.map((t) => [t.id, newTask(id, opts.correlationId, t)])),
          origStatus: null,
          dirty: true,
        };
        fx.event({
          type: 'workflow.submitted',
          correlationId: opts.correlationId,
          workflowId: id,
          data: { name: plan.name ?? null, tasks: plan.tasks.length, sequential: plan.sequential },
        });
        machine.start(wf);
        fresh.push(wf);
        results.set(id, { id, correlationId: opts.correlationId, status: wf.status, created: true });
      });
      if (fresh.length === 0) return;
      const wfRows = fresh.map((wf) => ({
        id: wf.id,
        correlation_id: wf.correlationId,
        name: wf.name,
        status: wf.status,
        spec: plans[ids.indexOf(wf.id)]!.spec,
        trace_id: wf.traceId,
        budget_usd: wf.budgetUsd,
        started_at: isoOrNull(wf.startedAt),
      }));
      // New rows go in with the unit's write script: tasks in their state after start(), so no
      // insert-then-update round trip (workflowWrites covers only rows a unit loaded).
      fx.writes.push(
        `INSERT INTO workflows (id, correlation_id, name, status, spec, trace_id, budget_usd, started_at)
      SELECT id, correlation_id, name, status, spec, trace_id, budget_usd, started_at
      FROM json_populate_recordset(NULL::workflows, ${literal(JSON.stringify(wfRows))}::json)`,
        insertTasksStatement(fresh.flatMap((wf) => [...wf.tasks.values()])),
      );
      for (const wf of fresh) for (const t of wf.tasks.values()) t.dirty = false;
      // Returned with the unit (its rows are inserted above, not by workflowWrites): the workflow cache keeps them.
      for (const wf of fresh) workflows.set(wf.id, wf);
    },
    // Without client-chosen IDs nothing is read first: the whole submission is one round trip.
    { beginWithWrites: clientIds.length === 0 },
  );
  return ids.map((id) => results.get(id)!);
}

export async function submitWorkflow(
  deps: EngineDeps,
  raw: unknown,
  opts: SubmitOptions,
): Promise<SubmitResult> {
  const [result] = await submitWorkflows(deps, [raw], opts);
  return result!;
}
