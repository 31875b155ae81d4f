import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, createApiServer } from '../../src/api/server.js';
import { loadEnv } from '../../src/core/config-env.js';
import { encodeCursor } from '../../src/store/queries/cursor.js';
import { type ApiHarness, apiHarness } from '../helpers/api.js';
import { REDIS_URL } from '../helpers/redis.js';

const TOKEN = 'edge-token-123456';
const auth = { authorization: `Bearer ${TOKEN}` };

/** Raw HTTP over a socket: for requests Node's parser refuses before Fastify sees them. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(text));
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('close', () => resolve(out));
    s.on('error', reject);
    s.setTimeout(5_000, () => s.destroy());
  });
}

describe('API edges: framework errors, auth by route, pagination, SPA, rate limit', () => {
  let t: ApiHarness;
  let open: ApiServer;
  let openUrl: string;
  beforeAll(async () => {
    t = await apiHarness({ withAgents: false, env: { HIVE_API_TOKEN: TOKEN } });
    // A second server on the same engine: no token, a small rate limit and a dashboard folder.
    const web = mkdtempSync(path.join(tmpdir(), 'hive-web-'));
    writeFileSync(path.join(web, 'index.html'), '<!doctype html><title>hive dashboard</title>');
    open = await createApiServer({
      deps: t.h.deps,
      env: loadEnv({ HIVE_KEY_PREFIX: t.h.prefix, HIVE_CORS_ORIGIN: 'http://dash.example' }),
      redisUrl: REDIS_URL,
      webRoot: web,
      rateLimitPerMinute: 20,
    });
    openUrl = await open.start('127.0.0.1', 0);
  });
  afterAll(async () => {
    await open.close();
    await t.close();
  });

  it('answers a URL that does not decode with 400, a code and a correlation ID', async () => {
    const r = await t.api.app.inject({
      method: 'GET',
      url: '/api/workflows/%E0%A4%A',
      headers: { ...auth, 'x-correlation-id': 'bad-url-1' },
    });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ error: { code: 'HIVE_ERR_VALIDATION' }, correlationId: 'bad-url-1' });
    expect(r.headers['x-correlation-id']).toBe('bad-url-1');
  });

  it('answers headers over Node’s limit and non-HTTP bytes in the same error shape', async () => {
    const port = Number(new URL(t.url).port);
    const big = await raw(port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(big).toMatch(/^HTTP\/1\.1 431 /);
    expect(big).toMatch(/"code":"HIVE_ERR_HEADERS_TOO_LARGE"/);
    expect(big).toMatch(/X-Correlation-ID: \S+/i);
    const junk = await raw(port, 'NOT HTTP AT ALL\r\n\r\n');
    expect(junk).toMatch(/^HTTP\/1\.1 400 /);
    expect(junk).toMatch(/"code":"HIVE_ERR_VALIDATION"/);
    expect((await fetch(`${t.url}/health`)).status).toBe(200);
  });

  it('protects routes by their template, so an encoded path cannot walk around the token', async () => {
    for (const url of ['/%61pi/workflows', '/api/%77orkflows', '/api/nothing-here']) {
      const r = await t.api.app.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(401);
      expect(r.json().error.code).toBe('HIVE_ERR_UNAUTHORIZED');
    }
    const lower = await t.api.app.inject({
      method: 'GET',
      url: '/api/agents',
      headers: { authorization: `bearer ${TOKEN}` },
    });
    expect(lower.statusCode).toBe(200);
    // The token in the query string is for the live routes only.
    const q = await t.api.app.inject({ method: 'GET', url: `/api/agents?access_token=${TOKEN}` });
    expect(q.statusCode).toBe(401);
  });

  it('asks for the token on the WebSocket too, taking it from ?access_token=', async () => {
    const { WebSocket } = await import('ws');
    const ws = t.url.replace('http', 'ws');
    const refused = await new Promise<number>((resolve) => {
      const c = new WebSocket(`${ws}/api/ws`);
      c.on('unexpected-response', (req, res) => {
        req.destroy();
        resolve(res.statusCode ?? 0);
      });
      c.on('open', () => resolve(101));
      c.on('error', () => {});
    });
    expect(refused).toBe(401);
    const c = new WebSocket(`${ws}/api/ws?access_token=${TOKEN}`);
    await new Promise((resolve, reject) => {
      c.once('open', resolve);
      c.once('error', reject);
    });
    c.close();
  });

  it('allows cross-origin reads only from HIVE_CORS_ORIGIN', async () => {
    const ok = await fetch(`${openUrl}/health`, { headers: { origin: 'http://dash.example' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://dash.example');
    const other = await fetch(`${openUrl}/health`, { headers: { origin: 'http://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('is not ready before it listens (with the extra checks), and refuses a non-loopback address without a token', async () => {
    const server = await createApiServer({
      deps: t.h.deps,
      env: loadEnv({ HIVE_KEY_PREFIX: t.h.prefix }),
      redisUrl: REDIS_URL,
      readyChecks: {
        coordinator: async () => ({ status: 'warn', output: 'behind' }),
        broken: async () => {
          throw new Error('down');
        },
      },
    });
    try {
      // Not listening yet: not ready.
      const ready = await server.app.inject({ method: 'GET', url: '/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({
        status: 'fail',
        checks: {
          lifecycle: { output: 'starting' },
          postgres: { status: 'pass' },
          coordinator: { status: 'warn', output: 'behind' },
          broken: { status: 'fail', output: 'down' },
        },
      });
      await expect(server.start('0.0.0.0', 0)).rejects.toMatchObject({ code: 'HIVE_ERR_CONFIG_INVALID' });
      await expect(server.start('::', 0)).rejects.toMatchObject({ code: 'HIVE_ERR_CONFIG_INVALID' });
    } finally {
      await server.close();
    }
  });

  it('pages agent logs backwards with a cursor and forwards with ?after=', async () => {
    const cid = 'logs-paging';
    await t.h.deps.db
      .insertInto('agent_logs')
      .values(
        Array.from({ length: 7 }, (_, i) => ({
          ts: new Date(),
          agent: 'backend_agent',
          instance: 'i1',
          workflow_id: 'w1',
          task_id: '0',
          correlation_id: cid,
          level: 'info',
          message: `line ${i}`,
        })),
      )
      .execute();
    const get = async (q: string) =>
      (
        await t.api.app.inject({ method: 'GET', url: `/api/logs?correlationId=${cid}&${q}`, headers: auth })
      ).json();
    const newest = await get('limit=3');
    expect(newest.items.map((l: { message: string }) => l.message)).toEqual(['line 4', 'line 5', 'line 6']);
    const older = await get(`limit=3&cursor=${newest.nextCursor}`);
    expect(older.items.map((l: { message: string }) => l.message)).toEqual(['line 1', 'line 2', 'line 3']);
    const oldest = await get(`limit=3&cursor=${older.nextCursor}`);
    expect(oldest.items.map((l: { message: string }) => l.message)).toEqual(['line 0']);
    expect(oldest.nextCursor).toBeNull();
    const after = await get(`limit=2&after=${older.items[0].id}`);
    expect(after.items.map((l: { message: string }) => l.message)).toEqual(['line 2', 'line 3']);
  });

  it('rejects cursors of the wrong kind or shape with HIVE_ERR_CURSOR_INVALID', async () => {
    for (const url of [
      `/api/dead-letters?cursor=${encodeCursor('a-string')}`,
      `/api/logs?cursor=${encodeCursor('x')}`,
      `/api/workflows?cursor=${encodeCursor(12)}`,
      `/api/workflows?cursor=${Buffer.from('null').toString('base64url')}`,
      `/api/dead-letters?cursor=${encodeCursor(-1)}`,
    ]) {
      const r = await t.api.app.inject({ method: 'GET', url, headers: auth });
      expect(r.statusCode, url).toBe(400);
      expect(r.json().error.code).toBe('HIVE_ERR_CURSOR_INVALID');
    }
  });

  it('serves the dashboard with an SPA fallback, keeping JSON 404s for the API and files', async () => {
    const home = await fetch(`${openUrl}/`);
    expect(home.status).toBe(200);
    expect(await home.text()).toMatch(/hive dashboard/);
    const deep = await fetch(`${openUrl}/workflows/abc`, { headers: { accept: 'text/html' } });
    expect(deep.status).toBe(200);
    expect(deep.headers.get('content-type')).toMatch(/text\/html/);
    expect(deep.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    for (const url of ['/api/nope', '/assets/missing.js']) {
      const r = await fetch(`${openUrl}${url}`, { headers: { accept: 'text/html' } });
      expect(r.status, url).toBe(404);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('HIVE_ERR_ROUTE_NOT_FOUND');
    }
  });

  it('exposes queue and dead-letter gauges read at scrape time', async () => {
    await t.h.deps.db
      .insertInto('dead_letters')
      .values({ stream: 's', entry_id: '1-0', reason: 'test', fields: JSON.stringify({ a: 1 }) as never })
      .execute();
    const m = (await t.api.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(m).toMatch(/^hive_dead_letters [1-9]/m);
    expect(m).toMatch(/^hive_queue_depth\{agent="backend_agent"\} \d+/m);
    expect(m).toMatch(/^hive_queue_pending\{agent="frontend_agent"\} \d+/m);
  });

  it('rate limits per client with 429 and a code, and keeps /health out of the limit', async () => {
    let limited: Response | undefined;
    for (let i = 0; i < 30 && !limited; i++) {
      const r = await fetch(`${openUrl}/api/agents`);
      if (r.status === 429) limited = r;
      else await r.arrayBuffer();
    }
    expect(limited?.status).toBe(429);
    const body = (await limited!.json()) as { error: { code: string }; correlationId: string };
    expect(body.error.code).toBe('HIVE_ERR_RATE_LIMITED');
    expect(body.correlationId).toBe(limited!.headers.get('x-correlation-id'));
    expect((await fetch(`${openUrl}/health`)).status).toBe(200);
  });
});
