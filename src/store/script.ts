import type { PGlite } from '@electric-sql/pglite';
import { sql } from 'kysely';
import pg from 'pg';
import type { Db } from './database.js';

/**
 * Scripts: several statements sent to the database as one message (PostgreSQL's simple-query protocol), so a
 * unit of work costs two or three round trips instead of one per statement. Each socket write that wakes the
 * server costs tens of microseconds of CPU on a small machine, and each round trip adds its latency to every
 * workflow step.
 *
 * A script carries no bound parameters: values go in as dollar-quoted literals (`literal`), which PostgreSQL
 * reads verbatim — no escaping to get wrong. A script runs through Kysely like any raw query (so it keeps the
 * SQL comment with its correlation ID), marked so that the connection answers it with one row per statement:
 * `{ rows, rowCount }`. On PGlite, whose query() takes one statement, the mark sends it through exec().
 */
const SCRIPT_MARK = '/*hive:script*/';

export interface StatementResult {
  rows: Record<string, unknown>[];
  /** Rows the statement inserted, updated or deleted (0 for any other statement). */
  rowCount: number;
}

const WRITES = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);

/** Runs the statements in one round trip, in order; the first that fails stops the rest and rejects. */
export async function runScript(db: Db, statements: readonly string[]): Promise<StatementResult[]> {
  const { rows } = await sql.raw(`${SCRIPT_MARK}${statements.join(';\n')}`).execute(db);
  return rows as unknown as StatementResult[];
}

/**
 * Text PostgreSQL cannot hold (a NUL character), refused before it is sent, with the SQLSTATE the server gives
 * such a parameter (22021): callers treat it as bad data, not as a database outage. (Inside a script's text a
 * NUL would break the protocol message itself.)
 */
export class UnstorableTextError extends Error {
  readonly code = '22021';
  constructor() {
    super('text with a NUL character cannot be stored');
    this.name = 'UnstorableTextError';
  }
}

/** A string as a dollar-quoted literal, under a tag the text does not contain. */
export function literal(text: string): string {
  if (text.includes('\0')) throw new UnstorableTextError();
  for (;;) {
    const tag = `$h${Math.random().toString(36).slice(2, 10)}$`;
    // The closing tag must be the first place the tag occurs after the opening one, also across the seam (a
    // text ending in a prefix of the tag).
    if (`${text}${tag}`.indexOf(tag) === text.length) return `${tag}${text}${tag}`;
  }
}

/** A text[] literal (array input syntax: every element double-quoted, `"` and `\` escaped). */
export function textArray(values: readonly string[]): string {
  return `${literal(`{${values.map((v) => `"${v.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`)}::text[]`;
}

function isScript(text: unknown, values: unknown): text is string {
  return (
    typeof text === 'string' &&
    text.startsWith(SCRIPT_MARK) &&
    (values === undefined || (Array.isArray(values) && values.length === 0))
  );
}

/** A pg client that answers a script with one row per statement (see runScript). */
export class ScriptingClient extends pg.Client {
  // pg's query() has many overloads, passed through unchanged; a script is recognized by its mark and the
  // absence of parameters.
  override query(config: any, values?: any, callback?: any): any {
    if (callback === undefined && isScript(config, values)) {
      return (super.query(config) as unknown as Promise<pg.QueryResult | pg.QueryResult[]>).then((res) => ({
        command: 'SCRIPT',
        rowCount: null,
        rows: (Array.isArray(res) ? res : [res]).map((r) => ({
          rows: r.rows ?? [],
          rowCount: WRITES.has(r.command) ? (r.rowCount ?? 0) : 0,
        })),
      }));
    }
    return super.query(config, values, callback);
  }
}

/** The PGlite instance as the Kysely dialect sees it, with scripts sent through exec(). */
export function scriptingPglite(lite: PGlite): PGlite {
  return new Proxy(lite, {
    get(target, prop) {
      if (prop === 'query') {
        return (text: unknown, values?: unknown, options?: unknown) =>
          isScript(text, values)
            ? target.exec(text).then((results) => {
                // exec() reports affectedRows as a running total over the script's statements (PGlite 0.4):
                // each statement's own count is the step from the one before.
                let before = 0;
                const rows = results.map((r) => {
                  const total = r.affectedRows ?? before;
                  const result = { rows: r.rows, rowCount: total - before };
                  before = total;
                  return result;
                });
                return { rows, fields: [] };
              })
            : target.query(text as string, values as unknown[], options as never);
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
