import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { COORDINATOR_GROUP, WORKER_GROUP } from '../bus/keys.js';
import { createRedis, parseInfo, type Redis } from '../bus/redis.js';
import { CommandService } from '../commands/service.js';
import { isCodingRunner } from '../core/coding-options.js';
import { type HiveEnv, loadEnv } from '../core/config-env.js';
import { type HiveConfig, loadConfigFile } from '../core/config-file.js';
import { isHiveError } from '../core/errors.js';
import { openStore, type Store } from '../store/database.js';
import { currentVersion, headVersion } from '../store/migrator.js';
import { codingCliCheck, gitCheck } from './coding-clis.js';

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  message: string;
  fix?: string;
}

/** What the checks share; each check fills what later ones need (env → config → connections). */
export interface DoctorContext {
  processEnv: NodeJS.ProcessEnv;
  configPath?: string | undefined;
  env?: HiveEnv;
  config?: HiveConfig;
  store?: Store;
  redis?: Redis;
}

export type Check = (ctx: DoctorContext) => Promise<CheckResult | CheckResult[]>;

const fail = (name: string, message: string, fix: string): CheckResult => ({
  name,
  status: 'fail',
  message,
  fix,
});
const pass = (name: string, message: string): CheckResult => ({ name, status: 'pass', message });
const warn = (name: string, message: string, fix: string): CheckResult => ({
  name,
  status: 'warn',
  message,
  fix,
});

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)),
  ]);

export const environmentCheck: Check = async (ctx) => {
  try {
    ctx.env = loadEnv(ctx.processEnv);
    return pass('environment', 'every variable is valid');
  } catch (err) {
    return fail(
      'environment',
      isHiveError(err) ? err.message : String(err),
      'correct the variables listed (CONTRACT §2)',
    );
  }
};

export const configCheck: Check = async (ctx) => {
  const file = ctx.configPath
    ? path.resolve(ctx.configPath)
    : (ctx.env?.HIVE_CONFIG ?? path.resolve('hive.yaml'));
  try {
    ctx.config = loadConfigFile(file);
    return pass('hive.yaml', `${file}: ${Object.keys(ctx.config.agents).length} agents`);
  } catch (err) {
    return fail('hive.yaml', isHiveError(err) ? err.message : String(err), `fix ${file} at the lines listed`);
  }
};

export const postgresCheck: Check = async (ctx) => {
  if (!ctx.env) return fail('postgres', 'skipped: the environment is invalid', 'fix the environment first');
  try {
    ctx.store = await openStore({
      url: ctx.env.HIVE_DATABASE_URL,
      pgliteDir: path.join(ctx.env.HIVE_HOME, 'pgdata'),
    });
    await withTimeout(sql`SELECT 1`.execute(ctx.store.db), 5_000);
  } catch (err) {
    return fail(
      'postgres',
      `cannot reach ${ctx.env.HIVE_DATABASE_URL ? 'PostgreSQL' : 'the embedded database'}: ${(err as Error).message}`,
      'start PostgreSQL or correct HIVE_DATABASE_URL',
    );
  }
  const results = [pass('postgres', `${ctx.store.kind} at ${ctx.store.location} answers`)];
  const [current, head] = [await currentVersion(ctx.store.db), headVersion()];
  results.push(
    current === head
      ? pass('migrations', `schema at head (${head})`)
      : fail(
          'migrations',
          `schema at ${current}, head is ${head}`,
          current < head ? 'run `hive migrate up`' : 'this build is older than the database: upgrade Hive',
        ),
  );
  return results;
};

export const redisCheck: Check = async (ctx) => {
  if (!ctx.env) return fail('redis', 'skipped: the environment is invalid', 'fix the environment first');
  const url = ctx.env.HIVE_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redis = createRedis(url, 'hive-doctor', {
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
    lazyConnect: true,
  });
  try {
    await withTimeout(redis.connect(), 3_000);
    ctx.redis = redis;
  } catch (err) {
    redis.disconnect();
    return fail(
      'redis',
      `cannot reach Redis at ${url}: ${(err as Error).message}`,
      'start redis-server or set HIVE_REDIS_URL',
    );
  }
  const info = parseInfo(await redis.info());
  const version = info.redis_version ?? '0';
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const out: CheckResult[] = [
    major > 6 || (major === 6 && minor >= 2)
      ? pass('redis', `Redis ${version} at ${url}`)
      : fail('redis', `Redis ${version} is older than 6.2`, 'upgrade Redis to 6.2 or later'),
  ];
  const policy = info.maxmemory_policy ?? 'noeviction';
  out.push(
    policy === 'noeviction'
      ? pass('redis eviction', 'maxmemory-policy noeviction')
      : warn(
          'redis eviction',
          `maxmemory-policy is ${policy}: Redis may evict stream entries and drop tasks`,
          'CONFIG SET maxmemory-policy noeviction',
        ),
  );
  const aof = info.aof_enabled === '1';
  const save = (await redis.config('GET', 'save').catch(() => ['save', ''])) as string[];
  const rdb = (save[1] ?? '') !== '';
  out.push(
    aof || rdb
      ? pass('redis persistence', aof ? 'AOF on' : 'RDB snapshots on')
      : warn(
          'redis persistence',
          'AOF and RDB are off: a Redis restart loses queued entries (Hive resends them from PostgreSQL, later)',
          'CONFIG SET appendonly yes',
        ),
  );
  return out;
};

