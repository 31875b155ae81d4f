import { createParser } from 'eventsource-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertEvents, publishEvents } from '../../src/engine/events.js';
import { type ApiHarness, apiHarness } from '../helpers/api.js';
import { waitFor } from '../helpers/engine.js';

/** Reads an SSE stream until `stop` aborts, collecting sequence numbers. */
async function read(url: string, seen: number[], stop: AbortSignal, lastEventId?: number) {
  const res = await fetch(url, {
    headers: lastEventId ? { 'last-event-id': String(lastEventId) } : {},
    signal: stop,
  });
  const parser = createParser({ onEvent: (m) => seen.push(Number(m.id)) });
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
      parser.feed(decoder.decode(chunk, { stream: true }));
  } catch {
    /* aborted */
  }
}

describe('live events', () => {
  let t: ApiHarness;
  beforeAll(async () => {
    t = await apiHarness({ withAgents: false });
  });
  afterAll(async () => {
    await t.close();
  });

  async function emit(n: number, cid: string) {
    for (let i = 0; i < n; i++) {
      const events = await t.h.deps.db
        .transaction()
        .execute((tx) =>
          insertEvents(tx, [
            { type: 'agent.online', correlationId: cid, agent: 'backend_agent', data: { i } },
          ]),
        );
      await publishEvents(t.h.deps.redis, t.h.deps.keys, events);
      await new Promise((r) => setTimeout(r, 3));
    }
  }

  it('a client that disconnects and resumes with Last-Event-ID misses none and sees none twice', async () => {
    const cid = 'sse-resume';
    const url = `${t.url}/api/events?correlationId=${cid}`;
    const seen: number[] = [];
    const first = new AbortController();
    const reader1 = read(url, seen, first.signal);
    await new Promise((r) => setTimeout(r, 100));
    const producing = emit(300, cid);
    await waitFor(async () => seen.length >= 80);
    first.abort();
    await reader1;
    const resumeFrom = seen.at(-1)!;
    await new Promise((r) => setTimeout(r, 150)); // events keep coming while disconnected
    const second = new AbortController();
    const reader2 = read(url, seen, second.signal, resumeFrom);
    await producing;
    const all = await t.h.deps.db
      .selectFrom('events')
      .select('seq')
      .where('correlation_id', '=', cid)
      .orderBy('seq')
      .execute();
    await waitFor(async () => seen.length >= all.length, 10_000, 'every event');
    second.abort();
    await reader2;
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(all.map((r) => Number(r.seq)));
  });

  it('filters by workflow and agent and resumes with ?after=', async () => {
    await emit(3, 'sse-filter');
    const rows = await t.h.deps.db
      .selectFrom('events')
      .select('seq')
      .where('correlation_id', '=', 'sse-filter')
      .orderBy('seq')
      .execute();
    const seen: number[] = [];
    const stop = new AbortController();
    const r = read(
      `${t.url}/api/events?correlationId=sse-filter&agent=backend_agent&after=${rows[0]!.seq}`,
      seen,
      stop.signal,
    );
    await waitFor(async () => seen.length >= 2);
    stop.abort();
    await r;
    expect(seen).toEqual(rows.slice(1).map((x) => Number(x.seq)));
  });

  it('streams over WebSocket with the same filters', async () => {
    const { WebSocket } = await import('ws');
    const ws = new WebSocket(`${t.url.replace('http', 'ws')}/api/ws?correlationId=ws-1`);
    const got: any[] = [];
    ws.on('message', (m) => got.push(JSON.parse(String(m))));
    await new Promise((r) => ws.once('open', r));
    await new Promise((r) => setTimeout(r, 100));
    await emit(2, 'ws-1');
    await emit(1, 'other');
    await waitFor(async () => got.length >= 2);
    await new Promise((r) => setTimeout(r, 100));
    ws.close();
    expect(got.map((e) => e.correlationId)).toEqual(['ws-1', 'ws-1']);
  });
});
