import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { newContext, runInContext } from '../../src/core/context.js';
import type { Database } from '../../src/store/schema.js';
import { literal, runScript, textArray, UnstorableTextError } from '../../src/store/script.js';
import { createPostgresDatabase, DATABASE_KINDS } from '../helpers/databases.js';

describe.each(DATABASE_KINDS)('statement scripts on %s', (_kind, create) => {
  it('run every statement in one call and answer each with its rows and its own row count', async () => {
    const t = await create({ migrate: false });
    try {
      const db = t.store.db;
      await sql`CREATE TABLE s (a int)`.execute(db);
      await sql`INSERT INTO s VALUES (1), (2), (3)`.execute(db);
      // Inside a context the SQL comment with the correlation ID is appended to the script: it must still run.
      const results = await runInContext(newContext({ correlationId: 'script-test-1' }), () =>
        runScript(db, [
          'BEGIN',
          'UPDATE s SET a = a + 10 WHERE a > 1',
          'INSERT INTO s VALUES (7) RETURNING a',
          'SELECT count(*)::int AS n FROM s',
          'SELECT current_query() AS q',
          'COMMIT',
        ]),
      );
      expect(results.map((r) => r.rowCount)).toEqual([0, 2, 1, 0, 0, 0]);
      // The script went out as one text, with the correlation ID's SQL comment at its end.
      const q = String(results[4]!.rows[0]!.q);
      expect(q).toContain('UPDATE s SET a = a + 10');
      expect(q).toContain("correlation_id='script-test-1'");
      expect(results[2]!.rows).toEqual([{ a: 7 }]);
      expect(results[3]!.rows).toEqual([{ n: 4 }]);
      const after = await sql<{ a: number }>`SELECT a FROM s ORDER BY a`.execute(db);
      expect(after.rows.map((r) => r.a)).toEqual([1, 7, 12, 13]);
    } finally {
      await t.drop();
    }
  });

  it('stop at the first failing statement, and a transaction begun in one script is rolled back', async () => {
    const t = await create({ migrate: false });
    try {
      const db = t.store.db;
      await sql`CREATE TABLE s (a int PRIMARY KEY)`.execute(db);
      await sql`CREATE SEQUENCE s_after`.execute(db);
      await db.connection().execute(async (conn) => {
        await expect(
          runScript(conn, [
            'BEGIN',
            'INSERT INTO s VALUES (1)',
            'INSERT INTO s VALUES (1)',
            // nextval is not undone by a rollback: it shows whether anything after the failure ran.
            "SELECT nextval('s_after')",
          ]),
        ).rejects.toMatchObject({ code: '23505' });
        await sql`ROLLBACK`.execute(conn);
      });
      const rows = await sql<{ n: number }>`SELECT count(*)::int AS n FROM s`.execute(db);
      expect(rows.rows[0]!.n).toBe(0);
      const seq = await sql<{ v: number }>`SELECT nextval('s_after')::int AS v`.execute(db);
      expect(seq.rows[0]!.v).toBe(1);
    } finally {
      await t.drop();
    }
  });

  it('carry any text verbatim as a literal, quotes, backslashes, dollar signs and tags included', async () => {
    const t = await create({ migrate: false });
    try {
      const nasty = [
        "it's",
        'back\\slash \\\\ and "quotes"',
        '$$ $h$ $tag$ ); DROP TABLE x; --',
        'multi\nline\ttext',
        'ünïcødé ✓ 🐝',
        '{"json": [1, "two"]}',
        '',
      ];
      const results = await runScript(
        t.store.db,
        nasty.map((s) => `SELECT ${literal(s)} AS v`),
      );
      expect(results.map((r) => r.rows[0]!.v)).toEqual(nasty);
      // Texts made of would-be tags, including one ending in a tag's prefix, still come back whole.
      const tags = Array.from({ length: 200 }, (_, i) => `x$h${i.toString(36)}`);
      const tagged = await runScript(t.store.db, [`SELECT ${literal(tags.join('$'))} AS v`]);
      expect(tagged[0]!.rows[0]!.v).toBe(tags.join('$'));
      // The tag drawn first is one the text ends with, less its closing `$`: it would close early across the seam,
      // so another is drawn (and so for one found inside the text).
      const draw = 0.123456789;
      const first = `$h${draw.toString(36).slice(2, 10)}$`;
      for (const text of [`ends in ${first.slice(0, -1)}`, `holds ${first} inside`]) {
        const random = vi.spyOn(Math, 'random').mockReturnValueOnce(draw);
        const quoted = literal(text);
        random.mockRestore();
        expect(quoted.startsWith(first)).toBe(false);
        const back = await runScript(t.store.db, [`SELECT ${quoted} AS v`]);
        expect(back[0]!.rows[0]!.v).toBe(text);
      }
      const arr = await runScript(t.store.db, [`SELECT ${textArray(nasty)} AS v`]);
      expect(arr[0]!.rows[0]!.v).toEqual(nasty);
      // A NUL cannot be stored: refused as bad data (SQLSTATE class 22), before it could break the message.
      expect(() => literal('a\u0000b')).toThrow(expect.objectContaining({ code: '22021' }));
      expect(() => textArray(['ok', '\u0000'])).toThrow(UnstorableTextError);
    } finally {
      await t.drop();
    }
  });
});

describe('a statement script on a connection that does not know scripts', () => {
  it('is refused instead of answered with nothing', async () => {
    const t = await createPostgresDatabase({ migrate: false });
    const pool = new pg.Pool({ connectionString: t.url, max: 1 });
    // Dropping the database (WITH FORCE) can reach the connection while it is still closing; as in openStore,
    // that error is the pool's to swallow, not an uncaught exception of the test run.
    pool.on('error', () => {});
    const plain = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    try {
      await expect(runScript(plain, ['SELECT 1', 'SELECT 2'])).rejects.toThrow(/answered with 0 results/);
    } finally {
      await plain.destroy();
      await t.drop();
    }
  });
});

describe('a statement script in flight', () => {
  it('holds no reference to its statements once written, while the server still runs them', async () => {
    // The collector, in this process (vitest gives no flag for it): a busy unit's script is hundreds of
    // kilobytes, and one still referenced at a young-generation collection is copied and promoted.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const t = await createPostgresDatabase({ migrate: false });
    try {
      const sent = () => {
        const statements = ['SELECT pg_sleep(0.4)', `SELECT ${literal('x'.repeat(200_000))} AS big`];
        return { written: new WeakRef(statements), reply: runScript(t.store.db, statements) };
      };
      const { written, reply } = sent();
      await new Promise((r) => setTimeout(r, 150)); // written, and the server is in pg_sleep
      gc();
      expect(written.deref()).toBeUndefined();
      const results = await reply;
      expect(String(results[1]!.rows[0]!.big)).toHaveLength(200_000);
    } finally {
      await t.drop();
    }
  });
});
