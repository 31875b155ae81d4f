import { z } from 'zod';
import { commandInvokedData } from '../../commands/invoked.js';
import type { PreparedRun } from '../../commands/prepared.js';
import { traceparentOf } from '../../core/context.js';
import { HiveError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { insertEvents, publishEvents } from '../../engine/events.js';
import { submitWorkflow } from '../../engine/submit.js';
import type { ApiContext, App } from '../context.js';

/**
 * Slash commands (CONTRACT §8). A run records `command.invoked` first, then submits the workflow under the same
 * correlation ID, so the command heads its timeline.
 */
export function commandRoutes(app: App, ctx: ApiContext): void {
  const service = () => {
    if (!ctx.commands)
      throw new HiveError('HIVE_ERR_NOT_READY', 'slash commands are not enabled in this process');
    return ctx.commands;
  };

  app.get(
    '/api/commands',
    { schema: { tags: ['commands'], summary: 'Slash commands, with the problems of broken files' } },
    async () => service().list(),
  );

  app.post(
    '/api/commands/run',
    {
      schema: {
        tags: ['commands'],
        summary: 'Run a slash command',
        body: z.object({ command: z.string().min(1).max(100_000) }),
      },
    },
    async (req, reply) => {
      const cid = req.hive.correlationId;
      const prepared = await service().prepare(req.body.command);
      const runId = newId();
      const data = commandInvokedData(prepared as PreparedRun);
      const events = await ctx.deps.db.transaction().execute(async (tx) => {
        await tx
          .insertInto('command_runs')
          .values({
            id: runId,
            correlation_id: cid,
            command: prepared.command,
            args: data.arguments,
            file: data.file,
            workflow_id: null,
            status: prepared.kind === 'builtin' ? 'answered' : 'started',
            error: null,
          })
          .execute();
        return insertEvents(tx, [
          {
            type: 'command.invoked',
            correlationId: cid,
            data: { ...data },
          },
        ]);
      });
      await publishEvents(ctx.deps.redis, ctx.deps.keys, events).catch(() => {});
      if (prepared.kind === 'builtin')
        return reply
          .status(200)
          .send({ correlationId: cid, command: prepared.command, result: prepared.result });
      const res = await submitWorkflow(ctx.deps, prepared.spec, {
        correlationId: cid,
        traceparent: traceparentOf(req.hive),
        router: ctx.router,
      });
      await ctx.deps.db
        .updateTable('command_runs')
        .set({ workflow_id: res.id })
        .where('id', '=', runId)
        .execute();
      return reply.status(202).send({ workflowId: res.id, correlationId: cid, status: res.status });
    },
  );
}
