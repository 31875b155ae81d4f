import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { stringify } from 'yaml';
import { Keys } from '../../src/bus/keys.js';
import { createRedis, type Redis } from '../../src/bus/redis.js';
import { parseConfig } from '../../src/core/config-file.js';
import { createLogger } from '../../src/core/logger.js';
import type { EngineDeps } from '../../src/engine/deps.js';
import type { Db } from '../../src/store/database.js';
import { HIVE_BIN, ROOT } from './processes.js';

export const ENGINE = {
  visibilityTimeoutMs: 2_000,
  claimIntervalMs: 250,
  heartbeatMs: 500,
  lostAfterMs: 3_000,
  retryBaseMs: 20,
  retryMaxMs: 200,
  maxDeliveries: 10,
};

export const CHAOS_CONFIG = {
  agents: {
    backend_agent: { capabilities: ['api_creation', 'api_revert'], runner: 'sdk', instances: 0, retries: 6 },
    frontend_agent: {
      capabilities: ['ui_integration', 'ui_revert'],
      runner: 'sdk',
      instances: 0,
      retries: 6,
    },
  },
  commands: [],
  engine: ENGINE,
};

/** Mixed shapes: sequential pairs, fan-out/fan-in graphs, and pairs with compensation. */
export function mixedSpecs(n: number): unknown[] {
  return Array.from({ length: n }, (_, i) => {
    if (i % 3 === 0) return { tasks: [{ type: 'api_creation' }, { type: 'ui_integration' }] };
    if (i % 3 === 1) {
      return {
        tasks: [
          { id: 'root', type: 'api_creation', dependsOn: [] },
          { id: 'a', type: 'ui_integration', dependsOn: ['root'] },
          { id: 'b', type: 'api_creation', dependsOn: ['root'] },
          { id: 'c', type: 'ui_integration', dependsOn: ['root'] },
          { id: 'join', type: 'api_creation', dependsOn: ['a', 'b', 'c'] },
        ],
      };
    }
    return {
      tasks: [
        { type: 'api_creation', compensate: { type: 'api_revert' } },
        { type: 'ui_integration', compensate: { type: 'ui_revert' } },
      ],
    };
  });
}

export const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

export interface Proc {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  killedByTest: boolean;
  output: () => string;
}

export class Fleet {
  readonly procs: Proc[] = [];
  readonly configFile: string;
  constructor(
    readonly env: Record<string, string>,
    config: unknown = CHAOS_CONFIG,
  ) {
    const dir = mkdtempSync(path.join(tmpdir(), 'hive-chaos-'));
    this.configFile = path.join(dir, 'hive.yaml');
    writeFileSync(this.configFile, stringify(config));
  }

  private start(name: string, args: string[], extraEnv: Record<string, string> = {}): Proc {
    let out = '';
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: {
        ...process.env,
        HIVE_LOG_LEVEL: 'warn',
        CHAOS_ENGINE: JSON.stringify(ENGINE),
        ...this.env,
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (out = (out + d).slice(-20_000)));
    child.stderr!.on('data', (d) => (out = (out + d).slice(-20_000)));
    const p: Proc = {
      name,
      child,
      killedByTest: false,
      output: () => out,
      exited: new Promise((r) => child.on('exit', (code) => r(code))),
    };
    this.procs.push(p);
    return p;
  }

  coordinator(): Proc {
    return this.start('coordinator', [HIVE_BIN, 'up', '--role', 'coordinator', '--config', this.configFile]);
  }

  api(port: number): Proc {
    return this.start('api', [
      HIVE_BIN,
      'up',
      '--role',
      'api',
      '--config',
      this.configFile,
      '--port',
      String(port),
    ]);
  }

  agent(name: string, extraEnv: Record<string, string> = {}): Proc {
    return this.start(
      `agent:${name}`,
      [path.join(ROOT, 'test/chaos/fixtures/agent.mjs'), name, '20'],
      extraEnv,
    );
  }

  async kill(p: Proc, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    p.killedByTest = true;
    p.child.kill(signal);
    await p.exited;
  }

  /** Processes that died without the test killing them (a crash). */
  crashed(): Proc[] {
    return this.procs.filter((p) => !p.killedByTest && p.child.exitCode !== null && p.child.exitCode !== 0);
  }

  alive(): Proc[] {
    return this.procs.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.alive().map(async (p) => {
        p.killedByTest = true;
        p.child.kill('SIGTERM');
        const t = setTimeout(() => p.child.kill('SIGKILL'), 5_000);
        await p.exited;
        clearTimeout(t);
      }),
    );
  }
}

/** A redis-server of the test's own (its own port and folder), killable and restartable on the same data. */
export class OwnRedis {
  private child: ChildProcess | undefined;
  readonly dir = mkdtempSync(path.join(tmpdir(), 'hive-redis-'));
  constructor(
    readonly port: number,
    readonly fsync: 'everysec' | 'always',
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        this.fsync,
        '--save',
        '',
      ],
      { stdio: 'ignore' },
    );
    const r = createRedis(this.url, 'chaos-probe');
    for (let i = 0; i < 100; i++) {
      if (
        (await Promise.race([r.ping().catch(() => null), new Promise((res) => setTimeout(res, 100))])) ===
        'PONG'
      )
        break;
    }
    r.disconnect();
  }

  async kill(): Promise<void> {
    if (!this.child) return;
    const c = this.child;
    c.kill('SIGKILL');
    await new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r)));
  }
}

