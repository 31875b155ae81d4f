import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dispatcherFor } from '../../src/engine/dispatcher.js';
import { Effects } from '../../src/engine/effects.js';
import { Router } from '../../src/engine/router.js';
import { submitWorkflow } from '../../src/engine/submit.js';
import { afterCommit, runUnitOfWork } from '../../src/engine/unit-of-work.js';
import { workflowCacheFor } from '../../src/engine/workflow-cache.js';
import { DATABASE_KINDS } from '../helpers/databases.js';
import { type EngineHarness, engineHarness } from '../helpers/engine.js';

const CONFIG = {
  agents: { backend_agent: { capabilities: ['api_creation'], runner: 'sdk', instances: 0 } },
};
const ONE_TASK = { tasks: [{ id: 'a', type: 'api_creation', agent: 'backend_agent' }] };

// Units of work send their writes and COMMIT as one script; the guards of the multi-row updates run inside it.
describe.each(DATABASE_KINDS)('a unit of work on %s', (kind, create) => {
  let h: EngineHarness;
  beforeEach(async () => {
    h = await engineHarness(CONFIG, { db: await create() });
  });
  afterEach(async () => {
    await h.close();
  });

  it('submits in one script: the workflow, its tasks and its events are all there, numbered in order', async () => {
    const { id } = await submitWorkflow(h.deps, ONE_TASK, { correlationId: 'uow-submit' });
    const task = await h.deps.db
      .selectFrom('tasks')
      .selectAll()
      .where('workflow_id', '=', id)
      .executeTakeFirst();
    expect(task?.status).toBe('queued');
    const events = await h.deps.db
      .selectFrom('events')
      .select(['seq', 'type'])
      .where('workflow_id', '=', id)
      .orderBy('seq')
      .execute();
    expect(events.map((e) => e.type).slice(0, 3)).toEqual([
      'workflow.submitted',
      'workflow.started',
      'task.queued',
    ]);
  });

  it('reruns on fresh rows when a guarded update loses, and keeps nothing of the losing try', async () => {
    const { id } = await submitWorkflow(h.deps, ONE_TASK, { correlationId: 'uow-guard' });
    // Read, not cached: the guarded update is what loses here (the cache's own check: workflow-cache.test.ts).
    workflowCacheFor(h.deps).drop([id]);
    const seen: string[] = [];
    const result = await runUnitOfWork(h.deps, new Router(), [id], async (_machine, workflows, fx, tx) => {
      const task = workflows.get(id)!.tasks.get('a')!;
      seen.push(`${task.status}/${task.attempt}`);
      if (seen.length === 1) {
        // The row moves on underneath this try (a writer that skipped the workflow lock; on PGlite, whose one
        // connection is this unit's, through the unit's own connection).
        await sql`UPDATE tasks SET attempt = attempt + 1 WHERE workflow_id = ${id} AND id = 'a'`.execute(
          kind === 'pglite' ? tx : h.deps.db,
        );
      }
      task.output = { try: seen.length };
      task.dirty = true;
      fx.event({ type: 'task.progress', correlationId: 'uow-guard', workflowId: id, taskId: 'a', data: {} });
    });
    // The first try saw attempt 1 and lost its guarded update; the rerun saw the row as it then was and won. On
    // PGlite the move was part of the losing try and was rolled back with it.
    const moved = kind === 'pglite' ? 1 : 2;
    expect(seen).toEqual(['queued/1', `queued/${moved}`]);
    const row = await h.deps.db
      .selectFrom('tasks')
      .select(['attempt', 'output'])
      .where('workflow_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.attempt).toBe(moved);
    expect(row.output).toEqual({ try: 2 });
    // One progress event: the losing try's event was rolled back with its writes.
    expect(await countEvents(h, id, 'task.progress')).toBe(1);
    // The events the unit returns (and publishes) carry the sequence numbers their rows got.
    const stored = await h.deps.db
      .selectFrom('events')
      .select(['seq', 'type'])
      .where(
        'seq',
        'in',
        result.events.map((e) => String(e.seq)),
      )
      .orderBy('seq')
      .execute();
    expect(stored.map((e) => [Number(e.seq), e.type])).toEqual(result.events.map((e) => [e.seq, e.type]));
    expect(result.events.map((e) => e.type)).toEqual(['task.dispatched', 'task.progress']);
  });

  it('records a send once, however often it is put back to be recorded', async () => {
    const { id } = await submitWorkflow(h.deps, ONE_TASK, { correlationId: 'uow-once' });
    const dispatcher = dispatcherFor(h.deps);
    const sends = await dispatcher.take([id]);
    expect(sends).toHaveLength(1);
    // Recorded by a group commit, then put back twice (a unit whose COMMIT went through with its reply lost):
    // once more to a group commit, once to a unit of work on the workflow.
    dispatcher.putBack(sends);
    await dispatcher.flush();
    dispatcher.putBack(sends);
    await dispatcher.flush();
    dispatcher.putBack(sends);
    await runUnitOfWork(h.deps, new Router(), [id], () => {});
    expect(await countEvents(h, id, 'task.dispatched')).toBe(1);
    const row = await h.deps.db
      .selectFrom('tasks')
      .select(['msg_id'])
      .where('workflow_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.msg_id).toBe(sends[0]!.entryId);
  });

  it('throws when Redis refuses a write the caller added after the commit, so the caller can write it again', async () => {
    const key = `${h.prefix}:not-a-stream`;
    await h.redis.set(key, 'x');
    await expect(
      afterCommit(h.deps, new Effects(), [], (pipeline) => {
        pipeline.xadd(key, '*', 'a', 'b');
      }),
    ).rejects.toThrow(/WRONGTYPE/);
    // Without writes of the caller's own, a refused write of the unit is logged, not thrown (the sweeps resend).
    await expect(afterCommit(h.deps, new Effects(), [])).resolves.toBeUndefined();
  });
});

async function countEvents(h: EngineHarness, id: string, type: string): Promise<number> {
  const r = await h.deps.db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('workflow_id', '=', id)
    .where('type', '=', type)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}
