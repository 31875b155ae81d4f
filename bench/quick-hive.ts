// Quick in-process throughput probe used while optimizing (the real suite is bench/run.mjs).
import { Keys } from '../src/bus/keys.js';
import { createRedis } from '../src/bus/redis.js';
import { parseConfig } from '../src/core/config-file.js';
import { createLogger } from '../src/core/logger.js';
import { Coordinator } from '../src/engine/coordinator.js';
import { submitWorkflows } from '../src/engine/submit.js';
import { runAgent } from '../src/sdk/index.js';
import { createPostgresDatabase } from '../test/helpers/databases.js';
import { cleanupPrefix, REDIS_URL, testPrefix } from '../test/helpers/redis.js';

const N = Number(process.env.N ?? 2000);
const db = await createPostgresDatabase();
const prefix = testPrefix();
const redis = createRedis(REDIS_URL, 'bench');
const config = parseConfig({
  agents: {
    backend_agent: { capabilities: ['api_creation'], runner: 'sdk', instances: 0 },
    frontend_agent: { capabilities: ['ui_integration'], runner: 'sdk', instances: 0 },
  },
});
const logger = createLogger({ level: 'silent' });
const deps = { db: db.store.db, redis, keys: new Keys(prefix), config, logger };
const coord = new Coordinator(deps, { connect: (n) => createRedis(REDIS_URL, n) });
await coord.start();
const agents = await Promise.all(
  ['backend_agent', 'frontend_agent'].map((name) =>
    runAgent({
      name,
      concurrency: 50,
      redisUrl: REDIS_URL,
      keyPrefix: prefix,
      logger,
      handle: async () => ({ ok: true }),
    }),
  ),
);
const spec = {
  tasks: [
    { type: 'api_creation', agent: 'backend_agent' },
    { type: 'ui_integration', agent: 'frontend_agent' },
  ],
};
const t0 = performance.now();
for (let i = 0; i < N; i += 100)
  await submitWorkflows(
    deps,
    Array.from({ length: Math.min(100, N - i) }, () => spec),
    { correlationId: `bench-${i}` },
  );
const tSubmit = performance.now();
for (;;) {
  const r = await db.store.db
    .selectFrom('workflows')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', 'completed')
    .executeTakeFirst();
  if (Number(r?.n) >= N) break;
  await new Promise((r) => setTimeout(r, 20));
}
const t1 = performance.now();
console.log(
  `submitted ${N} in ${(tSubmit - t0).toFixed(0)} ms; all completed in ${(t1 - t0).toFixed(0)} ms → ${(N / ((t1 - t0) / 1000)).toFixed(0)} workflows/s`,
);
await Promise.all(agents.map((a) => a.close()));
await coord.close();
await cleanupPrefix(redis, prefix);
redis.disconnect();
await db.drop();
process.exit(0);
