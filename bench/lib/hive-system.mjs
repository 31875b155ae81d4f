// A Hive under benchmark: temp database, coordinator(s), SDK agents in a child process, and a live-event
// listener that sees each workflow end the way a client would (the capped live stream).
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Keys } from '../../dist/bus/keys.js';
import { createRedis } from '../../dist/bus/redis.js';
import { parseConfig } from '../../dist/core/config-file.js';
import { createLogger } from '../../dist/core/logger.js';
import { Coordinator } from '../../dist/engine/coordinator.js';
import { eventsFromStreamFields } from '../../dist/engine/events.js';
import { submitWorkflows } from '../../dist/engine/submit.js';
import { openStore } from '../../dist/store/database.js';
import { migrateUp } from '../../dist/store/migrator.js';
import { REDIS_URL, tempDatabase } from './common.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const RAW_CONFIG = {
  agents: {
    backend_agent: { capabilities: ['api_creation'], runner: 'sdk', instances: 0 },
    frontend_agent: { capabilities: ['ui_integration'], runner: 'sdk', instances: 0 },
  },
};
export const TWO_STEP = {
  tasks: [
    { type: 'api_creation', agent: 'backend_agent' },
    { type: 'ui_integration', agent: 'frontend_agent' },
  ],
};

function waitForMessage(child, message) {
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
    child.on('message', (m) => m === message && resolve());
  });
}

export async function startHiveSystem({
  concurrency = 50,
  coordinators = 1,
  logLevel = 'silent',
  agentLogs = false,
} = {}) {
  // HIVE_BENCH_EMBEDDED=1: the embedded default, PGlite in this process (memory://), instead of a PostgreSQL database.
  const embedded = process.env.HIVE_BENCH_EMBEDDED === '1';
  if (embedded && coordinators > 1)
    throw new Error('coordinators in other processes need PostgreSQL, not PGlite');
  const db = embedded ? { drop: async () => {} } : await tempDatabase();
  const store = await openStore(embedded ? { pgliteDir: 'memory://' } : { url: db.url, poolSize: 10 });
  await migrateUp(store.db);
  const prefix = `hivebench-${randomBytes(4).toString('hex')}`;
  const redis = createRedis(REDIS_URL, 'bench');
  const config = parseConfig(RAW_CONFIG);
  const logger = createLogger({ level: logLevel });
  const deps = { db: store.db, redis, keys: new Keys(prefix), config, logger };
  const connections = [];
  const connect = (name) => {
    const c = createRedis(REDIS_URL, name);
    connections.push(c);
    return c;
  };
  const coordProcs = [];
  let inProcess;
  if (coordinators === 1) {
    inProcess = new Coordinator(deps, { connect });
    await inProcess.start();
  } else {
    const dir = mkdtempSync(path.join(tmpdir(), 'hive-bench-'));
    const file = path.join(dir, 'hive.yaml');
    writeFileSync(file, JSON.stringify(RAW_CONFIG));
    for (let i = 0; i < coordinators; i++) {
      coordProcs.push(
        fork(path.join(ROOT, 'bin/hive'), ['up', '--role', 'coordinator', '--config', file], {
          env: {
            ...process.env,
            HIVE_KEY_PREFIX: prefix,
            HIVE_DATABASE_URL: db.url,
            HIVE_REDIS_URL: REDIS_URL,
            HIVE_LOG_LEVEL: 'warn',
          },
          stdio: 'inherit',
        }),
      );
    }
    await new Promise((r) => setTimeout(r, 1500));
  }
  const agents = fork(
    path.join(ROOT, 'bench/lib/hive-agents-process.mjs'),
    [prefix, String(concurrency), 'backend_agent', 'frontend_agent'],
    {
      env: { ...process.env, HIVE_REDIS_URL: REDIS_URL, HIVE_BENCH_AGENT_LOGS: agentLogs ? '1' : '' },
      stdio: 'inherit',
    },
  );
  await waitForMessage(agents, 'ready');

  // Client view: workflow.completed arrives through the live stream.
  const completedAt = new Map();
  const startedAtByTask = [];
  const listener = connect('bench-listener');
  let listening = true;
  let lastId = '$';
  const onEvent = [];
  const listen = (async () => {
    while (listening) {
      const res = await listener
        .xread('COUNT', 1000, 'BLOCK', 200, 'STREAMS', deps.keys.events(), lastId)
        .catch(() => null);
      if (!res) continue;
      for (const [id, fields] of res[0][1]) {
        lastId = id;
        const now = performance.now();
        for (const e of eventsFromStreamFields(fields)) {
          if (e.type === 'workflow.completed') completedAt.set(e.workflowId, now);
          if (e.type === 'task.started' && typeof e.data?.queuedToStartedMs === 'number')
            startedAtByTask.push(e.data.queuedToStartedMs);
          for (const f of onEvent) f(e, now);
        }
      }
    }
  })();

  return {
    deps,
    prefix,
    completedAt,
    startedAtByTask,
    onEvent,
    submit: (specs, correlationId) => submitWorkflows(deps, specs, { correlationId }),
    async waitAll(ids, timeoutMs = 600_000) {
      const deadline = Date.now() + timeoutMs;
      while (ids.some((id) => !completedAt.has(id))) {
        if (Date.now() > deadline)
          throw new Error(
            `timed out: ${ids.filter((id) => !completedAt.has(id)).length} workflows not completed`,
          );
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    async redisMemory() {
      const info = await redis.info('memory');
      return Number(/used_memory:(\d+)/.exec(info)?.[1]);
    },
    async dbSize() {
      const r = await store.db
        .selectNoFrom((eb) => eb.fn('pg_database_size', [eb.fn('current_database', [])]).as('s'))
        .executeTakeFirst();
      return Number(r.s);
    },
    async stop() {
      listening = false;
      await listen;
      agents.send('stop');
      await new Promise((r) => agents.once('exit', r));
      for (const p of coordProcs) p.kill('SIGTERM');
      await Promise.all(
        coordProcs.map((p) => new Promise((r) => (p.exitCode !== null ? r() : p.once('exit', r)))),
      );
      if (inProcess) await inProcess.close();
      for (const c of connections) c.disconnect();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== '0');
      redis.disconnect();
      await store.close();
      await db.drop();
    },
  };
}
