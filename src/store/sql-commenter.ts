import type {
  CompiledQuery,
  DatabaseConnection,
  Dialect,
  Driver,
  QueryResult,
  TransactionSettings,
} from 'kysely';
import { currentContext, traceparentOf } from '../core/context.js';

/**
 * sqlcommenter: every statement carries `/*correlation_id='…',traceparent='…'*\/` from the context it runs
 * in, so PostgreSQL's own logs and pg_stat_activity tie a query to the work that issued it. Done at the
 * driver so that no query, Kysely-built or raw, can skip it.
 */
export function sqlComment(): string {
  const ctx = currentContext();
  if (!ctx) return '';
  const cid = encodeURIComponent(ctx.correlationId).replace(/'/g, '%27');
  return ` /*correlation_id='${cid}',traceparent='${traceparentOf(ctx)}'*/`;
}

function withComment(query: CompiledQuery): CompiledQuery {
  const comment = sqlComment();
  return comment ? { ...query, sql: query.sql + comment } : query;
}

class CommentingConnection implements DatabaseConnection {
  constructor(private readonly inner: DatabaseConnection) {}
  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return this.inner.executeQuery<R>(withComment(query));
  }
  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(withComment(query), chunkSize);
  }
}

class CommentingDriver implements Driver {
  private readonly wrapped = new WeakMap<DatabaseConnection, CommentingConnection>();
  constructor(private readonly inner: Driver) {}
  init(): Promise<void> {
    return this.inner.init();
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    const conn = await this.inner.acquireConnection();
    let w = this.wrapped.get(conn);
    if (!w) {
      w = new CommentingConnection(conn);
      this.wrapped.set(conn, w);
    }
    return w;
  }
  private unwrap(conn: DatabaseConnection): DatabaseConnection {
    return (conn as unknown as { inner: DatabaseConnection }).inner;
  }
  beginTransaction(conn: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.inner.beginTransaction(this.unwrap(conn), settings);
  }
  commitTransaction(conn: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(this.unwrap(conn));
  }
  rollbackTransaction(conn: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(this.unwrap(conn));
  }
  releaseConnection(conn: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(this.unwrap(conn));
  }
  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}

export function commentingDialect(inner: Dialect): Dialect {
  return {
    createAdapter: () => inner.createAdapter(),
    createDriver: () => new CommentingDriver(inner.createDriver()),
    createQueryCompiler: () => inner.createQueryCompiler(),
    createIntrospector: (db) => inner.createIntrospector(db),
  };
}
