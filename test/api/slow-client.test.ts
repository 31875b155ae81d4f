import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertEvents, publishEvents } from '../../src/engine/events.js';
import { type ApiHarness, apiHarness } from '../helpers/api.js';

describe('a client too slow to read', () => {
  let t: ApiHarness;
  beforeAll(async () => {
    t = await apiHarness({ withAgents: false, env: { HIVE_SSE_BUFFER_BYTES: '65536' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('is dropped rather than let the server buffer grow', async () => {
    const port = Number(new URL(t.url).port);
    const slow = net.connect(port, '127.0.0.1');
    await new Promise((r) => slow.once('connect', r));
    slow.write('GET /api/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
    slow.pause();
    const closed = new Promise<boolean>((r) => slow.on('close', () => r(true)));
    await new Promise((r) => setTimeout(r, 200));
    const blob = 'x'.repeat(4_000);
    for (let i = 0; i < 30; i++) {
      const events = await t.h.deps.db.transaction().execute((tx) =>
        insertEvents(
          tx,
          Array.from({ length: 100 }, (_, n) => ({
            type: 'agent.online' as const,
            correlationId: 'slow',
            data: { n, blob },
          })),
        ),
      );
      await publishEvents(t.h.deps.redis, t.h.deps.keys, events);
    }
    // A paused socket reports its close only once its unread bytes are consumed: resume it now and wait.
    await new Promise((r) => setTimeout(r, 500));
    slow.resume();
    const dropped = await Promise.race([
      closed,
      new Promise<boolean>((r) => setTimeout(() => r(false), 10_000)),
    ]);
    slow.destroy();
    expect(dropped).toBe(true);
    const metrics = (await t.api.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/hive_live_clients_dropped_total [1-9]/);
    expect((await t.api.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });
});
