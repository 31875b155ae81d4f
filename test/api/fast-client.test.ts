import { createParser } from 'eventsource-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertEvents, publishEvents } from '../../src/engine/events.js';
import { type ApiHarness, apiHarness } from '../helpers/api.js';

const BOUND = 64 * 1024;
const BLOB = 'y'.repeat(200); // ~450 bytes an event on the wire: one replay page is several times the bound

/**
 * A client that reads as fast as it can is never dropped, however far back it resumes and however large a burst
 * the server writes in one tick: the bound is for clients that stop reading (slow-client.test.ts).
 */
describe('a client reading at full speed', () => {
  let t: ApiHarness;
  beforeAll(async () => {
    t = await apiHarness({ withAgents: false, env: { HIVE_SSE_BUFFER_BYTES: String(BOUND) } });
  });
  afterAll(async () => {
    await t.close();
  });

  async function insert(cid: string, n: number, publish: boolean, blob = BLOB) {
    const all: number[] = [];
    for (let done = 0; done < n; done += 1_000) {
      const events = await t.h.deps.db.transaction().execute((tx) =>
        insertEvents(
          tx,
          Array.from({ length: Math.min(1_000, n - done) }, (_, i) => ({
            type: 'agent.online' as const,
            correlationId: cid,
            data: { i: done + i, blob },
          })),
        ),
      );
      if (publish) await publishEvents(t.h.deps.redis, t.h.deps.keys, events);
      all.push(...events.map((e) => e.seq));
    }
    return all;
  }

  async function dropped(): Promise<number> {
    const m = (await t.api.app.inject({ method: 'GET', url: '/metrics' })).body;
    return Number(/^hive_live_clients_dropped_total (\d+)/m.exec(m)?.[1] ?? 0);
  }

  /** Reads an SSE stream until `want` events arrived or the server ended it; returns ids and how it ended. */
  async function readSse(url: string, lastEventId: number, want: number) {
    const seen: number[] = [];
    const comments: string[] = [];
    const stop = new AbortController();
    const res = await fetch(url, { headers: { 'last-event-id': String(lastEventId) }, signal: stop.signal });
    const parser = createParser({
      onEvent: (m) => {
        seen.push(Number(m.id));
        if (seen.length >= want) stop.abort();
      },
      onComment: (c) => comments.push(c),
    });
    const decoder = new TextDecoder();
    let ended = false;
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
        parser.feed(decoder.decode(chunk, { stream: true }));
      ended = true; // the server closed the stream
    } catch {
      /* aborted by us */
    }
    return { seen, comments, ended };
  }

  it('over SSE: resumes 20,000 events back with Last-Event-ID, gets each once in order, is not dropped', async () => {
    const cid = 'fast-sse';
    const before = await dropped();
    const start = (await insert('fast-sse-before', 1, false))[0]!;
    const all = await insert(cid, 20_000, false);
    // Live events arriving during the replay, published through Redis as the engine does.
    const liveDuring = insert(cid, 2_000, true);
    const started = Date.now();
    const got = await readSse(`${t.url}/api/events?correlationId=${cid}`, start, 22_000);
    const ms = Date.now() - started;
    const expected = [...all, ...(await liveDuring)];
    expect(got.ended, got.comments.join(' | ')).toBe(false);
    expect(got.seen.length).toBe(expected.length);
    expect(got.seen).toEqual(expected);
    expect(await dropped()).toBe(before);
    console.log(
      `SSE: ${got.seen.length} events (~${Math.round((got.seen.length * 450) / 1024)} KiB) in ${ms} ms`,
    );
  });

  it('over SSE: a live burst far over the bound in one tick is taken in full by a live client', async () => {
    const cid = 'fast-burst';
    const before = await dropped();
    const seen: number[] = [];
    let closed = false;
    const stop = new AbortController();
    const res = await fetch(`${t.url}/api/events?correlationId=${cid}`, { signal: stop.signal });
    const parser = createParser({ onEvent: (m) => seen.push(Number(m.id)) });
    const decoder = new TextDecoder();
    const reading = (async () => {
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
          parser.feed(decoder.decode(chunk, { stream: true }));
        closed = true;
      } catch {
        /* aborted */
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    // Committed without a stream entry: the hub's catch-up poll delivers them as one burst of 1,000-row pages.
    const all = await insert(cid, 5_000, false);
    const deadline = Date.now() + 20_000;
    while (seen.length < all.length && !closed && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    stop.abort();
    await reading;
    expect(closed).toBe(false);
    expect(seen).toEqual(all);
    expect(await dropped()).toBe(before);
  });

  it('over WebSocket: resumes 8,000 events (32 MB) back with ?after=, gets each once in order, is not dropped', async () => {
    const { WebSocket } = await import('ws');
    const cid = 'fast-ws';
    const before = await dropped();
    const start = (await insert('fast-ws-before', 1, false))[0]!;
    // Larger events: a page must outgrow the kernel's socket buffers too, which absorb ~1 MB on loopback.
    const blob = 'z'.repeat(4_000);
    const all = await insert(cid, 6_000, false, blob);
    const liveDuring = insert(cid, 2_000, true, blob);
    const ws = new WebSocket(`${t.url.replace('http', 'ws')}/api/ws?correlationId=${cid}&after=${start}`);
    const seen: number[] = [];
    let closeCode: number | undefined;
    const done = new Promise<void>((resolve) => {
      ws.on('message', (m) => {
        seen.push(JSON.parse(String(m)).seq);
        if (seen.length >= 8_000) resolve();
      });
      ws.on('close', (code) => {
        closeCode = code;
        resolve();
      });
    });
    const timeout = setTimeout(() => ws.terminate(), 30_000);
    await done;
    clearTimeout(timeout);
    ws.close();
    expect(closeCode).toBeUndefined();
    expect(seen).toEqual([...all, ...(await liveDuring)]);
    expect(await dropped()).toBe(before);
  });
});
