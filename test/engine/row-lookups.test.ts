import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowState } from '../../src/engine/state.js';
import {
  BEGIN_UNIT_STATEMENTS,
  checkCachedStatements,
  loadWorkflowsStatements,
  workflowsFromRows,
  workflowWrites,
} from '../../src/engine/workflow-repo.js';
import type { Db } from '../../src/store/database.js';
import { runScript } from '../../src/store/script.js';
import { createPostgresDatabase, type TestDatabase } from '../helpers/databases.js';

/** Running workflows `<prefix>1` … `<prefix>N`, each with a running task `a` and a pending task `b`. */
async function populate(t: TestDatabase, workflows: number, prefix = 'wf-'): Promise<void> {
  await sql`
    INSERT INTO workflows (id, correlation_id, status, spec)
    SELECT ${prefix} || g, 'c-' || g, 'running', '{}'::jsonb FROM generate_series(1, ${workflows}) AS g`.execute(
    t.store.db,
  );
  await sql`
    INSERT INTO tasks (workflow_id, id, position, correlation_id, type, agent, status, max_attempts, timeout_ms)
    SELECT ${prefix} || g, x.id, x.pos, 'c-' || g, 'api_creation', 'backend_agent', x.status, 3, 60000
    FROM generate_series(1, ${workflows}) AS g, (VALUES ('a', 0, 'running'), ('b', 1, 'pending')) AS x(id, pos, status)`.execute(
    t.store.db,
  );
}

/** Marks every workflow and task completed, as a unit finishing them all would. */
function completeAll(workflows: Map<string, WorkflowState>): void {
  for (const wf of workflows.values()) {
    wf.status = 'completed';
    wf.dirty = true;
    for (const task of wf.tasks.values()) {
      task.status = 'completed';
      task.dirty = true;
    }
  }
}

async function planOf(db: Db, statement: string): Promise<string> {
  const rows = (await sql.raw<{ 'QUERY PLAN': string }>(`EXPLAIN ${statement}`).execute(db)).rows;
  return rows.map((r) => r['QUERY PLAN']).join('\n');
}

interface Reads {
  /** Sequential scans of `tasks` or `workflows`, and the rows they read. */
  seqScans: number;
  seqRows: number;
  /** Rows fetched through their indexes. */
  indexRows: number;
}

/**
 * What the statements read of `tasks` and `workflows`, from the transaction's own statistics counters: they count
 * the statements run inside functions too (the unit's writes are calls of functions whose plans are not shown
 * by EXPLAIN), and a full index scan shows as many index rows as the table holds.
 */
async function readsOf(conn: Db, statements: readonly string[]): Promise<Reads> {
  const counters = async () => {
    const rows = await sql<{ s: string; sr: string; ir: string }>`
      SELECT coalesce(sum(seq_scan), 0) AS s, coalesce(sum(seq_tup_read), 0) AS sr,
        coalesce(sum(idx_tup_fetch), 0) AS ir
      FROM pg_stat_xact_user_tables WHERE relname IN ('tasks', 'workflows')`.execute(conn);
    const r = rows.rows[0]!;
    return { seqScans: Number(r.s), seqRows: Number(r.sr), indexRows: Number(r.ir) };
  };
  const before = await counters();
  await runScript(conn, statements);
  const after = await counters();
  return {
    seqScans: after.seqScans - before.seqScans,
    seqRows: after.seqRows - before.seqRows,
    indexRows: after.indexRows - before.indexRows,
  };
}

