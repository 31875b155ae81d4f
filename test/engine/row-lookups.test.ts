import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

async function populate(t: TestDatabase, workflows: number): Promise<void> {
  await sql`
    INSERT INTO workflows (id, correlation_id, status, spec)
    SELECT 'wf-' || g, 'c-' || g, 'running', '{}'::jsonb FROM generate_series(1, ${workflows}) AS g`.execute(
    t.store.db,
  );
  await sql`
    INSERT INTO tasks (workflow_id, id, position, correlation_id, type, agent, status, max_attempts, timeout_ms)
    SELECT 'wf-' || g, x.id, x.pos, 'c-' || g, 'api_creation', 'backend_agent', x.status, 3, 60000
    FROM generate_series(1, ${workflows}) AS g, (VALUES ('a', 0, 'running'), ('b', 1, 'pending')) AS x(id, pos, status)`.execute(
    t.store.db,
  );
}

async function planOf(db: Db, statement: string): Promise<string> {
  const rows = (await sql.raw<{ 'QUERY PLAN': string }>(`EXPLAIN ${statement}`).execute(db)).rows;
  return rows.map((r) => r['QUERY PLAN']).join('\n');
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
    for (const statement of writes) {
      const plan = await planOf(db, statement);
      expect(plan).not.toMatch(/Seq Scan on (tasks|workflows)/);
      expect(plan).toMatch(/Index Scan using \w+ on (tasks|workflows)/);
    }
    await runScript(db, ['BEGIN', ...writes, 'COMMIT']);
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
      for (const wf of workflows.values()) {
        wf.status = 'completed';
        wf.dirty = true;
        for (const task of wf.tasks.values()) {
          task.status = 'completed';
          task.dirty = true;
        }
      }
      const statements = [
        lockAndRead,
        readTasks,
        ...checkCachedStatements(workflows.values()),
        ...workflowWrites(workflows.values()),
      ];
      expect(statements).toHaveLength(6);
      for (const statement of statements) {
        const plan = await planOf(conn, statement);
        expect(plan, statement.slice(0, 80)).not.toMatch(/Seq Scan on (tasks|workflows)/);
        expect(plan, statement.slice(0, 80)).toMatch(
          /Index (Only )?Scan using \w+ on (tasks|workflows)|Bitmap Index Scan/,
        );
      }
      await runScript(conn, ['ROLLBACK']);
    });
  });
});
