import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cancelWorkflow } from '../../src/engine/cancel.js';
import type { EngineDeps } from '../../src/engine/deps.js';
import { dispatcherFor } from '../../src/engine/dispatcher.js';
import { Router } from '../../src/engine/router.js';
import type { WorkflowState } from '../../src/engine/state.js';
import { submitWorkflow } from '../../src/engine/submit.js';
import { runUnitOfWork } from '../../src/engine/unit-of-work.js';
import { WorkflowCache } from '../../src/engine/workflow-cache.js';
import { connectionGeneration } from '../../src/store/database.js';
import { workflowCacheUnits } from '../../src/telemetry/metrics.js';
import { createPostgresDatabase, DATABASE_KINDS } from '../helpers/databases.js';
import { type EngineHarness, engineHarness } from '../helpers/engine.js';

const CONFIG = {
  agents: { backend_agent: { capabilities: ['api_creation'], runner: 'sdk', instances: 0 } },
};
const ONE_TASK = { tasks: [{ id: 'a', type: 'api_creation', agent: 'backend_agent' }] };

async function units(outcome: 'hit' | 'stale' | 'read'): Promise<number> {
  const m = await workflowCacheUnits.get();
  return m.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

/** What each try of a unit saw of the workflow: its status and its task IDs. */
function seeing(id: string, seen: string[]) {
  return (_machine: unknown, workflows: Map<string, WorkflowState>) => {
    const wf = workflows.get(id)!;
    seen.push(`${wf.status}:${[...wf.tasks.keys()].join(',')}`);
    const a = wf.tasks.get('a')!;
    a.output = { tries: seen.length };
    a.dirty = true;
  };
}

/**
 * Submits a workflow and leaves it cached by a read: its send recorded first, so that no group commit of the
 * dispatcher (which drops the workflow from the cache) can come between, however slow the machine.
 */
async function submittedAndCached(deps: EngineDeps, correlationId: string): Promise<string> {
  const { id } = await submitWorkflow(deps, ONE_TASK, { correlationId });
  await dispatcherFor(deps).flush();
  await runUnitOfWork(deps, new Router(), [id], () => {});
  return id;
}

// A unit of work decides on the copy of its workflows this process committed last, and checks it in its write
// script: the cache is never trusted, so another process's write costs a rerun, never a wrong decision.
describe.each(DATABASE_KINDS)('the workflow cache on %s', (_kind, create) => {
  let h: EngineHarness;
  /** A second process on the same database and Redis: its own cache and dispatcher. */
  let other: EngineDeps;
  beforeEach(async () => {
    h = await engineHarness(CONFIG, { db: await create() });
    other = { ...h.deps };
  });
  afterEach(async () => {
    await h.close();
  });

  it('decides on the copy a submission left, checked in the one write script', async () => {
    const [hits, stale] = [await units('hit'), await units('stale')];
    // No await between the submission and the unit but the submission's own: its send is still unrecorded, and
    // the unit takes it.
    const { id } = await submitWorkflow(h.deps, ONE_TASK, { correlationId: 'cache-hit' });
    const seen: string[] = [];
    await runUnitOfWork(h.deps, new Router(), [id], seeing(id, seen));
    await runUnitOfWork(h.deps, new Router(), [id], seeing(id, seen));
    expect(seen).toEqual(['running:a', 'running:a']);
    expect((await units('hit')) - hits).toBe(2);
    expect((await units('stale')) - stale).toBe(0);
    const row = await h.deps.db
      .selectFrom('tasks')
      .select('output')
      .where('workflow_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.output).toEqual({ tries: 2 });
  });

  it('reruns on fresh rows when another process changed the workflow since', async () => {
    const id = await submittedAndCached(h.deps, 'cache-stale');
    await cancelWorkflow(other, id);
    const stale = await units('stale');
    const seen: string[] = [];
    await runUnitOfWork(h.deps, new Router(), [id], (machine, workflows) => {
      const wf = workflows.get(id)!;
      seen.push(wf.status);
      // What a late result would do on the stale copy: complete the task and with it the workflow.
      machine.result(wf, wf.tasks.get('a')!, 1, {
        instance: 'i-1',
        agent: 'backend_agent',
        ok: true,
        output: {},
        durationMs: 1,
      });
    });
    expect(seen).toEqual(['running', 'cancelled']);
    expect((await units('stale')) - stale).toBe(1);
    const wf = await h.deps.db
      .selectFrom('workflows')
      .select('status')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(wf.status).toBe('cancelled');
  });

  it('reruns when a task row appeared or changed underneath, even with its status and attempt unchanged', async () => {
    const id = await submittedAndCached(h.deps, 'cache-rows');
    await sql`INSERT INTO tasks (workflow_id, id, position, correlation_id, type, status, max_attempts, timeout_ms)
      SELECT workflow_id, 'b', 1, correlation_id, type, 'pending', max_attempts, timeout_ms FROM tasks
      WHERE workflow_id = ${id} AND id = 'a'`.execute(h.deps.db);
    const seen: string[] = [];
    await runUnitOfWork(h.deps, new Router(), [id], seeing(id, seen));
    expect(seen).toEqual(['running:a', 'running:a,b']);
    // After a failed check the cache rests for a unit: this one reads, and leaves its copy cached.
    seen.length = 0;
    await runUnitOfWork(h.deps, new Router(), [id], seeing(id, seen));
    expect(seen).toEqual(['running:a,b']);
    // Only the row version differs: a write that kept status and attempt (another process's dispatch record).
    await sql`UPDATE tasks SET msg_id = '1-1' WHERE workflow_id = ${id} AND id = 'a'`.execute(h.deps.db);
    seen.length = 0;
    await runUnitOfWork(h.deps, new Router(), [id], seeing(id, seen));
    expect(seen).toEqual(['running:a,b', 'running:a,b']);
  });

  it('gives a mutator deciding on cached workflows no query of its own: it would run outside the transaction', async () => {
    const id = await submittedAndCached(h.deps, 'cache-query');
    await expect(
      runUnitOfWork(h.deps, new Router(), [id], async (_machine, _workflows, _fx, tx) => {
        await tx.selectFrom('tasks').selectAll().execute();
      }),
    ).rejects.toMatchObject({ code: 'HIVE_ERR_INTERNAL' });
  });

  it.skipIf(_kind === 'pglite')(
    'reads afresh after the process opened a connection (after a failover the same xmin can name other rows)',
    async () => {
      const id = await submittedAndCached(h.deps, 'cache-conn');
      const [hits, reads] = [await units('hit'), await units('read')];
      // A second connection while the first is held: the pool opens one.
      await h.deps.db.connection().execute(async (held) => {
        await sql`SELECT 1`.execute(held);
        await sql`SELECT 1`.execute(h.deps.db);
      });
      await runUnitOfWork(h.deps, new Router(), [id], () => {});
      expect([(await units('hit')) - hits, (await units('read')) - reads]).toEqual([0, 1]);
      // And the copy that read left is used again.
      await runUnitOfWork(h.deps, new Router(), [id], () => {});
      expect((await units('hit')) - hits).toBe(1);
    },
  );
});

describe('WorkflowCache', () => {
  const now = connectionGeneration;
  const wf = (id: string, status: WorkflowState['status'] = 'running'): WorkflowState => ({
    id,
    correlationId: id,
    name: null,
    status,
    error: null,
    traceId: null,
    budgetUsd: null,
    startedAt: null,
    finishedAt: null,
    tasks: new Map(),
    origStatus: status,
    dirty: false,
    xmin: '7',
  });

  it('hands out all of a unit’s workflows or none, and each to one unit at a time', () => {
    const cache = new WorkflowCache();
    cache.put([wf('a'), wf('b')], now());
    expect(cache.take(['a', 'c'])).toBeUndefined();
    expect([...(cache.take(['a', 'b', 'a'])?.keys() ?? [])]).toEqual(['a', 'b']);
    expect(cache.take(['a'])).toBeUndefined();
  });

  it('keeps neither ended workflows nor rows of unknown version, and forgets the least recently used', () => {
    const cache = new WorkflowCache(2);
    cache.put([wf('done', 'completed'), { ...wf('new'), xmin: undefined }], now());
    expect(cache.size).toBe(0);
    cache.put([wf('a'), wf('b')], now());
    cache.put([wf('a')], now());
    cache.put([wf('c')], now());
    expect(cache.take(['b'])).toBeUndefined();
    expect(cache.take(['a', 'c'])?.size).toBe(2);
  });

  it('keeps nothing read over a connection older than the newest, and hands out nothing read before it', async () => {
    const cache = new WorkflowCache();
    cache.put([wf('a')], now() - 1);
    expect(cache.take(['a'])).toBeUndefined();
    cache.put([wf('a')], now());
    const t = await createPostgresDatabase({ migrate: false });
    try {
      await sql`SELECT 1`.execute(t.store.db); // a connection opened: the copy of 'a' may be of another server
      expect(cache.take(['a'])).toBeUndefined();
    } finally {
      await t.drop();
    }
  });

  it('rests for a growing number of units while checks keep failing', () => {
    const cache = new WorkflowCache();
    const restsAfter = () => {
      let rested = 0;
      cache.put([wf('a')], now());
      while (!cache.take(['a'])) rested++;
      return rested;
    };
    cache.stale();
    expect(restsAfter()).toBe(1);
    cache.stale();
    expect(restsAfter()).toBe(2);
    cache.fresh();
    cache.stale();
    expect(restsAfter()).toBe(1);
  });
});
