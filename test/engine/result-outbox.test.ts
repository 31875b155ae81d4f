import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultOutbox } from '../../src/agents/result-outbox.js';
import { WORKER_GROUP } from '../../src/bus/keys.js';
import type { Redis } from '../../src/bus/redis.js';
import { ensureGroup, readGroup } from '../../src/bus/stream-reader.js';
import { cleanupPrefix, testPrefix, testRedis } from '../helpers/redis.js';

/**
 * The agent's outbox on a real Redis: what one turn of the event loop produces goes out together, a `started`
 * overtaken by its result in the same turn is not sent, and only entries whose result went out are acknowledged.
 */
describe('result outbox', () => {
  let redis: Redis;
  const prefix = testPrefix();
  const tasks = `${prefix}:tasks`;
  const results = `${prefix}:results`;

  beforeAll(async () => {
    redis = testRedis('outbox-test');
    await ensureGroup(redis, tasks, WORKER_GROUP);
  });
  afterAll(async () => {
    await cleanupPrefix(redis, prefix);
    redis.disconnect();
  });

  /** Puts `n` entries in the task stream and delivers them to a consumer, as XREADGROUP does for an agent. */
  async function delivered(n: number): Promise<string[]> {
    for (let i = 0; i < n; i++) await redis.xadd(tasks, '*', 'n', String(i));
    const entries = await readGroup(redis, tasks, WORKER_GROUP, 'c1', n, 100);
    return entries.map((e) => e[0]);
  }
  const sent = async () =>
    ((await redis.xrange(results, '-', '+')) as [string, string[]][]).map(([, f]) => `${f[1]}:${f[3]}`);

  it('folds a started message into a result made in the same turn, and acknowledges the entry', async () => {
    const [a, b] = await delivered(2);
    const outbox = new ResultOutbox(redis, results, tasks);
    outbox.started(a!, () => ['kind', 'started', 'entry', a!]);
    outbox.started(b!, () => ['kind', 'started', 'entry', b!]);
    // a ends within the turn; b is still running when the turn's batch goes out.
    await outbox.result(a!, ['kind', 'result', 'entry', a!]);
    expect(await sent()).toEqual([`started:${b}`, `result:${a}`]);
    const pending = (await redis.xpending(tasks, WORKER_GROUP, '-', '+', 10)) as [string][];
    expect(pending.map((p) => p[0])).toEqual([b]);
    expect(await redis.xlen(tasks)).toBe(1);
    // b ends in a later turn: its started already went out, so now only its result does.
    await outbox.result(b!, ['kind', 'result', 'entry', b!]);
    expect(await sent()).toEqual([`started:${b}`, `result:${a}`, `result:${b}`]);
    expect(await redis.xpending(tasks, WORKER_GROUP, '-', '+', 10)).toEqual([]);
    expect(await redis.xlen(tasks)).toBe(0);
  });

  it('writes many results of one turn with one XACK and one XDEL for all of them', async () => {
    await redis.del(results);
    const ids = await delivered(50);
    // The commands the outbox queues on the real connection's pipelines, counted on their way to Redis.
    const queued: string[] = [];
    const counting = new Proxy(redis, {
      get(target, key, receiver) {
        if (key !== 'pipeline') return Reflect.get(target, key, receiver);
        return () => {
          const p = target.pipeline();
          for (const cmd of ['xadd', 'xack', 'xdel'] as const) {
            const original = p[cmd].bind(p) as (...args: unknown[]) => typeof p;
            (p as unknown as Record<string, unknown>)[cmd] = (...args: unknown[]) => {
              queued.push(cmd);
              return original(...args);
            };
          }
          return p;
        };
      },
    });
    const outbox = new ResultOutbox(counting, results, tasks);
    await Promise.all(ids.map((id) => outbox.result(id, ['kind', 'result', 'entry', id])));
    expect(queued.filter((c) => c === 'xadd')).toHaveLength(50);
    expect(queued.filter((c) => c === 'xack')).toHaveLength(1);
    expect(queued.filter((c) => c === 'xdel')).toHaveLength(1);
    expect(await sent()).toEqual(ids.map((id) => `result:${id}`));
    expect(await redis.xpending(tasks, WORKER_GROUP, '-', '+', 100)).toEqual([]);
    expect(await redis.xlen(tasks)).toBe(0);
  });
  it('keeps log lines before the result that follows them, in one turn', async () => {
    await redis.del(results);
    const [a] = await delivered(1);
    const outbox = new ResultOutbox(redis, results, tasks);
    const logged = outbox.log(['kind', 'log', 'entry', a!]);
    await outbox.result(a!, ['kind', 'result', 'entry', a!]);
    await logged;
    expect(await sent()).toEqual([`log:${a}`, `result:${a}`]);
  });

  it('does not acknowledge an entry whose result Redis refused', async () => {
    const [a] = await delivered(1);
    // A results key Redis refuses to XADD to (another type), as a Redis at maxmemory refuses writes.
    const refused = `${prefix}:refused`;
    await redis.set(refused, 'not a stream');
    const outbox = new ResultOutbox(redis, refused, tasks);
    await expect(outbox.result(a!, ['kind', 'result', 'entry', a!])).rejects.toThrow(/WRONGTYPE/);
    const pending = (await redis.xpending(tasks, WORKER_GROUP, '-', '+', 10)) as [string][];
    expect(pending.map((p) => p[0])).toEqual([a]);
    expect(await redis.xlen(tasks)).toBe(1);
  });
});
