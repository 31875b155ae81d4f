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
    SELECT proname AS f FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND proname LIKE 'hive\\_%' ORDER BY 1`.execute(
    db,
  );
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
      expect(first.idx.some((i) => i.i === 'events_correlation_idx')).toBe(true);
      expect(first.fns).toEqual([
        'hive_check_cached',
        'hive_expect_rows',
        'hive_insert_events',
        'hive_update_tasks',
        'hive_update_workflows',
      ]);
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
