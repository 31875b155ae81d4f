import { sql } from 'kysely';
import type { Db } from '../database.js';

export interface UsageTotals {
  tasks: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/**
 * Tokens and USD summed per agent (and in total) over the tasks that reported usage, optionally for one
 * workflow, one correlation ID or tasks finished since a time. Summed in PostgreSQL: the task table can hold
 * millions of rows and only the sums leave the database.
 */
export async function usageSummary(
  db: Db,
  opts: { workflowId?: string | undefined; correlationId?: string | undefined; since?: Date | undefined },
): Promise<{ total: UsageTotals; agents: ({ agent: string } & UsageTotals)[] }> {
  let q = db
    .selectFrom('tasks')
    .select([
      'agent',
      sql<number>`count(*)::int`.as('tasks'),
      sql<number>`coalesce(sum((usage->>'inputTokens')::float8), 0)`.as('inputTokens'),
      sql<number>`coalesce(sum((usage->>'outputTokens')::float8), 0)`.as('outputTokens'),
      sql<number>`coalesce(sum((usage->>'costUsd')::float8), 0)`.as('costUsd'),
    ])
    .where('usage', 'is not', null)
    .groupBy('agent')
    .orderBy('agent');
  if (opts.workflowId) q = q.where('workflow_id', '=', opts.workflowId);
  if (opts.correlationId) {
    const cid = opts.correlationId;
    // Through the workflows, whose correlation ID their tasks carry (tasks have no index on it).
    q = q.where('workflow_id', 'in', (eb) =>
      eb.selectFrom('workflows').select('id').where('correlation_id', '=', cid),
    );
  }
  if (opts.since) q = q.where('finished_at', '>=', opts.since);
  const rows = await q.execute();
  const agents = rows.map((r) => ({
    agent: r.agent ?? '(unassigned)',
    tasks: Number(r.tasks),
    inputTokens: Number(r.inputTokens),
    outputTokens: Number(r.outputTokens),
    costUsd: Number(r.costUsd),
  }));
  const total = agents.reduce(
    (a, r) => ({
      tasks: a.tasks + r.tasks,
      inputTokens: a.inputTokens + r.inputTokens,
      outputTokens: a.outputTokens + r.outputTokens,
      costUsd: a.costUsd + r.costUsd,
    }),
    { tasks: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 },
  );
  return { total, agents };
}
