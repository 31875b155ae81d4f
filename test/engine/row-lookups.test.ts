import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadWorkflowsStatements,
  workflowsFromRows,
  workflowWrites,
} from '../../src/engine/workflow-repo.js';
import { runScript } from '../../src/store/script.js';
import { createPostgresDatabase, type TestDatabase } from '../helpers/databases.js';

// A unit of work changes a handful of rows; its guarded updates must find them by key, not by hashing the whole
// table. PostgreSQL plans a set-returning function (the rows we send) as 100 rows whatever it holds, and with
// tables of a few thousand rows it then preferred a hash join over a full scan of `tasks` for every unit.
describe('the guarded updates of a unit of work', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createPostgresDatabase();
    // 3,000 two-task workflows, analyzed as autovacuum would: a table a busy hour fills.
    await sql`
      INSERT INTO workflows (id, correlation_id, status, spec)
      SELECT 'wf-' || g, 'c-' || g, 'running', '{}'::jsonb FROM generate_series(1, 3000) AS g`.execute(
      t.store.db,
    );
    await sql`
      INSERT INTO tasks (workflow_id, id, position, correlation_id, type, agent, status, max_attempts, timeout_ms)
      SELECT 'wf-' || g, x.id, x.pos, 'c-' || g, 'api_creation', 'backend_agent', x.status, 3, 60000
      FROM generate_series(1, 3000) AS g, (VALUES ('a', 0, 'running'), ('b', 1, 'pending')) AS x(id, pos, status)`.execute(
      t.store.db,
    );
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
    a.dirty = true;
    b.status = 'queued';
    b.dirty = true;
    wf.status = 'completed';
    wf.dirty = true;
    const writes = workflowWrites(workflows.values());
    expect(writes).toHaveLength(2);
    for (const statement of writes) {
      const plan = (await sql.raw<{ 'QUERY PLAN': string }>(`EXPLAIN ${statement}`).execute(db)).rows
        .map((r) => r['QUERY PLAN'])
        .join('\n');
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
    const done = await db.selectFrom('workflows').select('id').where('status', '=', 'completed').execute();
    expect(done).toEqual([{ id: 'wf-1234' }]);
  });
});