/** A PostgreSQL cluster of the test's own, made with initdb in a temp folder (run as the postgres user when root). */
export class OwnPostgres {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'hive-pg-'));
  constructor(readonly port: number) {}
  private run(args: string[]) {
    const asRoot = process.getuid?.() === 0;
    const res = asRoot
      ? spawnSync('runuser', ['-u', 'postgres', '--', ...args], { encoding: 'utf8' })
      : spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`${args.join(' ')} failed: ${res.stderr}`);
  }
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }
  init(): void {
    if (process.getuid?.() === 0) spawnSync('chown', ['-R', 'postgres', this.dir]);
    this.run(['initdb', '-D', path.join(this.dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
  }
  start(): void {
    this.run([
      'pg_ctl',
      '-D',
      path.join(this.dir, 'data'),
      '-o',
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1`,
      '-l',
      path.join(this.dir, 'log'),
      '-w',
      'start',
    ]);
  }
  stopImmediate(): void {
    this.run(['pg_ctl', '-D', path.join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
  }
}

export function engineDeps(db: Db, redisUrl: string, prefix: string): EngineDeps {
  return {
    db,
    redis: createRedis(redisUrl, 'chaos-submit'),
    keys: new Keys(prefix),
    config: parseConfig(CHAOS_CONFIG),
    logger: createLogger({ level: 'silent' }),
  };
}

export const FINAL = ['completed', 'failed', 'cancelled', 'rolled_back', 'rollback_failed'];

export async function waitAllFinal(db: Db, ids: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM workflows WHERE id = ANY(${ids}::text[]) AND status = ANY(${FINAL}::text[])`
      .execute(db)
      .catch(() => ({ rows: [{ n: -1 }] }));
    if (Number(r.rows[0]!.n) === ids.length) return;
    if (Date.now() > deadline) {
      const stuck = await sql<{
        status: string;
        wf: string;
        dispatched: boolean;
        attempt: number;
        n: number;
      }>`
        SELECT t.status, w.status AS wf, t.dispatched_at IS NOT NULL AS dispatched, t.attempt, count(*)::int AS n
        FROM tasks t JOIN workflows w ON w.id = t.workflow_id
        WHERE w.id = ANY(${ids}::text[]) AND NOT (w.status = ANY(${FINAL}::text[])) GROUP BY 1, 2, 3, 4`.execute(
        db,
      );
      throw new Error(
        `${ids.length - Number(r.rows[0]!.n)} workflows not final after ${timeoutMs} ms: ${JSON.stringify(stuck.rows)}`,
      );
    }
    await new Promise((res) => setTimeout(res, 250));
  }
}

export interface Invariants {
  workflows: number;
  statuses: Record<string, number>;
  tasks: number;
  duplicates: number;
  lostTasks: number;
  takenOver: number;
  ignoredResults: number;
}

/** The invariants of DESIGN.md, read back from PostgreSQL. */
export async function checkInvariants(db: Db, ids: string[]): Promise<Invariants> {
  const statuses = await sql<{
    status: string;
    n: number;
  }>`SELECT status, count(*)::int AS n FROM workflows WHERE id = ANY(${ids}::text[]) GROUP BY status`.execute(
    db,
  );
  const dup = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM (SELECT workflow_id, task_id FROM events WHERE type = 'task.completed' AND workflow_id = ANY(${ids}::text[])
    GROUP BY workflow_id, task_id HAVING count(*) > 1) d`.execute(db);
  // A task is lost when its workflow completed but it did not, or it is still waiting in a final workflow.
  const lost = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM tasks t JOIN workflows w ON w.id = t.workflow_id
    WHERE w.id = ANY(${ids}::text[]) AND ((w.status = 'completed' AND t.status <> 'completed') OR t.status IN ('queued', 'running', 'pending'))`.execute(
    db,
  );
  const tasks = await sql<{
    n: number;
  }>`SELECT count(*)::int AS n FROM tasks WHERE workflow_id = ANY(${ids}::text[])`.execute(db);
  const notes = await sql<{ over: number; ignored: number }>`
    SELECT count(*) FILTER (WHERE message LIKE '%taken over%')::int AS over, count(*) FILTER (WHERE message LIKE 'ignored %')::int AS ignored
    FROM agent_logs WHERE workflow_id = ANY(${ids}::text[])`.execute(db);
  return {
    workflows: ids.length,
    statuses: Object.fromEntries(statuses.rows.map((r) => [r.status, Number(r.n)])),
    tasks: Number(tasks.rows[0]!.n),
    duplicates: Number(dup.rows[0]!.n),
    lostTasks: Number(lost.rows[0]!.n),
    takenOver: Number(notes.rows[0]!.over),
    ignoredResults: Number(notes.rows[0]!.ignored),
  };
}

/**
 * Streams are trimmed behind PostgreSQL: after a run, nothing is left in the task and results streams (entries a
 * killed process held are claimed and deleted within the claim timeout, so this waits up to `timeoutMs`).
 */
export async function streamBacklog(
  redis: Redis,
  keys: Keys,
  agents: string[],
  timeoutMs = 30_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let total = await redis.xlen(keys.results());
    for (const a of agents) total += await redis.xlen(keys.agentTasks(a));
    if (total === 0 || Date.now() > deadline) return total;
    await new Promise((r) => setTimeout(r, 500));
  }
}

export function percentiles(values: number[]): { p50: number | null; p99: number | null; n: number } {
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : null;
  return { p50: at(50), p99: at(99), n: s.length };
}

/** Bytes Redis holds for one key prefix (every stream, heartbeat key and lease of one hive). */
export async function prefixMemory(redis: Redis, prefix: string): Promise<number> {
  let total = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    // SAMPLES 0: every node counted. The default estimate from 5 samples of a stream mixing 400 KB entries with
    // small ones can be off by a factor of three either way.
    for (const k of keys) total += Number((await redis.memory('USAGE', k, 'SAMPLES', 0)) ?? 0);
  } while (cursor !== '0');
  return total;
}