// A unit of work changes a handful of rows; its guarded updates must find them by key, not by hashing the whole
// table. PostgreSQL plans a set-returning function (the rows we send) as 100 rows whatever it holds, and with
// tables of a few thousand rows it then preferred a hash join over a full scan of `tasks` for every unit.
describe('the guarded updates of a unit of work', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createPostgresDatabase();
    // 3,000 two-task workflows, analyzed as autovacuum would: a table a busy hour fills.
    await populate(t, 3000);
    await sql`ANALYZE workflows`.execute(t.store.db);
    await sql`ANALYZE tasks`.execute(t.store.db);
  });
  afterAll(async () => {
    await t.drop();
  });

  it('look their rows up by key, and change exactly them', async () => {
    const db = t.store.db;
    const loaded = await runScript(db, loadWorkflowsStatements(['wf-1234']));
    const workflows = workflowsFromRows(loaded[0]!.rows, loaded[1]!.rows);
    const wf = workflows.get('wf-1234')!;
    const a = wf.tasks.get('a')!;
    const b = wf.tasks.get('b')!;
    a.status = 'completed';
    // Times travel as milliseconds (to_timestamp(ms / 1000)) and must come back exact to the millisecond.
    const finishedAt = new Date(1_796_674_597_598);
    a.finishedAt = finishedAt;
    a.dirty = true;
    b.status = 'queued';
    b.dirty = true;
    wf.status = 'completed';
    wf.finishedAt = finishedAt;
    wf.dirty = true;
    const writes = workflowWrites(workflows.values());
    expect(writes).toHaveLength(2);
    await db.connection().execute(async (conn) => {
      await runScript(conn, ['BEGIN']);
      // One workflow and its two tasks, each found by its key: three index lookups, nothing scanned.
      expect(await readsOf(conn, writes)).toEqual({ seqScans: 0, seqRows: 0, indexRows: 3 });
      await runScript(conn, ['COMMIT']);
    });
    const rows = await db
      .selectFrom('tasks')
      .select(['workflow_id', 'id', 'status'])
      .where('status', 'in', ['completed', 'queued'])
      .execute();
    expect(rows).toEqual(
      expect.arrayContaining([
        { workflow_id: 'wf-1234', id: 'a', status: 'completed' },
        { workflow_id: 'wf-1234', id: 'b', status: 'queued' },
      ]),
    );
    expect(rows).toHaveLength(2);
    const done = await db
      .selectFrom('workflows')
      .select(['id', 'finished_at'])
      .where('status', '=', 'completed')
      .execute();
    expect(done).toEqual([{ id: 'wf-1234', finished_at: finishedAt }]);
    const finished = await db
      .selectFrom('tasks')
      .select(['id', 'finished_at', 'started_at'])
      .where('workflow_id', '=', 'wf-1234')
      .orderBy('id')
      .execute();
    expect(finished).toEqual([
      { id: 'a', finished_at: finishedAt, started_at: null },
      { id: 'b', finished_at: null, started_at: null },
    ]);
  });
});

// A unit of a busy coordinator holds hundreds of workflows. On tables never analyzed (autovacuum off, as on this
// project's CI machine, or a table that grew since) PostgreSQL took `id = ANY(<300 ids>)` for most of the table and
// scanned `tasks` and `workflows` whole in every statement of the unit: its cost followed the table, not the rows.
describe('a unit of hundreds of workflows on tables without statistics', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createPostgresDatabase();
    await populate(t, 5000);
  });
  afterAll(async () => {
    await t.drop();
  });

  it('reads, checks and writes its rows by key', async () => {
    const ids = Array.from({ length: 300 }, (_, i) => `wf-${1 + i * 16}`);
    await t.store.db.connection().execute(async (conn) => {
      // The premise: without the unit's own BEGIN, these tables are scanned whole.
      await runScript(conn, ['BEGIN']);
      const [lockAndRead, readTasks] = loadWorkflowsStatements(ids);
      expect(await planOf(conn, readTasks)).toMatch(/Seq Scan on tasks/);
      await runScript(conn, ['ROLLBACK']);

      await runScript(conn, [...BEGIN_UNIT_STATEMENTS]);
      const loaded = await runScript(conn, [lockAndRead, readTasks]);
      const workflows = workflowsFromRows(loaded[0]!.rows, loaded[1]!.rows);
      expect(workflows.size).toBe(300);
      completeAll(workflows);
      const statements = [
        lockAndRead,
        readTasks,
        ...checkCachedStatements(workflows.values()),
        ...workflowWrites(workflows.values()),
      ];
      expect(statements).toHaveLength(6);
      // The rows each statement is about: 300 workflows, their 600 tasks, both for the cache check.
      const about = [300, 600, 300, 900, 300, 600];
      for (const [i, statement] of statements.entries()) {
        const reads = await readsOf(conn, [statement]);
        expect(reads.seqScans, statement.slice(0, 80)).toBe(0);
        expect(reads.indexRows, statement.slice(0, 80)).toBeGreaterThan(0);
        expect(reads.indexRows, statement.slice(0, 80)).toBeLessThanOrEqual(about[i]!);
      }
      await runScript(conn, ['ROLLBACK']);
    });
  });
});