export const consumerGroupsCheck: Check = async (ctx) => {
  if (!ctx.redis || !ctx.env || !ctx.config) return [];
  const prefix = ctx.env.HIVE_KEY_PREFIX;
  const streams = [
    [`${prefix}:{coord}:results`, COORDINATOR_GROUP],
    ...Object.keys(ctx.config.agents).map((a) => [`${prefix}:{agent:${a}}:tasks`, WORKER_GROUP]),
  ] as const;
  const missing: string[] = [];
  for (const [stream, group] of streams) {
    const groups = (await ctx.redis.xinfo('GROUPS', stream).catch(() => [])) as unknown[][];
    if (!groups.some((g) => g[1] === group)) missing.push(`${stream} (${group})`);
  }
  return missing.length === 0
    ? pass('consumer groups', `${streams.length} streams have their groups`)
    : warn(
        'consumer groups',
        `missing: ${missing.join(', ')}`,
        'start the hive once (`npm start` or `hive up --role coordinator`): groups are created at start',
      );
};

export const runnersCheck: Check = async (ctx) => {
  if (!ctx.config) return [];
  const out: CheckResult[] = [];
  for (const [name, a] of Object.entries(ctx.config.agents)) {
    if (isCodingRunner(a.runner)) {
      out.push(codingCliCheck(name, a.runner, a, ctx.config.baseDir));
      if (a.workspace === 'worktree') out.push({ ...gitCheck(name), name: `git ${name}` });
      continue;
    }
    if (a.runner === 'git') {
      out.push(gitCheck(name));
      continue;
    }
    if (a.runner !== 'command') continue;
    const bin = a.command![0]!;
    const local = path.resolve(ctx.config.baseDir, a.cwd ?? '.', bin);
    const found = bin.includes('/')
      ? existsSync(local)
      : spawnSync('sh', ['-c', 'command -v "$0"', bin], { stdio: 'ignore' }).status === 0;
    out.push(
      found
        ? pass(`runner ${name}`, `${bin} found`)
        : fail(`runner ${name}`, `${bin} is not on PATH`, `install ${bin} or correct agents.${name}.command`),
    );
  }
  return out;
};

export const commandFilesCheck: Check = async (ctx) => {
  if (!ctx.config) return [];
  const service = new CommandService({ config: ctx.config, watch: false });
  const { commands, errors } = await service.list();
  await service.close();
  return errors.length === 0
    ? pass('command files', `${commands.filter((c) => c.kind !== 'builtin').length} commands parse`)
    : fail(
        'command files',
        errors.map((e) => `${e.path}: ${e.message}`).join('; '),
        'fix the files at the lines listed',
      );
};

export const apiCheck: Check = async (ctx) => {
  const url = ctx.env?.HIVE_URL ?? 'http://127.0.0.1:4483';
  try {
    const res = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2_000) });
    const body = (await res.json().catch(() => ({}))) as { status?: string };
    return res.ok
      ? pass('api', `${url}/ready: ${body.status}`)
      : warn('api', `${url}/ready answered ${res.status} (${body.status})`, 'see the checks in /ready');
  } catch {
    return warn('api', `nothing answers at ${url}`, 'start it with `npm start`, or set HIVE_URL');
  }
};

/** The checks of CONTRACT §9, in order; later parts append theirs. */
export const CHECKS: Check[] = [
  environmentCheck,
  configCheck,
  postgresCheck,
  redisCheck,
  consumerGroupsCheck,
  runnersCheck,
  commandFilesCheck,
  apiCheck,
];

export async function runDoctor(ctx: DoctorContext, checks: Check[] = CHECKS): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  try {
    for (const check of checks) {
      try {
        const r = await check(ctx);
        results.push(...(Array.isArray(r) ? r : [r]));
      } catch (err) {
        results.push(fail(check.name || 'check', (err as Error).message, 'see the message'));
      }
    }
  } finally {
    ctx.redis?.disconnect();
    await ctx.store?.close().catch(() => {});
  }
  return results;
}
