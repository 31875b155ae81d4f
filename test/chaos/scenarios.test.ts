import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedis } from '../../src/bus/redis.js';
import { insertEvents, publishEvents } from '../../src/engine/events.js';
import { submitWorkflows } from '../../src/engine/submit.js';
import { openStore } from '../../src/store/database.js';
import { migrateUp } from '../../src/store/migrator.js';
import {
  checkInvariants,
  engineDeps,
  Fleet,
  freePort,
  type Invariants,
  mixedSpecs,
  OwnPostgres,
  OwnRedis,
  percentiles,
  prefixMemory,
  streamBacklog,
  waitAllFinal,
} from '../helpers/chaos.js';
import { createPostgresDatabase } from '../helpers/databases.js';
import { ROOT } from '../helpers/processes.js';
import { cleanupPrefix, REDIS_URL, testPrefix } from '../helpers/redis.js';

const WORKFLOWS = Number(process.env.CHAOS_WORKFLOWS ?? 1_000);
const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'chaos');
const AGENTS = ['backend_agent', 'frontend_agent'];

/** Redis memory of the scenario's own hive, after its streams were trimmed behind PostgreSQL. */
const MEMORY_BOUND_BYTES = 16 * 1024 * 1024;
let current: { redis: import('../../src/bus/redis.js').Redis; prefix: string } | undefined;

async function record(name: string, figures: Record<string, unknown>, boundBytes = MEMORY_BOUND_BYTES) {
  let redisBytes: number | undefined;
  if (current) {
    redisBytes = await prefixMemory(current.redis, current.prefix);
    expect(redisBytes).toBeLessThan(boundBytes);
  }
  figures = { ...figures, redisBytes };
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(
    path.join(ARTIFACTS, `${name}.json`),
    JSON.stringify({ scenario: name, at: new Date().toISOString(), ...figures }, null, 2),
  );
}

