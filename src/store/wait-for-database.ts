import { sql } from 'kysely';
import { HiveError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Db } from './database.js';

/**
 * A process that starts while its PostgreSQL server is still starting (a machine booting, a supervisor bringing
 * everything up at once, a server restarting) waits for it, up to a bound, instead of exiting on the first
 * refused connection. Only the errors a server that is not up yet gives are waited out; a wrong password, a
 * database that does not exist or a bad URL fail at once: waiting would not change them.
 */
export interface WaitForDatabaseOptions {
  /** How long to wait in all; 0 tries once. */
  timeoutMs: number;
  /** Where the server is, for messages (any password already removed). */
  location: string;
  logger?: Logger;
}

/** Errors of a server that is not (yet) reachable or not yet accepting connections. */
const NOT_UP_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EPIPE',
  '57P03', // cannot_connect_now: the server is starting up, shutting down or in recovery
  '53300', // too_many_connections: others may leave
]);

export function isServerNotUp(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; errors?: unknown } | null;
  if (typeof e?.code === 'string' && (NOT_UP_CODES.has(e.code) || e.code.startsWith('08'))) return true;
  // A host with several addresses (localhost: ::1 and 127.0.0.1) fails with an AggregateError of each refusal.
  if (Array.isArray(e?.errors) && e.errors.length > 0) return e.errors.every(isServerNotUp);
  // pg's own connectionTimeoutMillis and a socket closed during the handshake carry no code.
  const message = String(e?.message ?? '');
  return /timeout exceeded when trying to connect|Connection terminated unexpectedly/i.test(message);
}

function describe(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; errors?: { message?: unknown }[] } | null;
  const message = String(e?.message || e?.errors?.[0]?.message || e?.code || err);
  return typeof e?.code === 'string' && !message.includes(e.code) ? `${message} (${e.code})` : message;
}

export async function waitForDatabase(db: Db, opts: WaitForDatabaseOptions): Promise<void> {
  const started = Date.now();
  let delay = 100;
  for (let attempt = 1; ; attempt++) {
    try {
      await sql`SELECT 1`.execute(db);
      if (attempt > 1)
        opts.logger?.info({ waitedMs: Date.now() - started }, `PostgreSQL at ${opts.location} is up`);
      return;
    } catch (err) {
      const waited = Date.now() - started;
      if (!isServerNotUp(err)) {
        throw new HiveError('HIVE_ERR_DB_UNAVAILABLE', `PostgreSQL at ${opts.location}: ${describe(err)}`, {
          cause: err,
        });
      }
      if (waited + delay > opts.timeoutMs) {
        throw new HiveError(
          'HIVE_ERR_DB_UNAVAILABLE',
          `PostgreSQL at ${opts.location} did not answer within ${Math.round(waited / 1000)} s (HIVE_DB_WAIT_MS=${opts.timeoutMs}): ${describe(err)}`,
          { cause: err },
        );
      }
      // One line when the wait starts and one every ten tries: a server down for minutes is not a log flood.
      if (attempt === 1 || attempt % 10 === 0)
        opts.logger?.warn(
          { attempt, waitedMs: waited, err: describe(err) },
          `waiting for PostgreSQL at ${opts.location}`,
        );
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 2_000);
    }
  }
}
