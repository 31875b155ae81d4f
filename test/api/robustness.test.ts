import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, apiHarness } from '../helpers/api.js';

/** 1,000 malformed requests: every answer a 4xx with an error code, never a 5xx, and the server healthy after. */
describe('malformed requests', () => {
  let t: ApiHarness;
  beforeAll(async () => {
    t = await apiHarness({ withAgents: false });
  });
  afterAll(async () => {
    await t.close();
  });

  const routes = ['/api/workflows', '/api/workflows/batch', '/api/commands/run', '/api/workflows/x/cancel'];
  const request = fc.oneof(
    // broken JSON bodies
    fc.record({
      kind: fc.constant('json' as const),
      url: fc.constantFrom(...routes),
      body: fc.string({ maxLength: 200 }).map((s) => `{${s}`),
    }),
    // wrong types in otherwise valid JSON
    fc.record({
      kind: fc.constant('typed' as const),
      url: fc.constantFrom(...routes),
      body: fc.anything({ maxDepth: 3 }).map((v) => JSON.stringify({ tasks: v, workflows: v, command: v })),
    }),
    // oversized bodies
    fc.record({
      kind: fc.constant('big' as const),
      url: fc.constantFrom('/api/workflows', '/api/commands/run'),
      body: fc.integer({ min: 2_100_000, max: 2_300_000 }).map((n) => `{"x":"${'a'.repeat(n)}"}`),
    }),
    // invalid correlation IDs
    fc.record({
      kind: fc.constant('cid' as const),
      url: fc.constantFrom('/api/workflows', '/api/agents', '/health'),
      cid: fc
        .string({ minLength: 1, maxLength: 300 })
        .filter((s) => !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(s)),
    }),
    // odd headers: content types, traceparents and authorization values of any shape
    fc.record({
      kind: fc.constant('hdr' as const),
      url: fc.constantFrom('/api/workflows', '/api/commands/run'),
      contentType: fc.oneof(
        fc.constantFrom(
          'application/json',
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data',
        ),
        fc.stringMatching(/^[a-z]{1,10}\/[a-z+.-]{1,12}(; ?charset=[a-z0-9-]{1,10})?$/),
      ),
      traceparent: fc.string({ maxLength: 80 }),
      authorization: fc.string({ maxLength: 60 }),
      body: fc.constantFrom('{}', '[]', 'null', '"x"', '{"tasks":[]}'),
    }),
    // unknown routes, URLs that do not decode, and bad cursors/queries
    fc.record({
      kind: fc.constant('url' as const),
      url: fc.oneof(
        fc
          .tuple(
            fc.constantFrom('/api/workflows/', '/api/correlations/', '/api/nope/', '/api/workflows/x/'),
            fc.stringMatching(/^[a-z.]{0,6}$/),
            fc.constantFrom('%', '%Z', '%1', '%G0', '%E0%A4', '%C3', '%FF%FE', '%ED%A0%80'),
          )
          .map(([a, b, c]) => a + b + c),
        fc.webPath().map((p) => `/api/nope${p}`),
        fc
          .string({ maxLength: 40 })
          .map((s) => `/api/workflows?cursor=${encodeURIComponent(s)}x&limit=${encodeURIComponent(s)}`),
      ),
    }),
  );

  it('answers 1,000 of them with 4xx and an error code', async () => {
    let count = 0;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        count++;
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (r.kind === 'cid') {
          // Header values must be legal HTTP header text; anything else is refused by the client itself.
          headers['x-correlation-id'] = r.cid.replace(/[^\x20-\x7e]/g, '~');
          if (/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(headers['x-correlation-id']))
            headers['x-correlation-id'] = ' bad';
        }
        if (r.kind === 'hdr') {
          const printable = (v: string) => v.replace(/[^\x20-\x7e]/g, '~');
          headers['content-type'] = r.contentType;
          headers.traceparent = printable(r.traceparent);
          headers.authorization = printable(r.authorization);
        }
        const method = r.kind === 'url' || (r.kind === 'cid' && r.url !== '/api/workflows') ? 'GET' : 'POST';
        const res = await t.api.app.inject({
          method,
          url: r.url,
          headers,
          ...(method === 'POST' ? { payload: 'body' in r ? r.body : '{}' } : {}),
        });
        expect(
          res.statusCode,
          `${method} ${r.url} → ${res.statusCode} ${res.body.slice(0, 200)}`,
        ).toBeGreaterThanOrEqual(400);
        expect(res.statusCode).toBeLessThan(500);
        const body = res.json();
        expect(body.error.code).toMatch(/^HIVE_ERR_[A-Z_]+$/);
        expect(typeof body.correlationId).toBe('string');
      }),
      { numRuns: 1_000 },
    );
    expect(count).toBeGreaterThanOrEqual(1_000);
    expect((await t.api.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    expect((await t.api.app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
  });
});
