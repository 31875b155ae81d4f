import {
  type Attributes,
  context,
  INVALID_SPAN_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { currentContext, type HiveContext, runInContext } from '../core/context.js';
import { newSpanId, newTraceId } from '../core/ids.js';

/**
 * OpenTelemetry spans for the HTTP request, the workflow, each dispatch and each task run. All of them use the
 * trace ID that travels with the work (the inbound traceparent, then the `tp` field of every stream message),
 * so one trace spans the API, the coordinator and the agents. Exported over OTLP/HTTP only when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise every call here returns at once.
 *
 * Span IDs: a Hive context already carries a span ID (it is what `traceparent` hands to the next hop), so the
 * span recorded for that context takes the same ID. Then a child process or stream message that names the
 * context's span as its parent points at a span that exists in the trace. OTel's SDK draws IDs from an
 * IdGenerator; ours returns a requested ID once (set synchronously just before `startSpan`), else a random one.
 */
let provider: BasicTracerProvider | undefined;
let nextSpanId: string | undefined;

const idGenerator = {
  generateTraceId: newTraceId,
  generateSpanId(): string {
    const id = nextSpanId;
    nextSpanId = undefined;
    return id ?? newSpanId();
  },
};

export function initTracing(serviceName: string, endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT): void {
  if (!endpoint || provider) return;
  const base = endpoint.replace(/\/$/, '');
  const url = base.endsWith('/v1/traces') ? base : `${base}/v1/traces`;
  provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    idGenerator,
    // 200 ms: spans reach the collector while a person still watches the workflow, batched all the same.
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url }) as never, { scheduledDelayMillis: 200 }),
    ],
  });
  trace.setGlobalTracerProvider(provider);
}

export function tracingEnabled(): boolean {
  return provider !== undefined;
}

export async function shutdownTracing(): Promise<void> {
  await provider?.forceFlush();
  await provider?.shutdown();
  provider = undefined;
  trace.disable();
}

export async function flushTracing(): Promise<void> {
  await provider?.forceFlush();
}

function tracer(): Tracer {
  return trace.getTracer('agent-hive');
}

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

/** The OTel context whose (remote) parent is `traceId/spanId`. */
function parentContext(traceId: string, spanId: string | undefined) {
  return trace.setSpanContext(context.active(), {
    traceId,
    // Without a known parent, a fixed remote parent keeps every span in the trace (the trace ID joins them).
    spanId: spanId && HEX16.test(spanId) ? spanId : traceId.slice(0, 16),
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
  });
}

function cleanAttributes(
  attrs: Record<string, string | number | boolean | undefined> | undefined,
): Attributes {
  return Object.fromEntries(Object.entries(attrs ?? {}).filter(([, v]) => v !== undefined)) as Attributes;
}

export interface SpanInput {
  name: string;
  traceId: string | null | undefined;
  /** The span this one continues (a remote parent), when known. */
  parentSpanId?: string | undefined;
  /** This span's own ID, when the work already has one (a Hive context's spanId); random otherwise. */
  spanId?: string | undefined;
  startMs: number;
  endMs: number;
  kind?: SpanKind;
  attributes?: Record<string, string | number | boolean | undefined>;
  error?: string | undefined;
}

/** Records a finished span under a known trace; cheap no-op when tracing is off. */
export function recordSpan(s: SpanInput): void {
  if (!provider || !s.traceId || !HEX32.test(s.traceId)) return;
  nextSpanId = s.spanId && HEX16.test(s.spanId) ? s.spanId : undefined;
  const span: Span = tracer().startSpan(
    s.name,
    { startTime: s.startMs, kind: s.kind ?? SpanKind.INTERNAL, attributes: cleanAttributes(s.attributes) },
    parentContext(s.traceId, s.parentSpanId),
  );
  nextSpanId = undefined;
  if (s.error) span.setStatus({ code: SpanStatusCode.ERROR, message: s.error });
  span.end(s.endMs);
}

/**
 * Starts a span whose parent is the current Hive context's span (same trace ID). The caller ends it. When
 * tracing is off this is OTel's non-recording span: every method is a no-op.
 */
export function startSpan(
  name: string,
  attributes?: Record<string, string | number | boolean | undefined>,
  opts: { kind?: SpanKind; ctx?: HiveContext | undefined } = {},
): Span {
  const ctx = opts.ctx ?? currentContext();
  const attrs = { kind: opts.kind ?? SpanKind.INTERNAL, attributes: cleanAttributes(attributes) };
  if (!provider || !ctx || !HEX32.test(ctx.traceId)) return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
  return tracer().startSpan(name, attrs, parentContext(ctx.traceId, ctx.spanId));
}

/**
 * Runs `fn` inside a child span of the current context: the Hive context seen by `fn` (and so every log line,
 * SQL comment and outgoing traceparent) carries the new span's ID. Errors mark the span and are rethrown.
 */
export async function withSpan<T>(
  name: string,
  attributes: Record<string, string | number | boolean | undefined> | undefined,
  fn: (span: Span) => Promise<T> | T,
): Promise<T> {
  const span = startSpan(name, attributes);
  const parent = currentContext();
  const spanId = span.isRecording() ? span.spanContext().spanId : newSpanId();
  const run = () => Promise.resolve().then(() => fn(span));
  try {
    return await (parent ? runInContext({ ...parent, spanId }, run) : run());
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message ?? String(err) });
    throw err;
  } finally {
    span.end();
  }
}

export { SpanKind };