/** Units of one workflow, on one connection, until PostgreSQL keeps its plans of the unit's functions. */
async function unitsOnSmallTables(conn: Db, units: number): Promise<void> {
  for (let i = 0; i < units; i++) {
    await runScript(conn, [...BEGIN_UNIT_STATEMENTS]);
    const loaded = await runScript(conn, loadWorkflowsStatements(['wf-1']));
    const workflows = workflowsFromRows(loaded[0]!.rows, loaded[1]!.rows);
    const wf = workflows.get('wf-1')!;
    const task = wf.tasks.get('a')!;
    task.status = task.status === 'running' ? 'queued' : 'running';
    task.dirty = true;
    wf.status = wf.status === 'running' ? 'pending' : 'running';
    wf.dirty = true;
    await runScript(conn, [
      ...checkCachedStatements(workflows.values()),
      ...workflowWrites(workflows.values()),
      'COMMIT',
    ]);
  }
}

/**
 * On a fresh database: a dozen units of one workflow on one connection (PostgreSQL then keeps its plans of the
 * unit's functions), then the tables grow to 5,000 workflows and a unit of 300 runs on the same connection. What
 * its cache check and writes read, statement by statement. `plainFunctions` takes the planner settings off the
 * functions first (the premise).
 */
async function readsAfterGrowth(plainFunctions: boolean): Promise<{ statement: string; reads: Reads }[]> {
  const t = await createPostgresDatabase();
  try {
    return await t.store.db.connection().execute(async (conn) => {
      if (plainFunctions) {
        for (const fn of ['hive_update_tasks(json, bigint)', 'hive_update_workflows(json, bigint)'])
          await sql.raw(`ALTER FUNCTION ${fn} RESET ALL`).execute(conn);
      }
      await populate(t, 3);
      await unitsOnSmallTables(conn, 12);
      await populate(t, 5000, 'big-');

      const ids = Array.from({ length: 300 }, (_, i) => `big-${1 + i * 16}`);
      await runScript(conn, [...BEGIN_UNIT_STATEMENTS]);
      const loaded = await runScript(conn, loadWorkflowsStatements(ids));
      const workflows = workflowsFromRows(loaded[0]!.rows, loaded[1]!.rows);
      completeAll(workflows);
      const out: { statement: string; reads: Reads }[] = [];
      for (const statement of [
        ...checkCachedStatements(workflows.values()),
        ...workflowWrites(workflows.values()),
      ])
        out.push({ statement: statement.slice(0, 80), reads: await readsOf(conn, [statement]) });
      await runScript(conn, ['ROLLBACK']);
      return out;
    });
  } finally {
    await t.drop();
  }
}

// The unit's writes are functions whose plans PostgreSQL keeps for the session (migration 0004). A plan made while
// the tables held a handful of rows must not hash or scan the whole table once they hold thousands.
describe('plans a connection kept from its first units', () => {
  it("would read the whole tables without the functions' planner settings (the premise)", async () => {
    const reads = await readsAfterGrowth(true);
    const tasksUpdate = reads.find((r) => r.statement.includes('hive_update_tasks'))!;
    expect(tasksUpdate.reads.indexRows).toBeGreaterThanOrEqual(10_000);
  });

  it('look rows up by key once the tables have grown', async () => {
    const reads = await readsAfterGrowth(false);
    // The lock, the cache check (300 workflows and their 600 tasks), the workflow and the task update.
    expect(reads.map((r) => r.statement.slice(0, 30))).toEqual([
      expect.stringContaining('SELECT 1 FROM workflows'),
      expect.stringContaining('hive_check_cached'),
      expect.stringContaining('hive_update_workflows'),
      expect.stringContaining('hive_update_tasks'),
    ]);
    const about = [300, 900, 300, 600];
    reads.forEach(({ statement, reads: r }, i) => {
      expect(r.seqScans, statement).toBe(0);
      expect(r.indexRows, statement).toBeGreaterThan(0);
      expect(r.indexRows, statement).toBeLessThanOrEqual(about[i]!);
    });
  });
});
