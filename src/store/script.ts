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
 * SQL comment with its correlation ID) as a mark naming it; the connection writes its statements and answers with
 * one row per statement: `{ rows, rowCount }`. On PGlite, whose query() takes one statement, it goes through exec().
 */
const SCRIPT_MARK = '/*hive:script:';

export interface StatementResult {
  rows: Record<string, unknown>[];
  /** Rows the statement inserted, updated or deleted (0 for any other statement). */
  rowCount: number;
}

const WRITES = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);

/**
 * Scripts on their way to the connection, by key. Kysely carries only the mark with the key (and the SQL comment
 * it adds); the connection writes the statements to the socket one by one. Joined into one string, a batch's
 * script is a few hundred kilobytes: V8 puts every string over 128 KB in fresh memory of its own, and joining and
 * flattening one costs about a millisecond in page faults on a small VM, twice per unit of work.
 */
const pending = new Map<string, readonly string[]>();
let lastKey = 0;

/**
 * Runs the statements in one round trip, in order; the first that fails stops the rest and rejects.
 *
 * Not an async function, and the statements are not kept for the answer: a busy unit's script is hundreds of
 * kilobytes, garbage once written, and a string still referenced when the young generation is collected is
 * copied, then promoted to the old one (an async function's frame keeps its arguments across every await). The
 * connection takes the statements from `pending` as it writes them (scriptOf).
 */
export function runScript(db: Db, statements: readonly string[]): Promise<StatementResult[]> {
  const key = String(++lastKey);
  pending.set(key, statements);
  return answered(key, statements.length, sql.raw(`${SCRIPT_MARK}${key}*/`).execute(db));
}

async function answered(
  key: string,
  count: number,
  reply: Promise<{ rows: unknown[] }>,
): Promise<StatementResult[]> {
  try {
    const { rows } = await reply;
    // A connection that does not know scripts would run the mark alone, an empty query, and answer nothing.
    if (rows.length !== count) {
      throw new Error(`a script of ${count} statements was answered with ${rows.length} results`);
    }
    return rows as unknown as StatementResult[];
  } finally {
    pending.delete(key);
  }
}

/** A script's statements and the text after its mark (the SQL comment), or undefined for any other query. */
function scriptOf(
  text: unknown,
  values: unknown,
): { statements: readonly string[]; rest: string } | undefined {
  if (typeof text !== 'string' || !text.startsWith(SCRIPT_MARK)) return undefined;
  if (values !== undefined && !(Array.isArray(values) && values.length === 0)) return undefined;
  const end = text.indexOf('*/', SCRIPT_MARK.length);
  const key = text.slice(SCRIPT_MARK.length, end);
  const statements = pending.get(key);
  if (!statements) throw new Error(`no statements for the script ${text.slice(0, end + 2)}`);
  // A script is sent once: taken here, so that nothing holds its text while the server runs it.
  pending.delete(key);
  return { statements, rest: text.slice(end + 2) };
}

/** The script's text in pieces, as the server gets it: the statements, then the SQL comment. */
function scriptPieces(script: { statements: readonly string[]; rest: string }): string[] {
  const pieces: string[] = [];
  for (const [i, statement] of script.statements.entries())
    pieces.push(i === 0 ? statement : `;\n${statement}`);
  pieces.push(script.rest);
  return pieces;
}

/**
 * A simple-query message written piece by piece: a `Q`, the length, the text, a NUL. Results come back as for
 * any multi-statement query (pg's Query gathers one result per statement).
 */
