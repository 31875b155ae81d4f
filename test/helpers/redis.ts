import { randomBytes } from 'node:crypto';
import { createRedis, type Redis } from '../../src/bus/redis.js';

export const REDIS_URL = process.env.HIVE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A random key prefix per test file, so tests share the machine's Redis without seeing each other's keys. */
export function testPrefix(): string {
  return `hivetest-${randomBytes(5).toString('hex')}`;
}

/** Deletes every key under the prefix. */
export async function cleanupPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

export function testRedis(name = 'test'): Redis {
  return createRedis(REDIS_URL, name);
}
