import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import { HiveError } from '../core/errors.js';
import { redactUrl } from '../core/logger.js';
import type { Database } from './schema.js';
import { ScriptingClient, scriptingPglite } from './script.js';
import { commentingDialect } from './sql-commenter.js';

export type Db = Kysely<Database>;

export interface Store {
  readonly db: Db;
  readonly kind: 'postgres' | 'pglite';
  /** Human-readable location with any password removed. */
  readonly location: string;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** `postgres://…`; unset → embedded PGlite. */
  url?: string | undefined;
  /** PGlite data folder; `memory://` keeps it in memory (tests). */
  pgliteDir?: string;
  poolSize?: number;
}

// Counts and sequence numbers fit in a double for any realistic installation; returning numbers avoids
// string/number mix-ups between the pg driver (int8 → string) and PGlite.
pg.types.setTypeParser(20, (v) => Number(v));

let connectionsOpened = 0;

/**
 * Connections this process has opened to a PostgreSQL server so far. Row versions (xmin) identify a row only on
 * one server timeline: after a failover to a standby that missed the last commits, transaction IDs are handed out
 * again. Every connection to the new server is a new one, so state cached from rows read before it was opened
 * is not trusted after (see engine/workflow-cache.ts).
 */
export function connectionGeneration(): number {
  return connectionsOpened;
}

export async function openStore(options: OpenStoreOptions): Promise<Store> {
  if (options.url) {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      // A lost server must not hang a request forever; callers retry.
      connectionTimeoutMillis: 5_000,
      application_name: 'hive',
      // Answers statement scripts (several statements in one round trip) with one row per statement.
      Client: ScriptingClient,
    });
    // A server restart makes every client emit 'error': the pool handles its idle clients, but a client checked
    // out at that moment (inside a transaction) has no listener and would crash the process. The query in flight
    // fails on its own and the caller retries; the broken client is discarded on release.
    pool.on('error', () => {});
    pool.on('connect', (client) => {
      connectionsOpened++;
      client.on('error', () => {});
    });
    const db = new Kysely<Database>({ dialect: commentingDialect(new PostgresDialect({ pool })) });
    return { db, kind: 'postgres', location: redactUrl(options.url), close: () => db.destroy() };
  }
  const dir = options.pgliteDir ?? 'memory://';
  if (!dir.startsWith('memory://')) mkdirSync(path.dirname(dir), { recursive: true });
  let lite: PGlite;
  try {
    lite = await PGlite.create(dir);
  } catch (err) {
    throw new HiveError('HIVE_ERR_DB_UNAVAILABLE', `cannot open the embedded database at ${dir}`, {
      cause: err,
    });
  }
  const db = new Kysely<Database>({ dialect: commentingDialect(new PGliteDialect(scriptingPglite(lite))) });
  return { db, kind: 'pglite', location: dir, close: () => db.destroy() };
}
