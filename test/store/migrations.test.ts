import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { newContext, runInContext } from '../../src/core/context.js';
import type { Db } from '../../src/store/database.js';
import {
  currentVersion,
  headVersion,
  migrateDown,
  migrateUp,
  migrationStatus,
} from '../../src/store/migrator.js';
import { createPostgresDatabase, DATABASE_KINDS } from '../helpers/databases.js';

async function schemaOf(db: Db) {
  const cols = await sql<{ t: string; c: string; ty: string; n: string }>`
    SELECT table_name AS t, column_name AS c, data_type AS ty, is_nullable AS n FROM information_schema.columns
    WHERE table_schema = 'public' AND table_name <> 'hive_schema_migrations' ORDER BY 1, 2`.execute(db);
  const idx = await sql<{ i: string; d: string }>`
    SELECT indexname AS i, indexdef AS d FROM pg_indexes WHERE schemaname = 'public' AND tablename <> 'hive_schema_migrations' ORDER BY 1`.execute(
    db,
  );
  const fns = await sql<{ f: string }>`
    SELECT proname || '(' || pg_get_function_identity_arguments(oid) || ')' AS f FROM pg_proc
    WHERE pronamespace = 'public'::regnamespace AND proname LIKE 'hive\\_%' ORDER BY 1`.execute(db);
  return { cols: cols.rows, idx: idx.rows, fns: fns.rows.map((r) => r.f) };
}

describe.each(DATABASE_KINDS)('migrations on %s', (_kind, create) => {
  it('up, down to zero and up again give the same schema', async () => {
    const t = await create({ migrate: false });
    try {
      const db = t.store.db;
      expect(await currentVersion(db)).toBe(0);
      const all = Array.from({ length: headVersion() }, (_, i) => i + 1);
      expect(await migrateUp(db)).toEqual(all);
      const first = await schemaOf(db);
      expect(first.cols.length).toBeGreaterThan(50);
      expect(first.idx.some((i) => i.i === 'event_pages_correlation_idx')).toBe(true);
      expect(first.fns).toEqual([
        'hive_check_cached(ids text[], expected json)',
        'hive_expect_rows(actual bigint, expected bigint, what text)',
        'hive_insert_event_page(events text, n integer, correlation_ids text[], workflow_ids text[])',
        'hive_update_tasks(sent json, expected bigint)',
        'hive_update_workflows(sent json, expected bigint)',
      ]);
      // Event pages are lz4-compressed where the server has lz4, else stored uncompressed out of line: never
      // pglz-compressed (more CPU than it saves).
      const pageText = await sql<{
        c: string;
        s: string;
      }>`SELECT attcompression::text AS c, attstorage::text AS s
        FROM pg_attribute WHERE attrelid = 'event_pages'::regclass AND attname = 'events'`.execute(db);
      expect([
        { c: 'l', s: 'x' },
        { c: '', s: 'e' },
      ]).toContainEqual(pageText.rows[0]);
      expect(await migrateUp(db)).toEqual([]);
      expect(await migrateDown(db, 0)).toEqual([...all].reverse());
      expect((await schemaOf(db)).cols).toEqual([]);
      expect((await schemaOf(db)).fns).toEqual([]);
      await migrateUp(db);
      expect(await schemaOf(db)).toEqual(first);
      expect((await migrationStatus(db)).every((s) => s.applied)).toBe(true);
    } finally {
      await t.drop();
    }
  });

  it('keeps every event across 0005 (rows to pages) and back, with its sequence number and fields', async () => {
    const t = await create({ migrate: false });
    try {
      const db = t.store.db;
      await migrateUp(db, 4);
      await sql`INSERT INTO events (ts, type, correlation_id, workflow_id, task_id, agent, data) VALUES
        ('2026-12-08 01:02:03.456+00', 'workflow.submitted', 'c-1', 'wf-1', NULL, NULL, '{}'),
        ('2026-12-08 01:02:03.5+00', 'task.completed', 'c-1', 'wf-1', 'api', 'backend_agent', '{"output": {"n": [1, null]}}'),
        ('2026-12-08 01:02:04+00', 'agent.online', 'c-2', NULL, NULL, 'frontend_agent', '{}')`.execute(db);
      const rowsOf = async () =>
        (
          await sql<
            Record<string, unknown>
          >`SELECT seq::int AS seq, ts, type, correlation_id, workflow_id, task_id,
            agent, data FROM events ORDER BY seq`.execute(db)
        ).rows;
      const before = await rowsOf();
      expect(before.map((r) => r.seq)).toEqual([1, 2, 3]);

      await migrateUp(db, 5);
      expect(await rowsOf()).toEqual(before);
      // New pages continue the numbering after the old rows.
      const next = await sql<{ first_seq: string }>`SELECT hive_insert_event_page(
        '[{"ts":"2026-12-08T01:02:05.000Z","type":"task.queued","correlationId":"c-3","data":{}},{"ts":"2026-12-08T01:02:05.000Z","type":"task.dispatched","correlationId":"c-3","data":{}}]',
        2, ARRAY['c-3'], ARRAY[]::text[]) AS first_seq`.execute(db);
      expect(Number(next.rows[0]!.first_seq)).toBe(4);
      const withPage = await rowsOf();
      expect(withPage.map((r) => [r.seq, r.type])).toEqual([
        [1, 'workflow.submitted'],
        [2, 'task.completed'],
        [3, 'agent.online'],
        [4, 'task.queued'],
        [5, 'task.dispatched'],
      ]);

      await migrateDown(db, 4);
      expect(await rowsOf()).toEqual(withPage);
      const after =
        await sql`INSERT INTO events (type, correlation_id) VALUES ('agent.offline', 'c-4') RETURNING seq::int AS seq`.execute(
          db,
        );
      expect(after.rows).toEqual([{ seq: 6 }]);
    } finally {
      await t.drop();
    }
  });
});

describe('sqlcommenter on the real PostgreSQL server', () => {
  it("shows a statement's correlation ID and traceparent in pg_stat_activity", async () => {
    const t = await createPostgresDatabase();
    try {
      const ctx = newContext({ correlationId: 'sqlc-test-1' });
      const row = await runInContext(ctx, () =>
        sql<{ q: string }>`SELECT query AS q FROM pg_stat_activity WHERE pid = pg_backend_pid()`.execute(
          t.store.db,
        ),
      );
      const q = row.rows[0]!.q;
      expect(q).toContain("correlation_id='sqlc-test-1'");
      expect(q).toContain(`traceparent='00-${ctx.traceId}-`);
      const outside = await sql<{
        q: string;
      }>`SELECT query AS q FROM pg_stat_activity WHERE pid = pg_backend_pid()`.execute(t.store.db);
      expect(outside.rows[0]!.q).not.toContain('correlation_id');
    } finally {
      await t.drop();
    }
  });
});