function scriptQuery(script: readonly string[]): pg.Query {
  const query = new pg.Query({ text: SCRIPT_MARK });
  // Dropped once written: the query object lives until the server has answered, its text need not.
  let pieces: readonly string[] | undefined = script;
  // pg calls submit() when the connection is free for this query; the rest of Query (gathering the results of
  // each statement, errors, readyForQuery) stays pg's own.
  // An Error returned (not thrown) fails this query through pg's own path; a throw would leave it active forever.
  query.submit = (connection: unknown): Error | null => {
    const stream = (connection as { stream: ScriptStream }).stream;
    if (!stream.writable) return new Error('the connection is closed');
    if (!pieces) return new Error('a script is sent once');
    const bodies = pieces.map((p) => Buffer.from(p, 'utf8'));
    pieces = undefined;
    const length = 4 + bodies.reduce((n, b) => n + b.length, 0) + 1;
    if (length > MAX_MESSAGE)
      return new Error(`a script of ${length} bytes is over the 1 GB a message may hold`);
    const head = Buffer.allocUnsafe(5);
    head[0] = 0x51; // 'Q'
    head.writeInt32BE(length, 1);
    stream.cork();
    try {
      stream.write(head);
      for (const b of bodies) stream.write(b);
      stream.write(NUL);
    } finally {
      stream.uncork();
    }
    return null;
  };
  return query;
}
const NUL = Buffer.from([0]);
/** PostgreSQL refuses a message over 1 GB (PQ_LARGE_MESSAGE_LIMIT); the length field must also fit an int32. */
const MAX_MESSAGE = 0x3fffffff;
type ScriptStream = NodeJS.WritableStream & { writable: boolean; cork(): void; uncork(): void };

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
    // The closing tag must be the first place the tag occurs after the opening one: not in the text, nor across
    // the seam (a text ending in a prefix of the tag). The seam is checked on its own short string: concatenating
    // the whole text to search it would copy it.
    const seam = `${text.slice(-(tag.length - 1))}${tag}`;
    if (!text.includes(tag) && seam.indexOf(tag) === seam.length - tag.length) return `${tag}${text}${tag}`;
  }
}

/** A text[] literal (array input syntax: every element double-quoted, `"` and `\` escaped). */
export function textArray(values: readonly string[]): string {
  return `${literal(`{${values.map((v) => `"${v.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`)}::text[]`;
}

/**
 * A row for a recordset (json_to_recordset, json_populate_recordset), without its null fields: a missing key
 * reads as NULL there, and the rows of a busy unit of work (mostly nulls: no error, no usage, no retry time) are a
 * good part of the bytes PostgreSQL parses for it.
 */
export function withoutNulls<T extends Record<string, unknown>>(row: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key in row) if (row[key] !== null && row[key] !== undefined) out[key] = row[key];
  return out;
}

/** A pg client that answers a script with one row per statement (see runScript). */
export class ScriptingClient extends pg.Client {
  // pg's query() has many overloads, passed through unchanged; a script is recognized by its mark and the
  // absence of parameters.
  override query(config: any, values?: any, callback?: any): any {
    const script = callback === undefined ? scriptOf(config, values) : undefined;
    if (script) return this.sendScript(scriptQuery(scriptPieces(script)));
    return super.query(config, values, callback);
  }

  /**
   * A method of its own, so that no closure waiting for the answer shares a scope with the script's text (a
   * closure keeps every variable its scope shares with other closures): the query drops its pieces once written.
   */
  private sendScript(query: pg.Query): Promise<pg.QueryResult> {
    return new Promise<pg.QueryResult | pg.QueryResult[]>((resolve, reject) => {
      (
        query as pg.Query & { callback: (err: Error | null, res: pg.QueryResult | pg.QueryResult[]) => void }
      ).callback = (err, res) => (err ? reject(err) : resolve(res));
      super.query(query);
    }).then(
      (res) =>
        ({
          command: 'SCRIPT',
          rowCount: null,
          rows: (Array.isArray(res) ? res : [res]).map((r) => ({
            rows: r.rows ?? [],
            rowCount: WRITES.has(r.command) ? (r.rowCount ?? 0) : 0,
          })),
        }) as unknown as pg.QueryResult,
    );
  }
}

/** The PGlite instance as the Kysely dialect sees it, with scripts sent through exec(). */
export function scriptingPglite(lite: PGlite): PGlite {
  return new Proxy(lite, {
    get(target, prop) {
      if (prop === 'query') {
        return (text: unknown, values?: unknown, options?: unknown) => {
          const script = scriptOf(text, values);
          return script
            ? target.exec(scriptPieces(script).join('')).then((results) => {
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
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
