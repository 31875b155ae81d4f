import { rmSync } from 'node:fs';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/bus/keys.js';
import { parseConfig } from '../../src/core/config-file.js';
import { createLogger } from '../../src/core/logger.js';
import { submitWorkflow } from '../../src/engine/submit.js';
import { type RunningAgent, runAgent } from '../../src/sdk/index.js';
import { openStore, type Store } from '../../src/store/database.js';
import { headVersion } from '../../src/store/migrator.js';
import { waitForDatabase } from '../../src/store/wait-for-database.js';
import { freePort, OwnPostgres } from '../helpers/chaos.js';
import { PG_ADMIN_URL } from '../helpers/databases.js';
import { waitFor } from '../helpers/engine.js';
import { type HiveProcess, startHive, stopAll, writeConfig } from '../helpers/processes.js';
import { cleanupPrefix, REDIS_URL, testPrefix, testRedis } from '../helpers/redis.js';

const RAW_CONFIG = {
  agents: { backend_agent: { capabilities: ['api_creation'], runner: 'sdk', instances: 0 } },
};
const logger = createLogger({ level: process.env.HIVE_TEST_LOG_LEVEL ?? 'silent' });

/** A process started before its PostgreSQL server waits for it (HIVE_DB_WAIT_MS) instead of exiting. */
describe('waiting for PostgreSQL at start', () => {
  const procs: HiveProcess[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    await stopAll(procs);
    for (const c of cleanups.reverse()) await c();
  });

  it('a coordinator started before its server waits, migrates once it is up, and runs workflows', async () => {
    const server = new OwnPostgres(await freePort());
    server.init();
    cleanups.push(() => rmSync(server.dir, { recursive: true, force: true }));
    const prefix = testPrefix();
    const coordinator = startHive(['up', '--role', 'coordinator', '--config', writeConfig(RAW_CONFIG)], {
      HIVE_DATABASE_URL: server.url,
      HIVE_KEY_PREFIX: prefix,
      HIVE_DB_WAIT_MS: '60000',
      HIVE_LOG_LEVEL: 'info',
    });
    procs.push(coordinator);
    // The process is up and waiting (it says so) before the server exists.
    await waitFor(async () => coordinator.output().includes('waiting for PostgreSQL'), 20_000);
    expect(coordinator.child.exitCode).toBeNull();
    server.start();
    cleanups.push(() => server.stopImmediate());

    let store: Store | undefined;
    let agent: RunningAgent | undefined;
    const redis = testRedis();
    cleanups.push(async () => {
      await agent?.close();
      await store?.close();
      await cleanupPrefix(redis, prefix);
      redis.disconnect();
    });
    store = await openStore({ url: server.url, poolSize: 2 });
    const db = store.db;
    // It migrated the new server, to the last migration (each commits on its own: the first one's tables exist
    // before the last one's functions do)...
    // (Read without the migrator's own helper, which would create its table while the coordinator migrates.)
    const applied = async () =>
      Number(
        (
          await sql<{ v: number | null }>`SELECT max(version) AS v FROM hive_schema_migrations`
            .execute(db)
            .catch(() => undefined)
        )?.rows[0]?.v ?? 0,
      );
    await waitFor(async () => (await applied()) === headVersion(), 30_000);
    // ...and it is the coordinator of a workflow run end to end.
    agent = await runAgent({
      name: 'backend_agent',
      redisUrl: REDIS_URL,
      keyPrefix: prefix,
      logger,
      handle: async () => ({ ok: true }),
    });
    const deps = { db, redis, keys: new Keys(prefix), config: parseConfig(RAW_CONFIG), logger };
    const { id } = await submitWorkflow(
      deps,
      { tasks: [{ type: 'api_creation', agent: 'backend_agent' }] },
      { correlationId: 'db-wait-1' },
    );
    const wf = await waitFor(async () => {
      const row = await db.selectFrom('workflows').select('status').where('id', '=', id).executeTakeFirst();
      return row?.status === 'completed' ? row : undefined;
    }, 30_000);
    expect(wf.status).toBe('completed');
    expect(coordinator.output()).toContain('is up');
    expect(coordinator.child.exitCode).toBeNull();
  });

  it('gives up after HIVE_DB_WAIT_MS with HIVE_ERR_DB_UNAVAILABLE when nothing answers', async () => {
    const port = await freePort();
    const started = Date.now();
    const coordinator = startHive(['up', '--role', 'coordinator', '--config', writeConfig(RAW_CONFIG)], {
      HIVE_DATABASE_URL: `postgres://hive:secret@127.0.0.1:${port}/hive`,
      HIVE_KEY_PREFIX: testPrefix(),
      HIVE_DB_WAIT_MS: '1500',
    });
    procs.push(coordinator);
    expect(await coordinator.exited).toBe(1);
    const out = coordinator.output();
    expect(out).toContain(`PostgreSQL at postgres://hive:***@127.0.0.1:${port}/hive did not answer within`);
    expect(out).toContain('ECONNREFUSED');
    expect(out).not.toContain('secret');
    // It waited (more than one try), but not much past its bound.
    expect(out).toContain('waiting for PostgreSQL');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it('fails at once on what waiting cannot change (a database that does not exist)', async () => {
    const url = new URL(PG_ADMIN_URL);
    url.pathname = '/hive_no_such_database';
    const store = await openStore({ url: url.toString(), poolSize: 1 });
    try {
      const started = Date.now();
      const err = await waitForDatabase(store.db, {
        timeoutMs: 60_000,
        location: url.toString(),
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'HIVE_ERR_DB_UNAVAILABLE' });
      expect(String((err as Error).message)).toContain('"hive_no_such_database" does not exist');
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await store.close();
    }
  });

  it('tries once when HIVE_DB_WAIT_MS is 0', async () => {
    const port = await freePort();
    const store = await openStore({ url: `postgres://root@127.0.0.1:${port}/x`, poolSize: 1 });
    try {
      const err = await waitForDatabase(store.db, { timeoutMs: 0, location: 'here' }).catch(
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'HIVE_ERR_DB_UNAVAILABLE' });
      expect(String((err as Error).message)).toContain('did not answer within 0 s');
    } finally {
      await store.close();
    }
  });
});

// The machine's own server answers at once: no wait, no log line.
it('returns at once when the server is up', async () => {
  const store = await openStore({ url: PG_ADMIN_URL, poolSize: 1 });
  const lines: string[] = [];
  try {
    await waitForDatabase(store.db, {
      timeoutMs: 5_000,
      location: 'up',
      logger: createLogger({ level: 'info', destination: { write: (l: string) => lines.push(l) } }),
    });
    expect(lines).toEqual([]);
  } finally {
    await store.close();
  }
});