function expectInvariants(inv: Invariants, opts: { allowFailed?: boolean } = {}) {
  expect(inv.duplicates).toBe(0);
  expect(inv.lostTasks).toBe(0);
  const final = Object.values(inv.statuses).reduce((a, b) => a + b, 0);
  expect(final).toBe(inv.workflows);
  if (!opts.allowFailed) expect(inv.statuses.completed).toBe(inv.workflows);
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function setup(opts: { redisUrl?: string; databaseUrl?: string } = {}) {
  const prefix = testPrefix();
  let dbUrl = opts.databaseUrl;
  if (!dbUrl) {
    const db = await createPostgresDatabase();
    cleanups.push(() => db.drop());
    await db.store.close();
    dbUrl = db.url!;
  }
  const store = await openStore({ url: dbUrl });
  await migrateUp(store.db);
  cleanups.push(() => store.close());
  const redisUrl = opts.redisUrl ?? REDIS_URL;
  const deps = engineDeps(store.db, redisUrl, prefix);
  current = { redis: deps.redis, prefix };
  cleanups.push(async () => {
    await cleanupPrefix(deps.redis, prefix).catch(() => {});
    deps.redis.disconnect();
    current = undefined;
  });
  const fleet = new Fleet({ HIVE_KEY_PREFIX: prefix, HIVE_DATABASE_URL: dbUrl, HIVE_REDIS_URL: redisUrl });
  cleanups.push(() => fleet.stop());
  const submit = async (n: number, cid: string) => {
    const ids: string[] = [];
    const specs = mixedSpecs(n);
    for (let i = 0; i < specs.length; i += 100)
      ids.push(
        ...(await submitWorkflows(deps, specs.slice(i, i + 100), { correlationId: cid })).map((r) => r.id),
      );
    return ids;
  };
  return { prefix, deps, fleet, submit, store };
}

describe('chaos', () => {
  it('1. agent instances killed with SIGKILL again and again, and restarted', async () => {
    const { deps, fleet, submit } = await setup();
    fleet.coordinator();
    const slow = { CHAOS_MAX_DELAY_MS: '150' };
    const agents = AGENTS.flatMap((a) => [fleet.agent(a, slow), fleet.agent(a, slow)]);
    const ids = await submit(WORKFLOWS, 'chaos-1');
    const kills: { at: number; pid: number }[] = [];
    let done = false;
    const killer = (async () => {
      while (!done) {
        await new Promise((r) => setTimeout(r, 400));
        if (done) break;
        const victim = agents.splice(Math.floor(Math.random() * agents.length), 1)[0]!;
        kills.push({ at: Date.now(), pid: victim.child.pid! });
        await fleet.kill(victim);
        agents.push(fleet.agent(victim.name.slice('agent:'.length), slow));
      }
    })();
    await waitAllFinal(deps.db, ids, 240_000);
    done = true;
    await killer;
    const inv = await checkInvariants(deps.db, ids);
    expectInvariants(inv);
    // Takeover time: from a kill to the takeover of each task the killed instance held.
    const instances = await deps.db.selectFrom('agent_instances').select(['id', 'pid']).execute();
    const notes = await sql<{
      ts: Date;
      message: string;
    }>`SELECT ts, message FROM agent_logs WHERE message LIKE '%taken over%' AND workflow_id = ANY(${ids}::text[])`.execute(
      deps.db,
    );
    const takeovers: number[] = [];
    for (const k of kills) {
      const inst = instances.find((i) => i.pid === k.pid);
      if (!inst) continue;
      for (const n of notes.rows)
        if (n.message.includes(`(was ${inst.id})`)) takeovers.push(n.ts.getTime() - k.at);
    }
    const t = percentiles(takeovers);
    expect(fleet.crashed()).toEqual([]);
    expect(await streamBacklog(deps.redis, deps.keys, AGENTS)).toBe(0);
    if (t.p99 !== null) expect(t.p99).toBeLessThan(10_000);
    await record('1-agent-kills', { ...inv, kills: kills.length, takeoverMs: t });
  }, 300_000);

  it('2. the coordinator killed with SIGKILL mid-run, and restarted', async () => {
    const { deps, fleet, submit } = await setup();
    const c1 = fleet.coordinator();
    for (const a of AGENTS) fleet.agent(a);
    const ids = await submit(WORKFLOWS, 'chaos-2');
    await new Promise((r) => setTimeout(r, 1_500));
    await fleet.kill(c1);
    const killedAt = Date.now();
    await new Promise((r) => setTimeout(r, 1_000));
    fleet.coordinator();
    await waitAllFinal(deps.db, ids, 180_000);
    const inv = await checkInvariants(deps.db, ids);
    expectInvariants(inv);
    expect(fleet.crashed()).toEqual([]);
    expect(await streamBacklog(deps.redis, deps.keys, AGENTS)).toBe(0);
    await record('2-coordinator-kill', { ...inv, kills: 1, recoveredInMs: Date.now() - killedAt });
  }, 240_000);

  for (const fsync of ['everysec', 'always'] as const) {
    it(`4. Redis restarted mid-run (AOF ${fsync})`, async () => {
      const redis = new OwnRedis(await freePort(), fsync);
      await redis.start();
      cleanups.push(() => redis.kill());
      const { deps, fleet, submit } = await setup({ redisUrl: redis.url });
      fleet.coordinator();
      for (const a of AGENTS) fleet.agent(a);
      const ids = await submit(Math.round(WORKFLOWS / 2), `chaos-4-${fsync}`);
      await new Promise((r) => setTimeout(r, 1_000));
      await redis.kill();
      await new Promise((r) => setTimeout(r, 1_000));
      await redis.start();
      await waitAllFinal(deps.db, ids, 180_000);
      const inv = await checkInvariants(deps.db, ids);
      expectInvariants(inv);
      expect(fleet.crashed()).toEqual([]);
      const dispatchedAgain = await sql<{
        n: number;
      }>`SELECT count(*)::int AS n FROM events WHERE type = 'task.dispatched' AND workflow_id = ANY(${ids}::text[])`.execute(
        deps.db,
      );
      record(`4-redis-restart-${fsync}`, { ...inv, dispatches: Number(dispatchedAgain.rows[0]!.n) });
    }, 240_000);
  }

  it('5. PostgreSQL restarted mid-run', async () => {
    const pg = new OwnPostgres(await freePort());
    pg.init();
    pg.start();
    cleanups.push(async () => pg.stopImmediate());
    const { fleet, submit, store } = await setup({ databaseUrl: pg.url });
    fleet.coordinator();
    for (const a of AGENTS) fleet.agent(a);
    const ids = await submit(WORKFLOWS, 'chaos-5');
    // Mid-run: the coordinator is up and applying results (on a busy machine it can take longer than 1.5 s to
    // boot, and a coordinator that finds no database at boot exits: that is start-up, not this scenario).
    for (const deadline = Date.now() + 60_000; ; await new Promise((r) => setTimeout(r, 100))) {
      const started = await sql<{
        n: number;
      }>`SELECT count(*)::int AS n FROM tasks WHERE started_at IS NOT NULL`
        .execute(store.db)
        .then((r) => Number(r.rows[0]?.n ?? 0));
      if (started > 0) break;
      if (Date.now() > deadline) throw new Error('no task started within 60 s');
    }
    await new Promise((r) => setTimeout(r, 1_500));
    pg.stopImmediate();
    await new Promise((r) => setTimeout(r, 1_500));
    pg.start();
    await waitAllFinal(store.db, ids, Number(process.env.CHAOS_PG_WAIT ?? 180_000)).catch((err) => {
      throw new Error(
        `${err.message}\n${fleet.procs.map((p) => `${p.name} exit=${p.child.exitCode} ${p.output().slice(-1500)}`).join('\n')}`,
      );
    });
    const inv = await checkInvariants(store.db, ids);
    expectInvariants(inv);
    expect(fleet.crashed()).toEqual([]);
    await record('5-postgres-restart', inv as unknown as Record<string, unknown>);
  }, 240_000);

  it('6. every client connection dropped at once (CLIENT KILL)', async () => {
    const redis = new OwnRedis(await freePort(), 'everysec');
    await redis.start();
    cleanups.push(() => redis.kill());
    const { deps, fleet, submit } = await setup({ redisUrl: redis.url });
    fleet.coordinator();
    for (const a of AGENTS) fleet.agent(a);
    const ids = await submit(WORKFLOWS, 'chaos-6');
    const admin = createRedis(redis.url, 'chaos-admin');
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 700));
      await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes').catch(() => {});
      await admin.client('KILL', 'TYPE', 'pubsub').catch(() => {});
    }
    admin.disconnect();
    await waitAllFinal(deps.db, ids, 180_000);
    const inv = await checkInvariants(deps.db, ids);
    expectInvariants(inv);
    expect(fleet.crashed()).toEqual([]);
    expect(await streamBacklog(deps.redis, deps.keys, AGENTS)).toBe(0);
    await record('6-client-kill', { ...inv, connectionDrops: 3 });
  }, 240_000);

  it('7. garbage entries written into every stream', async () => {
    const { deps, fleet, submit } = await setup();
    fleet.coordinator();
    for (const a of AGENTS) fleet.agent(a);
    const ids = await submit(WORKFLOWS, 'chaos-7');
    const streams = [
      deps.keys.results(),
      deps.keys.events(),
      deps.keys.deadLetters(),
      ...AGENTS.map((a) => deps.keys.agentTasks(a)),
    ];
    const garbage = [
      ['x', 'y'],
      ['v', '1', 'kind', 'result', 'cid', 'ok', 'tp', 'x', 'ts', '1', 'payload', '{not json'],
      [
        'v',
        '1',
        'kind',
        'result',
        'cid',
        'ok',
        'tp',
        'x',
        'ts',
        '1',
        'wf',
        'nope',
        'task',
        '0',
        'attempt',
        '1',
        'payload',
        '{"instance":"i","agent":"a","ok":true,"durationMs":1}',
      ],
      ['v', '9', 'kind', 'task', 'payload', '[]'],
    ];
    let written = 0;
    for (let round = 0; round < 5; round++) {
      for (const s of streams)
        for (const g of garbage) {
          await deps.redis.xadd(s, '*', ...g);
          written++;
        }
      await new Promise((r) => setTimeout(r, 300));
    }
    await waitAllFinal(deps.db, ids, 180_000);
    const inv = await checkInvariants(deps.db, ids);
    expectInvariants(inv);
    expect(fleet.crashed()).toEqual([]);
    const dl = await sql<{ n: number }>`SELECT count(*)::int AS n FROM dead_letters`.execute(deps.db);
    // Garbage on the task and results streams is dead-lettered (the events and dead-letter streams are not consumed as work).
    expect(Number(dl.rows[0]!.n)).toBeGreaterThanOrEqual(5 * garbage.length * 3);
    await record('7-garbage', { ...inv, garbageWritten: written, deadLetters: Number(dl.rows[0]!.n) });
  }, 240_000);

  it('8. a retry storm: half the attempts fail at random', async () => {
    const { deps, fleet, submit } = await setup();
    fleet.coordinator();
    for (const a of AGENTS) fleet.agent(a, { CHAOS_FAIL_RATE: '0.5' });
    const ids = await submit(WORKFLOWS, 'chaos-8');
    await waitAllFinal(deps.db, ids, 240_000);
    const inv = await checkInvariants(deps.db, ids);
    // Out of 7 attempts a task can still fail for good (0.5^7): those workflows fail or roll back, visibly.
    expectInvariants(inv, { allowFailed: true });
    expect(inv.statuses.completed).toBeGreaterThan(WORKFLOWS * 0.8);
    const retries = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM events WHERE type = 'task.retrying' AND workflow_id = ANY(${ids}::text[])`.execute(
      deps.db,
    );
    expect(Number(retries.rows[0]!.n)).toBeGreaterThan(WORKFLOWS / 2);
    expect(fleet.crashed()).toEqual([]);
    await record('8-retry-storm', { ...inv, retries: Number(retries.rows[0]!.n) });
  }, 300_000);

  it('3. the API killed mid-submission: every workflow a client got 202 for finishes', async () => {
    const { deps, fleet } = await setup();
    const port = await freePort();
    fleet.coordinator();
    for (const a of AGENTS) fleet.agent(a);
    const api = fleet.api(port);
    const base = `http://127.0.0.1:${port}`;
    const waitUp = async () => {
      for (let i = 0; i < 200; i++) {
        if (
          await fetch(`${base}/health`).then(
            (r) => r.ok,
            () => false,
          )
        )
          return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('API did not start');
    };
    await waitUp();
    const accepted: string[] = [];
    let refused = 0;
    const specs = mixedSpecs(Math.round(WORKFLOWS / 2));
    const client = (async () => {
      for (const [i, spec] of specs.entries()) {
        const id = `chaos3-${i}`;
        // A client that retries after an error: the workflow id makes the submission idempotent.
        for (let attempt = 0; attempt < 100; attempt++) {
          const res = await fetch(`${base}/api/workflows`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ ...(spec as object), id }),
          }).catch(() => null);
          if (res?.status === 202) {
            accepted.push(id);
            break;
          }
          refused++;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 1_500));
    await fleet.kill(api);
    await new Promise((r) => setTimeout(r, 500));
    fleet.api(port);
    await client;
    expect(accepted).toHaveLength(specs.length);
    await waitAllFinal(deps.db, accepted, 180_000);
    const inv = await checkInvariants(deps.db, accepted);
    expectInvariants(inv);
    const distinct = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM workflows WHERE id LIKE 'chaos3-%'`.execute(deps.db);
    expect(Number(distinct.rows[0]!.n)).toBe(specs.length);
    expect(fleet.crashed()).toEqual([]);
    await record('3-api-kill', { ...inv, refusedWhileDown: refused });
  }, 240_000);

  it('9. a slow SSE reader during a burst is dropped; the server and the work are unaffected', async () => {
    const { deps, fleet, submit } = await setup();
    // A small bound so the burst outgrows it whatever the kernel's socket buffers hold.
    fleet.env.HIVE_SSE_BUFFER_BYTES = '65536';
    const port = await freePort();
    fleet.coordinator();
    for (const a of AGENTS) fleet.agent(a);
    const api = fleet.api(port);
    const base = `http://127.0.0.1:${port}`;
    for (
      let i = 0;
      i < 200 &&
      !(await fetch(`${base}/health`).then(
        (r) => r.ok,
        () => false,
      ));
      i++
    )
      await new Promise((r) => setTimeout(r, 100));
    // A reader that never reads: the socket's receive window fills and the server must drop it.
    const net = await import('node:net');
    const slow = net.connect(port, '127.0.0.1');
    slow.write(`GET /api/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`);
    slow.pause();
    const closed = new Promise<boolean>((r) => slow.on('close', () => r(true)));
    const ids = await submit(WORKFLOWS, 'chaos-9');
    // The burst: 12 MB of events on top of the workflows' own, more than the kernel's socket buffers can hide.
    const blob = 'x'.repeat(4_000);
    for (let i = 0; i < 30; i++) {
      const events = await deps.db.transaction().execute((tx) =>
        insertEvents(
          tx,
          Array.from({ length: 100 }, (_, n) => ({
            type: 'agent.online' as const,
            correlationId: 'chaos-9-burst',
            agent: 'backend_agent',
            data: { n, blob },
          })),
        ),
      );
      await publishEvents(deps.redis, deps.keys, events);
    }
    await waitAllFinal(deps.db, ids, 240_000);
    const inv = await checkInvariants(deps.db, ids);
    expectInvariants(inv);
    // The server drops a client that reads nothing for LIVE_STALL_MS while over the bound. The work can finish
    // sooner than that: wait for the drop to be counted before reading again (a client that reads is kept).
    const droppedCount = async () => {
      const text = await fetch(`${base}/metrics`).then((r) => r.text());
      return Number(/^hive_live_clients_dropped_total (\d+)/m.exec(text)?.[1] ?? 0);
    };
    for (let i = 0; i < 200 && (await droppedCount()) === 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    // A paused socket reports its close only once its unread bytes are consumed: resume it now and wait.
    slow.resume();
    const dropped = await Promise.race([
      closed,
      new Promise<boolean>((r) => setTimeout(() => r(false), 10_000)),
    ]);
    slow.destroy();
    expect(dropped).toBe(true);
    expect(api.child.exitCode).toBeNull();
    expect((await fetch(`${base}/ready`)).status).toBe(200);
    expect(fleet.crashed()).toEqual([]);
    // The live stream is capped by entry count, and the burst's 30 entries of 400 KB stay among its last 200:
    // measured exactly (every node), that stream alone holds 17.4-17.7 MB after this scenario, so the bound here
    // is the usual one plus the burst.
    await record(
      '9-slow-sse-reader',
      { ...inv, slowReaderDropped: dropped },
      MEMORY_BOUND_BYTES + 12 * 1024 * 1024,
    );
  }, 300_000);
});
