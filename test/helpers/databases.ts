import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/database.js';
import { migrateUp } from '../../src/store/migrator.js';

/** The machine's PostgreSQL; tests create their own database in it and drop it afterwards. */
export const PG_ADMIN_URL = process.env.HIVE_TEST_PG_URL ?? 'postgres://root@127.0.0.1:5432/postgres';

export interface TestDatabase {
  kind: 'postgres' | 'pglite';
  /** Connection URL for child processes (postgres only). */
  url?: string;
  store: Store;
  drop(): Promise<void>;
}

function withDatabase(adminUrl: string, name: string): string {
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A fresh PostgreSQL database (migrated unless `migrate: false`), dropped by `drop()`. */
export async function createPostgresDatabase(opts: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `hive_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = withDatabase(PG_ADMIN_URL, name);
  const store = await openStore({ url });
  if (opts.migrate !== false) await migrateUp(store.db);
  return {
    kind: 'postgres',
    url,
    store,
    async drop() {
      await store.close().catch(() => {});
      const a = new pg.Client({ connectionString: PG_ADMIN_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

/** An in-memory PGlite database. */
export async function createPgliteDatabase(opts: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const store = await openStore({ pgliteDir: 'memory://' });
  if (opts.migrate !== false) await migrateUp(store.db);
  return { kind: 'pglite', store, drop: () => store.close() };
}

export const DATABASE_KINDS = [
  ['pglite', createPgliteDatabase],
  ['postgres', createPostgresDatabase],
] as const;
