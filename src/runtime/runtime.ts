import path from 'node:path';
import { Keys } from '../bus/keys.js';
import { resolveRedisUrl } from '../bus/managed-redis.js';
import { createRedis, type Redis } from '../bus/redis.js';
import { type HiveEnv, loadEnv } from '../core/config-env.js';
import { type HiveConfig, loadConfigFile } from '../core/config-file.js';
import { createLogger, type Logger, setRootLogger } from '../core/logger.js';
import { openStore, type Store } from '../store/database.js';
import { migrateUp } from '../store/migrator.js';
import { waitForDatabase } from '../store/wait-for-database.js';
import { initTracing, shutdownTracing } from '../telemetry/tracing.js';

export interface Runtime {
  readonly env: HiveEnv;
  readonly config: HiveConfig;
  readonly keys: Keys;
  readonly logger: Logger;
  readonly redisUrl: string;
  readonly store?: Store;
  /** A new Redis connection, closed by close(). */
  redis(name: string): Redis;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  /** Open (and migrate to head) the database; agents need only Redis. */
  needDb?: boolean;
  needRedis?: boolean;
  /** Migrate the database to head when opening it (default true; `hive migrate` opens it without). */
  migrate?: boolean;
  logger?: Logger;
}

/**
 * Boot: the environment and hive.yaml validated once (every problem reported together), then the
 * connections this process needs. Everything downstream receives these values; nothing re-reads process.env.
 */
export async function createRuntime(opts: RuntimeOptions = {}): Promise<Runtime> {
  const env = loadEnv(opts.env ?? process.env);
  const config = loadConfigFile(opts.configPath ? path.resolve(opts.configPath) : env.HIVE_CONFIG);
  const logger = opts.logger ?? createLogger({ level: env.HIVE_LOG_LEVEL });
  setRootLogger(logger);
  const closers: (() => Promise<void> | void)[] = [];
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT) {
    initTracing('hive', env.OTEL_EXPORTER_OTLP_ENDPOINT);
    closers.push(shutdownTracing);
  }
  const connections: Redis[] = [];
  let redisUrl = env.HIVE_REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (opts.needRedis !== false) {
    const resolved = await resolveRedisUrl({ env, logger });
    redisUrl = resolved.url;
    if (resolved.stop) closers.push(resolved.stop);
  }
  let store: Store | undefined;
  if (opts.needDb) {
    store = await openStore({ url: env.HIVE_DATABASE_URL, pgliteDir: path.join(env.HIVE_HOME, 'pgdata') });
    closers.unshift(() => store!.close());
    try {
      if (store.kind === 'postgres')
        await waitForDatabase(store.db, {
          timeoutMs: env.HIVE_DB_WAIT_MS,
          location: store.location,
          logger,
        });
      if (opts.migrate !== false) await migrateUp(store.db);
    } catch (err) {
      // Nothing else of this process runs: what was opened so far (a Redis it started, tracing) closes.
      for (const close of closers) await Promise.resolve(close()).catch(() => {});
      throw err;
    }
  }
  return {
    env,
    config,
    keys: new Keys(env.HIVE_KEY_PREFIX),
    logger,
    redisUrl,
    ...(store ? { store } : {}),
    redis(name: string) {
      const c = createRedis(redisUrl, name);
      connections.push(c);
      return c;
    },
    async close() {
      for (const c of connections) c.disconnect();
      for (const close of closers) await close();
    },
  };
}
