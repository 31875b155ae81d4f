import { Keys } from '../../src/bus/keys.js';
import { createRedis, type Redis } from '../../src/bus/redis.js';
import { type HiveConfig, parseConfig } from '../../src/core/config-file.js';
import { createLogger } from '../../src/core/logger.js';
import { Coordinator } from '../../src/engine/coordinator.js';
import type { EngineDeps } from '../../src/engine/deps.js';
import { createPostgresDatabase, type TestDatabase } from './databases.js';
import { cleanupPrefix, REDIS_URL, testPrefix } from './redis.js';

export interface EngineHarness {
  db: TestDatabase;
  deps: EngineDeps;
  prefix: string;
  redis: Redis;
  config: HiveConfig;
  startCoordinator(): Promise<Coordinator>;
  connect(name: string): Redis;
  close(): Promise<void>;
}

/** Real PostgreSQL database + real Redis under a random prefix, with a config built in code. */
export async function engineHarness(
  rawConfig: unknown,
  opts: { db?: TestDatabase } = {},
): Promise<EngineHarness> {
  const db = opts.db ?? (await createPostgresDatabase());
  const prefix = testPrefix();
  const redis = createRedis(REDIS_URL, 'test-harness');
  const config = parseConfig(rawConfig, process.cwd());
  const logger = createLogger({ level: process.env.HIVE_TEST_LOG_LEVEL ?? 'silent' });
  const deps: EngineDeps = { db: db.store.db, redis, keys: new Keys(prefix), config, logger };
  const connections: Redis[] = [];
  const coordinators: Coordinator[] = [];
  const connect = (name: string) => {
    const c = createRedis(REDIS_URL, name);
    connections.push(c);
    return c;
  };
  return {
    db,
    deps,
    prefix,
    redis,
    config,
    connect,
    async startCoordinator() {
      const c = new Coordinator(deps, { connect, sweepIntervalMs: 100, claimIdleMs: 3_000 });
      await c.start();
      coordinators.push(c);
      return c;
    },
    async close() {
      await Promise.allSettled(coordinators.map((c) => c.close()));
      for (const c of connections) c.disconnect();
      await cleanupPrefix(redis, prefix);
      redis.disconnect();
      await db.drop();
    },
  };
}

/** Polls until `check` returns a truthy value (real work takes real time; no fixed sleeps). */
export async function waitFor<T>(
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const FINAL = ['completed', 'failed', 'cancelled', 'rolled_back', 'rollback_failed'];

export async function waitForWorkflow(
  h: EngineHarness,
  id: string,
  timeoutMs = 30_000,
): Promise<{ status: string; error: unknown }> {
  return waitFor(
    async () => {
      const row = await h.deps.db
        .selectFrom('workflows')
        .select(['status', 'error'])
        .where('id', '=', id)
        .executeTakeFirst();
      return row && FINAL.includes(row.status) ? row : undefined;
    },
    timeoutMs,
    `workflow ${id} to end`,
  );
}
