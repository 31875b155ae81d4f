import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ioredisPipeline, PIPELINE_FIELDS } from '../../src/bus/lean-pipeline.js';
import { cleanupPrefix, REDIS_URL, testPrefix, testRedis } from '../helpers/redis.js';

const run = promisify(execFile);
const prefix = testPrefix();
const redis = testRedis('lean-pipeline-test');

afterAll(async () => {
  await cleanupPrefix(redis, prefix);
  redis.disconnect();
});

interface Churn {
  pipelines: number;
  failed: number;
  scavenges: number;
  survivedBytes: number;
}

/** A child run of test/fixtures/pipeline-churn.mjs: lean pipelines churned under --trace-gc-nvp, summed up. */
async function churnLeanPipelines(): Promise<Churn> {
  const fixture = path.resolve(import.meta.dirname, '../fixtures/pipeline-churn.mjs');
  const { stdout } = await run(process.execPath, [fixture, REDIS_URL, 'lean', prefix, '3']);
  return JSON.parse(stdout) as Churn;
}

describe('lean pipelines', () => {
  it('set the fields ioredis sets, with length shared instead of one accessor per pipeline', () => {
    const theirs = ioredisPipeline(redis);
    const ours = redis.pipeline();
    const own = (o: object) => Object.keys(o).sort();
    // A new ioredis that sets another field fails here before a lean pipeline goes out without it.
    expect(own(ours)).toEqual(own(theirs));
    expect(own(ours)).toEqual([...PIPELINE_FIELDS].sort());
    expect(Object.getOwnPropertyDescriptor(theirs, 'length')?.get).toBeTypeOf('function');
    expect(Object.getOwnPropertyDescriptor(ours, 'length')).toBeUndefined();
    expect(Object.getPrototypeOf(Object.getPrototypeOf(ours))).toBe(Object.getPrototypeOf(theirs));
    ours.set(`${prefix}:a`, '1').get(`${prefix}:a`);
    expect(ours.length).toBe(2);
  });

  it('answer each command with its reply or its own error, in order', async () => {
    const key = `${prefix}:list`;
    await redis.rpush(key, 'x');
    const replies = await redis
      .pipeline()
      .set(`${prefix}:s`, 'v')
      .get(`${prefix}:s`)
      .incr(key) // WRONGTYPE: this command fails, the others do not
      .lrange(key, 0, -1)
      .exec();
    expect(replies?.[0]).toEqual([null, 'OK']);
    expect(replies?.[1]).toEqual([null, 'v']);
    expect(replies?.[2]?.[0]).toBeInstanceOf(Error);
    expect(String(replies?.[2]?.[0])).toMatch(/WRONGTYPE/);
    expect(replies?.[3]).toEqual([null, ['x']]);
    expect(await redis.pipeline().exec()).toEqual([]);
  });

  it('carry the connection’s own commands (defineCommand) and take a batch', async () => {
    const local = testRedis('lean-pipeline-script');
    local.defineCommand('hiveDouble', {
      numberOfKeys: 1,
      lua: 'return redis.call("INCRBY", KEYS[1], ARGV[1]) * 2',
    });
    const batch = local.pipeline([['set', `${prefix}:n`, '5']]) as unknown as {
      hiveDouble(key: string, by: number): unknown;
      exec(): Promise<[Error | null, unknown][]>;
    };
    batch.hiveDouble(`${prefix}:n`, 2);
    expect(await batch.exec()).toEqual([
      [null, 'OK'],
      [null, 14],
    ]);
    local.disconnect();
  });

  it('serve auto-pipelining: commands of one tick go out through one lean pipeline', async () => {
    const local = testRedis('lean-pipeline-auto');
    await local.ping();
    let built = 0;
    const build = local.pipeline.bind(local);
    local.pipeline = ((...args: Parameters<typeof build>) => {
      built++;
      return build(...args);
    }) as typeof local.pipeline;
    const keys = Array.from({ length: 20 }, (_, i) => `${prefix}:auto:${i}`);
    await Promise.all(keys.map((k, i) => local.set(k, String(i))));
    expect(await Promise.all(keys.map((k) => local.get(k)))).toEqual(keys.map((_, i) => String(i)));
    expect(built).toBeGreaterThan(0);
    expect(built).toBeLessThanOrEqual(4);
    local.disconnect();
  });

  it('wait through a reconnect instead of failing', async () => {
    const local = testRedis('lean-pipeline-reconnect');
    await local.ping();
    local.disconnect(true);
    const replies = await local.pipeline().set(`${prefix}:r`, 'after').get(`${prefix}:r`).exec();
    expect(replies).toEqual([
      [null, 'OK'],
      [null, 'after'],
    ]);
    local.disconnect();
  });

  it('leave nothing for the scavenger to copy: garbage pipelines die young', async () => {
    // ioredis's own pipelines on the same workload keep ~3.4 MB alive across each scavenge (see lean-pipeline.ts).
    const lean = await churnLeanPipelines();
    expect(lean.failed).toBe(0);
    expect(lean.scavenges).toBeGreaterThan(3);
    expect(lean.pipelines).toBeGreaterThan(1_000);
    expect(lean.survivedBytes).toBeLessThan(1024 * 1024);
  });
});
