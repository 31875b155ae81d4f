import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/bus/keys.js';
import type { Redis } from '../../src/bus/redis.js';
import {
  type EventDraft,
  eventFromRow,
  eventsFromStreamFields,
  insertEvents,
  publishEvents,
} from '../../src/engine/events.js';
import { eventsOfCorrelation, lastEventSeq, readEvents } from '../../src/store/queries/event-pages.js';
import { DATABASE_KINDS, type TestDatabase } from '../helpers/databases.js';
import { cleanupPrefix, testPrefix, testRedis } from '../helpers/redis.js';

// An event travels twice as JSON: in its transaction's page (event_pages) and in the live stream's entry. Both
// must say exactly what the draft said, in the draft's order, whatever the data holds — read back through the
// pages, through the `events` view, and from the stream.
const drafts: EventDraft[] = [
  {
    type: 'task.completed',
    correlationId: 'c-1',
    workflowId: 'wf-1',
    taskId: 'api',
    agent: 'backend_agent',
    data: {
      attempt: 1,
      output: { text: 'quotes " and \\ and $h$ and ünïcödé ✓', list: [1, null, { a: [] }] },
    },
    ts: 1_796_674_597_598,
  },
  { type: 'agent.online', correlationId: 'c-2', agent: 'frontend_agent' },
  { type: 'workflow.submitted', correlationId: 'c-1', workflowId: 'wf-1', data: {} },
  { type: 'command.invoked', correlationId: 'c-3', data: { args: ['a b', ''] }, ts: 1_796_674_597_598 },
];

describe.each(DATABASE_KINDS)('events recorded and published (%s)', (_kind, create) => {
  let t: TestDatabase;
  let redis: Redis;
  const prefix = testPrefix();
  const keys = new Keys(prefix);
  beforeAll(async () => {
    t = await create();
    redis = testRedis();
  });
  afterAll(async () => {
    await cleanupPrefix(redis, prefix);
    redis.disconnect();
    await t.drop();
  });

  it('are stored and streamed as drafted, in draft order', async () => {
    const events = await t.store.db.transaction().execute((tx) => insertEvents(tx, drafts));
    expect(events.map((e) => e.type)).toEqual(drafts.map((d) => d.type));
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(drafts.length);

    const rows = await t.store.db.selectFrom('events').selectAll().orderBy('seq').execute();
    const stored = rows.map(eventFromRow);
    expect(stored).toEqual(events);
    expect(stored[0]).toMatchObject({
      ts: '2026-12-07T20:16:37.598Z',
      workflowId: 'wf-1',
      taskId: 'api',
      agent: 'backend_agent',
      data: drafts[0]!.data,
    });
    expect(stored[1]!.data).toEqual({});
    expect(stored[1]).not.toHaveProperty('workflowId');
    // One transaction, one page, numbered contiguously.
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
    const pages = await t.store.db.selectFrom('event_pages').selectAll().execute();
    expect(pages).toHaveLength(1);
    expect([...pages[0]!.correlation_ids].sort()).toEqual(['c-1', 'c-2', 'c-3']);
    expect(pages[0]!.workflow_ids).toEqual(['wf-1']);

    expect((await readEvents(t.store.db, { after: 0 })).events).toEqual(events);
    const c1 = events.filter((e) => e.correlationId === 'c-1');
    expect(await eventsOfCorrelation(t.store.db, 'c-1', 100)).toEqual(c1);
    expect(await eventsOfCorrelation(t.store.db, 'c-1', 1)).toEqual(c1.slice(0, 1));
    const read = await readEvents(t.store.db, {
      after: seqs[0]!,
      upTo: seqs[2]!,
      filter: { workflowId: 'wf-1' },
    });
    expect(read).toEqual({ events: [events[2]], through: seqs[2], more: false });
    expect((await readEvents(t.store.db, { after: 0, filter: { agent: 'frontend_agent' } })).events).toEqual([
      events[1],
    ]);
    expect(await lastEventSeq(t.store.db)).toBe(seqs.at(-1));

    await publishEvents(redis, keys, events);
    const entries = await redis.xrange(keys.events(), '-', '+');
    const streamed = entries.flatMap(([, fields]) => eventsFromStreamFields(fields));
    expect(streamed).toEqual(events);
    // The live entry carries the page's own text (serialized once), numbered by its `first`.
    const [, fields] = entries[0]!;
    expect(fields.slice(0, 4)).toEqual(['first', String(seqs[0]), 'last', String(seqs.at(-1))]);
    expect(fields[5]).toBe(pages[0]!.events);
  });

  it('reads a live entry only when it can number every event in it', () => {
    const e = { ts: '2026-12-08T00:00:00.000Z', type: 'agent.online', correlationId: 'c', data: {} };
    const text = JSON.stringify([e, e]);
    expect(eventsFromStreamFields(['first', '41', 'last', '42', 'events', text]).map((x) => x.seq)).toEqual([
      41, 42,
    ]);
    expect(eventsFromStreamFields(['events', text])).toEqual([]);
    expect(eventsFromStreamFields(['first', 'x', 'events', text])).toEqual([]);
    expect(eventsFromStreamFields(['first', '0', 'events', text])).toEqual([]);
    expect(eventsFromStreamFields(['first', '1', 'events', '[1, 2]'])).toEqual([]);
    expect(eventsFromStreamFields(['first', '1', 'events', '{not json'])).toEqual([]);
    // Entries written with each event's number (before pages) still read as they were.
    expect(eventsFromStreamFields(['events', JSON.stringify([{ ...e, seq: 7 }])])[0]!.seq).toBe(7);
  });
});
