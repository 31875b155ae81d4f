import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { HiveError } from '../core/errors.js';
import type { Db } from './database.js';

/**
 * Numbered SQL migrations (`migrations/NNNN_name.up.sql` / `.down.sql`), each applied in its own transaction
 * under an advisory lock so that several processes starting at once migrate once.
 */
export interface Migration {
  version: number;
  name: string;
  up: string;
  down: string;
}

export interface MigrationStatus {
  version: number;
  name: string;
  applied: boolean;
  appliedAt?: Date;
}

const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));
const LOCK_KEY = 4_483_001;

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const files = readdirSync(dir);
  const byVersion = new Map<number, Partial<Migration>>();
  for (const file of files) {
    const m = /^(\d{4})_([a-z0-9_]+)\.(up|down)\.sql$/.exec(file);
    if (!m) continue;
    const version = Number(m[1]);
    const entry = byVersion.get(version) ?? { version, name: m[2] };
    entry[m[3] as 'up' | 'down'] = readFileSync(`${dir}/${file}`, 'utf8');
    byVersion.set(version, entry);
  }
  const list = [...byVersion.values()].sort((a, b) => a.version! - b.version!);
  for (const m of list) {
    if (!m.up || !m.down)
      throw new HiveError('HIVE_ERR_MIGRATION', `migration ${m.version} lacks its up or down file`);
  }
  return list as Migration[];
}

/** Splits a migration into statements: PGlite's extended protocol takes one statement at a time. */
function statements(text: string): string[] {
  return text
    .split(/;\s*$/m)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter((s) => s.length > 0);
}

async function ensureTable(db: Db): Promise<void> {
  await sql`CREATE TABLE IF NOT EXISTS hive_schema_migrations (
    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`.execute(
    db,
  );
}

async function appliedVersions(db: Db): Promise<Map<number, Date>> {
  const rows = await db.selectFrom('hive_schema_migrations').select(['version', 'applied_at']).execute();
  return new Map(rows.map((r) => [r.version, r.applied_at]));
}

export async function migrationStatus(db: Db, migrations = loadMigrations()): Promise<MigrationStatus[]> {
  await ensureTable(db);
  const applied = await appliedVersions(db);
  return migrations.map((m) => {
    const at = applied.get(m.version);
    return at
      ? { version: m.version, name: m.name, applied: true, appliedAt: at }
      : { version: m.version, name: m.name, applied: false };
  });
}

export async function currentVersion(db: Db): Promise<number> {
  await ensureTable(db);
  const row = await db
    .selectFrom('hive_schema_migrations')
    .select(sql<number>`coalesce(max(version), 0)`.as('v'))
    .executeTakeFirst();
  return Number(row?.v ?? 0);
}

export function headVersion(migrations = loadMigrations()): number {
  return migrations.at(-1)?.version ?? 0;
}

/** Runs `fn` on one connection holding the migration lock (PGlite has a single connection: reuse it). */
async function withLock<T>(db: Db, fn: (conn: Db) => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    await sql`SELECT pg_advisory_lock(${LOCK_KEY})`.execute(conn);
    try {
      return await fn(conn);
    } finally {
      await sql`SELECT pg_advisory_unlock(${LOCK_KEY})`.execute(conn);
    }
  });
}

/** Applies pending migrations up to `target` (default: head). Returns the versions applied. */
export async function migrateUp(db: Db, target?: number, migrations = loadMigrations()): Promise<number[]> {
  await ensureTable(db);
  return withLock(db, async (conn) => {
    const applied = await appliedVersions(conn);
    const done: number[] = [];
    for (const m of migrations) {
      if (applied.has(m.version) || (target !== undefined && m.version > target)) continue;
      await conn.transaction().execute(async (tx) => {
        for (const stmt of statements(m.up)) await sql.raw(stmt).execute(tx);
        await tx.insertInto('hive_schema_migrations').values({ version: m.version, name: m.name }).execute();
      });
      done.push(m.version);
    }
    return done;
  });
}

/** Reverts applied migrations down to `target` (default: 0, an empty schema). Returns the versions reverted. */
export async function migrateDown(db: Db, target = 0, migrations = loadMigrations()): Promise<number[]> {
  await ensureTable(db);
  return withLock(db, async (conn) => {
    const applied = await appliedVersions(conn);
    const done: number[] = [];
    for (const m of [...migrations].reverse()) {
      if (!applied.has(m.version) || m.version <= target) continue;
      await conn.transaction().execute(async (tx) => {
        for (const stmt of statements(m.down)) await sql.raw(stmt).execute(tx);
        await tx.deleteFrom('hive_schema_migrations').where('version', '=', m.version).execute();
      });
      done.push(m.version);
    }
    return done;
  });
}
