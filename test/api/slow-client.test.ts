import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertEvents, publishEvents } from '../../src/engine/events.js';
import { type ApiHarness, apiHarness } from '../helpers/api.js';
import { waitFor } from '../helpers/engine.js';

describe('a client too slow to read', () => {
  let t: ApiHarness;
  beforeAll(async () => {
    t = await apiHarness({ withAgents: false, env: { HIVE_SSE_BUFFER_BYTES: '65536' } });
  });
  afterAll(async () => {
    await t.close();
  });

  async function droppedTotal(): Promise<number> {
    const m = (await t.api.app.inject({ method: 'GET', url: '/metrics' })).body;
    return Number(/^hive_live_clients_dropped_total (\d+)/m.exec(m)?.[1] ?? 0);
  }

  it('is dropped rather than let the server buffer grow', async () => {
    const before = await droppedTotal();
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
    // The server waits LIVE_STALL_MS for any progress before it drops the client: stay paused until it has.
    await waitFor(async () => (await droppedTotal()) > before, 10_000, 'the drop');
    // A paused socket reports its close only once its unread bytes are consumed: resume it now and wait.
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

  it('over WebSocket too: a client that stops reading is dropped (close 1013)', async () => {
    const { WebSocket } = await import('ws');
    const before = await droppedTotal();
    const ws = new WebSocket(`${t.url.replace('http', 'ws')}/api/ws?correlationId=slow-ws`);
    await new Promise((r) => ws.once('open', r));
    let closeCode: number | undefined;
    ws.on('close', (code) => (closeCode = code));
    ws.pause(); // stops reading the socket: the server's bytes pile up
    const blob = 'x'.repeat(4_000);
    for (let i = 0; i < 30; i++) {
      const events = await t.h.deps.db.transaction().execute((tx) =>
        insertEvents(
          tx,
          Array.from({ length: 100 }, (_, n) => ({
            type: 'agent.online' as const,
            correlationId: 'slow-ws',
            data: { n, blob },
          })),
        ),
      );
      await publishEvents(t.h.deps.redis, t.h.deps.keys, events);
    }
    await waitFor(async () => (await droppedTotal()) > before, 10_000, 'the drop');
    ws.resume();
    await waitFor(async () => closeCode !== undefined, 10_000, 'the close');
    expect(closeCode).toBe(1013);
  });
});
