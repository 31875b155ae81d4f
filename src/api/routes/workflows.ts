import { z } from 'zod';
import { traceparentOf } from '../../core/context.js';
import { HiveError } from '../../core/errors.js';
import { cancelWorkflow } from '../../engine/cancel.js';
import { MAX_SPEC_BYTES } from '../../engine/spec.js';
import { submitWorkflow, submitWorkflows } from '../../engine/submit.js';
import { getWorkflow, listWorkflows } from '../../store/queries/read-model.js';
import type { ApiContext, App } from '../context.js';

const spec = z.record(z.string(), z.unknown()).describe('Workflow spec (CONTRACT §5)');
const accepted = z.object({ id: z.string(), correlationId: z.string(), status: z.string() });
const idParam = z.object({ id: z.string().min(1).max(256) });

function checkSize(body: unknown, where: string): void {
  if (Buffer.byteLength(JSON.stringify(body) ?? '', 'utf8') > MAX_SPEC_BYTES) {
    throw new HiveError('HIVE_ERR_SPEC_TOO_LARGE', `${where}: the spec is over 1 MiB`);
  }
}

/**
 * 16 MiB for a batch: 1,000 specs of 16 KiB each, far more than real workflows take, while one request still
 * cannot make the parser hold more than a few tens of MiB. Larger batches are split by the client.
 */
export const BATCH_BODY_LIMIT = 16 * 1024 * 1024;

export function workflowRoutes(app: App, ctx: ApiContext): void {
  app.post(
    '/api/workflows',
    {
      bodyLimit: 2 * MAX_SPEC_BYTES,
      schema: { tags: ['workflows'], summary: 'Submit a workflow', body: spec, response: { 202: accepted } },
    },
    async (req, reply) => {
      checkSize(req.body, 'body');
      const res = await submitWorkflow(ctx.deps, req.body, {
        correlationId: req.hive.correlationId,
        traceparent: traceparentOf(req.hive),
        router: ctx.router,
      });
      return reply.status(202).send({ id: res.id, correlationId: res.correlationId, status: res.status });
    },
  );

  app.post(
    '/api/workflows/batch',
    {
      bodyLimit: BATCH_BODY_LIMIT,
      schema: {
        tags: ['workflows'],
        summary: 'Submit up to 1,000 workflows at once, all or none',
        body: z.object({ workflows: z.array(spec).min(1).max(1_000) }),
        response: { 202: z.object({ workflows: z.array(accepted) }) },
      },
    },
    async (req, reply) => {
      for (const [i, w] of req.body.workflows.entries()) checkSize(w, `workflows.${i}`);
      const res = await submitWorkflows(ctx.deps, req.body.workflows, {
        correlationId: req.hive.correlationId,
        traceparent: traceparentOf(req.hive),
        router: ctx.router,
      });
      return reply.status(202).send({
        workflows: res.map((r) => ({ id: r.id, correlationId: r.correlationId, status: r.status })),
      });
    },
  );

  app.get(
    '/api/workflows',
    {
      schema: {
        tags: ['workflows'],
        summary: 'List workflows, newest first',
        querystring: z.object({
          status: z
            .enum([
              'pending',
              'running',
              'completed',
              'failed',
              'cancelled',
              'compensating',
              'rolled_back',
              'rollback_failed',
            ])
            .optional(),
          limit: z.coerce.number().int().min(1).max(500).default(50),
          cursor: z.string().max(512).optional(),
        }),
      },
    },
    async (req) => listWorkflows(ctx.deps.db, req.query),
  );

  app.get(
    '/api/workflows/:id',
    { schema: { tags: ['workflows'], summary: 'One workflow with its tasks', params: idParam } },
    async (req) => getWorkflow(ctx.deps.db, req.params.id),
  );

  app.post(
    '/api/workflows/:id/cancel',
    { schema: { tags: ['workflows'], summary: 'Cancel pending and running tasks', params: idParam } },
    async (req) => {
      const res = await cancelWorkflow(ctx.deps, req.params.id);
      return { id: res.id, status: res.status };
    },
  );
}
