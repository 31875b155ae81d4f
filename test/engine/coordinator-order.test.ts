import { type RawBuilder, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Envelope, encode } from '../../src/bus/envelope.js';
import type { StreamEntry } from '../../src/bus/stream-reader.js';
import { Coordinator } from '../../src/engine/coordinator.js';
import { submitWorkflow } from '../../src/engine/submit.js';
import { type EngineHarness, engineHarness, waitFor } from '../helpers/engine.js';

const TP = `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`;
const CONFIG = {
  agents: { backend_agent: { capabilities: ['api_creation'], runner: 'sdk', instances: 0 } },
};

const WHO = { instance: 'backend_agent-test-1', agent: 'backend_agent' };

/** An agent's log message for task `a` of the workflow, as its stream fields. */
function logFields(cid: string, wf: string, line: Envelope<'log'>['payload']['lines'][number]): string[] {
  return encode({
    kind: 'log',
    cid,
    tp: TP,
    ts: Date.now(),
    wf,
    task: 'a',
    attempt: 1,
    payload: { ...WHO, lines: [line] },
  });
}

/** An agent instance's heartbeat, as its stream fields. */
function heartbeatFields(
  cid: string,
  instance: string,
  state: 'online' | 'beat' | 'offline',
  running: number,
): string[] {
  return encode({
    kind: 'heartbeat',
    cid,
    tp: TP,
    ts: Date.now(),
    payload: {
      instance,
      agent: 'backend_agent',
      state,
      host: 'test',
      pid: 1,
      concurrency: 1,
      running,
      startedAt: Date.now(),
    },
  });
}

/** The results reader's own path for a batch (no reader is started: none competes for these entries). */
function applier(coordinator: Coordinator): (entries: StreamEntry[]) => Promise<void> {
  return (entries) =>
    (coordinator as unknown as { processUntilDone(e: StreamEntry[]): Promise<void> }).processUntilDone(
      entries,
    );
}

/**
 * Another transaction holding row locks (`lock`, a SELECT … FOR UPDATE) until `release` is called; resolves once
 * they are held. `release` ends the transaction and resolves when it has.
 */
async function holdLocks(h: EngineHarness, lock: RawBuilder<unknown>): Promise<{ release(): Promise<void> }> {
  let unlock!: () => void;
  const unlocked = new Promise<void>((resolve) => {
    unlock = resolve;
  });
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => {
    locked = resolve;
  });
  const holder = h.deps.db.transaction().execute(async (tx) => {
    await lock.execute(tx);
    locked();
    await unlocked;
  });
  await isLocked;
  return {
    release() {
      unlock();
      return holder;
    },
  };
}

// Two batches in flight can each hold messages of the same workflow. The batch read first must be applied first:
// otherwise a run's later progress step could be numbered before an earlier one.
describe('a coordinator applying batches on the same workflow', () => {
  let h: EngineHarness;
  beforeEach(async () => {
    h = await engineHarness(CONFIG);
  });
  afterEach(async () => {
    await h.close();
  });

  it('applies them in the order they were read, even when the first one has more to do', async () => {
    const { id } = await submitWorkflow(
      h.deps,
      { tasks: [{ id: 'a', type: 'api_creation', agent: 'backend_agent' }] },
      { correlationId: 'order-1' },
    );
    const step = (n: number, kind: string): StreamEntry => [
      `1-${n}`,
      logFields('order-1', id, {
        ts: Date.now(),
        level: 'info',
        message: kind,
        progress: { kind, summary: kind },
      }),
    ];
    // The first batch also carries an instance's first heartbeat: a transaction of its own before its unit of
    // work, so left alone the second batch would reach the workflow's lock first.
    const heartbeat: StreamEntry = ['1-0', heartbeatFields('order-1-instance', WHO.instance, 'online', 1)];
    const apply = applier(new Coordinator(h.deps, { connect: h.connect }));
    await Promise.all([apply([heartbeat, step(1, 'first')]), apply([step(2, 'second')])]);
    const progress = await h.deps.db
      .selectFrom('events')
      .select(['seq', 'data'])
      .where('workflow_id', '=', id)
      .where('type', '=', 'task.progress')
      .orderBy('seq')
      .execute();
    expect(progress.map((e) => (e.data as { kind: string }).kind)).toEqual(['first', 'second']);
  });

  it('does not claim and apply again a batch of its own that is slow to apply', async () => {
    const { id } = await submitWorkflow(
      h.deps,
      { tasks: [{ id: 'a', type: 'api_creation', agent: 'backend_agent' }] },
      { correlationId: 'slow-1' },
    );
    // Another transaction holds the workflow's lock: the batch waits for it well past claimIdleMs.
    const lock = await holdLocks(h, sql`SELECT 1 FROM workflows WHERE id = ${id} FOR UPDATE`);
    const coordinator = new Coordinator(h.deps, { connect: h.connect, claimIdleMs: 300, blockMs: 50 });
    await coordinator.start();
    try {
      await h.redis.xadd(
        h.deps.keys.results(),
        '*',
        ...logFields('slow-1', id, { ts: Date.now(), level: 'info', message: 'once' }),
      );
      // Long enough for the entry to go idle and for several claim rounds (every claimIdleMs / 2).
      await new Promise((r) => setTimeout(r, 1_200));
      await lock.release();
      await waitFor(
        async () => (await h.redis.xlen(h.deps.keys.results())) === 0,
        10_000,
        'the batch applied and deleted',
      );
      // A second copy would be applied right behind the first (it waits in the workflow's lane).
      await new Promise((r) => setTimeout(r, 300));
      const logs = await h.deps.db
        .selectFrom('agent_logs')
        .select('message')
        .where('workflow_id', '=', id)
        .execute();
      expect(logs.map((l) => l.message)).toEqual(['once']);
    } finally {
      await lock.release();
      await coordinator.close();
    }
  });
  it("applies an instance's heartbeats in the order they were read, even when the first batch waits", async () => {
    const beat = (instance: string, state: 'online' | 'beat' | 'offline', n: number): StreamEntry => [
      `2-${n}`,
      heartbeatFields(`order-${instance}`, instance, state, 0),
    ];
    const apply = applier(new Coordinator(h.deps, { connect: h.connect }));
    await apply([beat('hb-y', 'online', 0), beat('hb-x', 'online', 1)]);
    // Another transaction holds instance y's row: the first batch (y's beat, then x's) waits on it.
    const lock = await holdLocks(h, sql`SELECT 1 FROM agent_instances WHERE id = 'hb-y' FOR UPDATE`);
    const first = apply([beat('hb-y', 'beat', 2), beat('hb-x', 'beat', 3)]);
    // x stopped: its offline is read after its last beat. Applied first, the late beat would set x online again.
    const second = apply([beat('hb-x', 'offline', 4)]);
    await new Promise((r) => setTimeout(r, 300));
    await lock.release();
    await Promise.all([first, second]);
    const x = await h.deps.db
      .selectFrom('agent_instances')
      .select('status')
      .where('id', '=', 'hb-x')
      .executeTakeFirstOrThrow();
    expect(x.status).toBe('offline');
    const events = await h.deps.db
      .selectFrom('events')
      .select('type')
      .where('correlation_id', '=', 'order-hb-x')
      .orderBy('seq')
      .execute();
    expect(events.map((e) => e.type)).toEqual(['agent.online', 'agent.offline']);
  });
});
