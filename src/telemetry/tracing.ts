import { context, type Span, SpanKind, TraceFlags, type Tracer, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

/**
 * OpenTelemetry spans for the HTTP request, the workflow, each dispatch and each task run. All of them use the
 * trace ID that travels with the work (the inbound traceparent, then the `tp` field of every stream message),
 * so one trace spans the API, the coordinator and the agents. Exported over OTLP/HTTP only when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise the API's no-op tracer makes every call free.
 */
let provider: BasicTracerProvider | undefined;

export function initTracing(serviceName: string, endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT): void {
  if (!endpoint || provider) return;
  const url = endpoint.replace(/\/$/, '').endsWith('/v1/traces')
    ? endpoint
    : `${endpoint.replace(/\/$/, '')}/v1/traces`;
  provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url }) as never, { scheduledDelayMillis: 200 }),
    ],
  });
  trace.setGlobalTracerProvider(provider);
}

export async function shutdownTracing(): Promise<void> {
  await provider?.forceFlush();
  await provider?.shutdown();
  provider = undefined;
}

export async function flushTracing(): Promise<void> {
  await provider?.forceFlush();
}

function tracer(): Tracer {
  return trace.getTracer('agent-hive');
}

export interface SpanInput {
  name: string;
  traceId: string | null | undefined;
  /** The span this one continues (a remote parent), when known. */
  parentSpanId?: string | undefined;
  startMs: number;
  endMs: number;
  kind?: SpanKind;
  attributes?: Record<string, string | number | boolean | undefined>;
  error?: string | undefined;
}

/** Records a finished span under a known trace; cheap no-op when tracing is off. */
export function recordSpan(s: SpanInput): void {
  if (!provider || !s.traceId || !/^[0-9a-f]{32}$/.test(s.traceId)) return;
  const parent = trace.setSpanContext(context.active(), {
    traceId: s.traceId,
    // Without a known parent, a fixed remote parent keeps every span in the trace (the trace ID is what joins them).
    spanId: s.parentSpanId && /^[0-9a-f]{16}$/.test(s.parentSpanId) ? s.parentSpanId : s.traceId.slice(0, 16),
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
  });
  const attrs = Object.fromEntries(
    Object.entries(s.attributes ?? {}).filter(([, v]) => v !== undefined),
  ) as Record<string, string | number | boolean>;
  const span: Span = tracer().startSpan(
    s.name,
    { startTime: s.startMs, kind: s.kind ?? SpanKind.INTERNAL, attributes: attrs },
    parent,
  );
  if (s.error) span.setStatus({ code: 2, message: s.error });
  span.end(s.endMs);
}

export { SpanKind };
