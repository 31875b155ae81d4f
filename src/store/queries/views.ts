import type { AgentLogRow, TaskRow, WorkflowRow } from '../schema.js';

/** Row → API shapes of CONTRACT §6. Timestamps as ISO strings, durations in ms. */
const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);
const span = (a: Date | null | undefined, b: Date | null | undefined) =>
  a && b ? new Date(b).getTime() - new Date(a).getTime() : null;

export function taskView(t: TaskRow) {
  const v: Record<string, unknown> = {
    id: t.id,
    type: t.type,
    agent: t.agent,
    status: t.status,
    attempt: t.attempt,
    dependsOn: t.depends_on,
    queuedAt: iso(t.queued_at),
    startedAt: iso(t.started_at),
    finishedAt: iso(t.finished_at),
    durationMs: span(t.started_at, t.finished_at),
    output: t.output ?? null,
    error: t.error ?? null,
  };
  if (t.usage) v.usage = t.usage;
  if (t.compensation_of) v.compensationOf = t.compensation_of;
  return v;
}

export function workflowSummary(w: WorkflowRow) {
  return {
    id: w.id,
    correlationId: w.correlation_id,
    name: w.name,
    status: w.status,
    createdAt: iso(w.created_at),
    startedAt: iso(w.started_at),
    finishedAt: iso(w.finished_at),
    durationMs: span(w.started_at, w.finished_at),
    error: w.error ?? null,
  };
}

export function workflowView(w: WorkflowRow, tasks: TaskRow[]) {
  const usage = tasks.reduce(
    (acc, t) => {
      const u = (t.usage ?? {}) as { inputTokens?: number; outputTokens?: number; costUsd?: number };
      acc.inputTokens += u.inputTokens ?? 0;
      acc.outputTokens += u.outputTokens ?? 0;
      acc.costUsd += u.costUsd ?? 0;
      return acc;
    },
    { inputTokens: 0, outputTokens: 0, costUsd: 0 },
  );
  // Added for coding agents: the same sums per agent (a workflow of several CLIs: who spent what).
  const byAgent: Record<string, { inputTokens: number; outputTokens: number; costUsd: number }> = {};
  for (const t of tasks) {
    if (!t.usage || !t.agent) continue;
    const u = t.usage as { inputTokens?: number; outputTokens?: number; costUsd?: number };
    byAgent[t.agent] ??= { inputTokens: 0, outputTokens: 0, costUsd: 0 };
    const a = byAgent[t.agent]!;
    a.inputTokens += u.inputTokens ?? 0;
    a.outputTokens += u.outputTokens ?? 0;
    a.costUsd += u.costUsd ?? 0;
  }
  return {
    ...workflowSummary(w),
    budgetUsd: w.budget_usd,
    usage,
    usageByAgent: byAgent,
    tasks: tasks.sort((a, b) => a.position - b.position).map(taskView),
  };
}

export function logView(l: AgentLogRow) {
  return {
    id: Number(l.id),
    ts: iso(l.ts),
    agent: l.agent,
    instance: l.instance,
    taskId: l.task_id,
    workflowId: l.workflow_id,
    correlationId: l.correlation_id,
    level: l.level,
    message: l.message,
  };
}
