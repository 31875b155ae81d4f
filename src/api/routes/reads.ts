import { z } from 'zod';
import { agentsView } from '../../store/queries/agents.js';
import { correlationTimeline, listDeadLetters, listLogs } from '../../store/queries/read-model.js';
import { usageSummary } from '../../store/queries/usage.js';
import type { ApiContext, App } from '../context.js';

const cid = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'not a correlation ID');

/** Read-only views: the correlation timeline, agent logs, agents and instances, dead letters. */
export function readRoutes(app: App, ctx: ApiContext): void {
  app.get(
    '/api/correlations/:cid',
    {
      schema: {
        tags: ['correlation'],
        summary: 'Everything under one correlation ID, with timings',
        params: z.object({ cid }),
      },
    },
    async (req) => correlationTimeline(ctx.deps.db, req.params.cid),
  );

  app.get(
    '/api/logs',
    {
      schema: {
        tags: ['logs'],
        summary:
          'Agent log lines, oldest first: the newest `limit` (nextCursor pages back), or those after line `after`',
        querystring: z.object({
          correlationId: cid.optional(),
          workflowId: z.string().max(256).optional(),
          taskId: z.string().max(256).optional(),
          agent: z.string().max(64).optional(),
          after: z.coerce.number().int().min(0).optional(),
          cursor: z.string().max(512).optional(),
          limit: z.coerce.number().int().min(1).max(5_000).default(200),
        }),
      },
    },
    async (req) => listLogs(ctx.deps.db, req.query),
  );

  app.get(
    '/api/agents',
    { schema: { tags: ['agents'], summary: 'Agents, instances and queue depths' } },
    async () => agentsView(ctx.deps),
  );

  app.get(
    '/api/dead-letters',
    {
      schema: {
        tags: ['dead letters'],
        summary: 'Entries moved to the dead-letter stream, with their reasons',
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(500).default(100),
          cursor: z.string().max(512).optional(),
        }),
      },
    },
    async (req) => listDeadLetters(ctx.deps.db, req.query),
  );

  app.get(
    '/api/usage',
    {
      schema: {
        tags: ['usage'],
        summary: 'Tokens and USD reported by runners, summed per agent and in total',
        querystring: z.object({
          workflowId: z.string().max(256).optional(),
          correlationId: cid.optional(),
          since: z.iso.datetime({ offset: true }).optional(),
        }),
      },
    },
    async (req) =>
      usageSummary(ctx.deps.db, {
        workflowId: req.query.workflowId,
        correlationId: req.query.correlationId,
        since: req.query.since ? new Date(req.query.since) : undefined,
      }),
  );
}
