import { AsyncResource } from 'node:async_hooks';
import type { FastifyInstance } from 'fastify';
import { parseTraceparent } from '../core/traceparent.js';
import type { Db } from '../store/database.js';
import { httpDuration } from '../telemetry/metrics.js';
import { recordSpan, SpanKind } from '../telemetry/tracing.js';

interface RequestRow {
  ts: Date;
  correlation_id: string;
  trace_id: string;
  method: string;
  route: string;
  url: string;
  status: number;
  duration_ms: number;
}

/**
 * Every request is recorded under its correlation ID with method, route template, status and duration.
 * Rows are buffered and written every 50 ms in one insert, so recording costs a request nothing it waits on.
 * The flush timer is started in the scope captured at boot, not in the request that happened to arm it: the
 * insert is nobody's work, so its SQL must not carry (and mislead about) one request's correlation ID.
 */
export function requestLogPlugin(app: FastifyInstance, db: Db): { flush(): Promise<void> } {
  let buffer: RequestRow[] = [];
  let timer: NodeJS.Timeout | undefined;
  const boot = new AsyncResource('hive:request-log');
  const flush = async () => {
    timer = undefined;
    const rows = buffer;
    buffer = [];
    if (rows.length === 0) return;
    try {
      await db.insertInto('http_requests').values(rows).execute();
    } catch (err) {
      app.log.warn({ err, rows: rows.length }, 'recording requests failed');
    }
  };
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const durationMs = reply.elapsedTime;
    httpDuration.observe({ method: req.method, route, status: String(reply.statusCode) }, durationMs / 1000);
    const tp = req.headers.traceparent;
    const now = Date.now();
    recordSpan({
      name: `${req.method} ${route}`,
      traceId: req.hive?.traceId,
      parentSpanId: parseTraceparent(Array.isArray(tp) ? tp[0] : tp)?.spanId,
      spanId: req.hive?.spanId,
      startMs: now - durationMs,
      endMs: now,
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': req.method,
        'http.route': route,
        'http.response.status_code': reply.statusCode,
        'hive.correlation_id': req.hive?.correlationId,
      },
    });
    if (route !== '/metrics' && route !== '/health') {
      buffer.push({
        ts: new Date(),
        correlation_id: req.hive?.correlationId ?? 'unknown',
        trace_id: req.hive?.traceId ?? '',
        method: req.method,
        route,
        url: req.url.slice(0, 2_000),
        status: reply.statusCode,
        duration_ms: durationMs,
      });
      timer ??= boot.runInAsyncScope(() => setTimeout(() => void flush(), 50));
    }
    done();
  });
  return {
    flush: async () => {
      if (timer) clearTimeout(timer);
      await flush();
    },
  };
}
