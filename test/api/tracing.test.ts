import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentContext, newContext, runInContext } from '../../src/core/context.js';
import { flushTracing, initTracing, shutdownTracing, withSpan } from '../../src/telemetry/tracing.js';
import { type ApiHarness, apiHarness } from '../helpers/api.js';
import { waitFor } from '../helpers/engine.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}

/** A small OTLP/HTTP (JSON) receiver: the exporter posts batches of spans to /v1/traces. */
function receiver(spans: OtlpSpan[]): Promise<{ server: Server; url: string }> {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        try {
          const data = JSON.parse(body);
          for (const rs of data.resourceSpans ?? [])
            for (const ss of rs.scopeSpans ?? []) spans.push(...ss.spans);
        } catch {
          /* not JSON: ignored */
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    }).listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` }),
    );
  });
}

describe('traces over OTLP/HTTP', () => {
  const spans: OtlpSpan[] = [];
  let server: Server;
  let t: ApiHarness;
  beforeAll(async () => {
    const r = await receiver(spans);
    server = r.server;
    initTracing('hive-test', r.url);
    t = await apiHarness();
  });
  afterAll(async () => {
    await t.close();
    await shutdownTracing();
    server.close();
  });

  it('holds the HTTP, workflow, dispatch and task spans of one workflow under the inbound trace ID', async () => {
    const traceId = '5bd66ef5095369c7b0d1f8f4bd33716a';
    const parent = 'aa12bb34cc56dd78';
    const res = await fetch(`${t.url}/api/workflows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${parent}-01` },
      body: JSON.stringify({ name: 'traced', tasks: [{ type: 'api_creation' }, { type: 'ui_integration' }] }),
    });
    const { id } = (await res.json()) as { id: string };
    await waitFor(
      async () =>
        (await t.h.deps.db.selectFrom('workflows').select('status').where('id', '=', id).executeTakeFirst())
          ?.status === 'completed',
    );
    const mine = await waitFor(
      async () => {
        await flushTracing();
        const s = spans.filter((x) => x.traceId === traceId);
        return s.some((x) => x.name.startsWith('workflow')) &&
          s.filter((x) => x.name.startsWith('task')).length >= 2
          ? s
          : undefined;
      },
      15_000,
      'the spans',
    );
    const names = mine.map((s) => s.name);
    expect(names).toContain('POST /api/workflows');
    expect(names).toContain('workflow traced');
    expect(names).toEqual(
      expect.arrayContaining([
        'dispatch api_creation',
        'dispatch ui_integration',
        'task api_creation',
        'task ui_integration',
      ]),
    );
    expect(mine.find((s) => s.name === 'POST /api/workflows')!.parentSpanId).toBe(parent);
  });

  it('nests withSpan spans under the Hive context and hands the span ID on through the context', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const ctx = newContext({ traceparent: `00-${traceId}-b7ad6b7169203331-01` });
    let innerCtxSpan = '';
    await runInContext(ctx, () =>
      withSpan('outer', { 'hive.test': true }, () =>
        withSpan('inner', undefined, async () => {
          innerCtxSpan = currentContext()!.spanId;
        }),
      ),
    );
    const mine = await waitFor(
      async () => {
        await flushTracing();
        const s = spans.filter((x) => x.traceId === traceId);
        return s.length >= 2 ? s : undefined;
      },
      5_000,
      'the spans',
    );
    const outer = mine.find((s) => s.name === 'outer')!;
    const inner = mine.find((s) => s.name === 'inner')!;
    expect(outer.parentSpanId).toBe(ctx.spanId);
    expect(inner.parentSpanId).toBe(outer.spanId);
    expect(innerCtxSpan).toBe(inner.spanId);
  });
});
