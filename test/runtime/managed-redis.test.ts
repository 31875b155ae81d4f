import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pingRedis, resolveRedisUrl } from '../../src/bus/managed-redis.js';
import { loadEnv } from '../../src/core/config-env.js';
import { createLogger } from '../../src/core/logger.js';
import { ROOT } from '../helpers/processes.js';

const logger = createLogger({ level: 'silent' });

describe('managed redis-server', () => {
  it('starts one when nothing answers, with AOF in HIVE_HOME, and stops it', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'hive-home-'));
    const env = loadEnv({ HIVE_HOME: home });
    const r = await resolveRedisUrl({ env, logger, probe: { host: '127.0.0.1', port: 1 } });
    expect(r.managed).toBe(true);
    const port = Number(new URL(r.url).port);
    expect(await pingRedis('127.0.0.1', port)).toBe(true);
    await r.stop!();
    expect(await pingRedis('127.0.0.1', port)).toBe(false);
  });

  it('uses the Redis that answers, and HIVE_REDIS_URL when set', async () => {
    expect((await resolveRedisUrl({ env: loadEnv({}), logger })).managed).toBe(false);
    expect(
      (await resolveRedisUrl({ env: loadEnv({ HIVE_REDIS_URL: 'redis://10.0.0.1:6000' }), logger })).url,
    ).toBe('redis://10.0.0.1:6000');
  });

  it('is gone after the owning process exits', async () => {
    const script = `
      import { resolveRedisUrl } from './dist/bus/managed-redis.js';
      import { loadEnv } from './dist/core/config-env.js';
      import { createLogger } from './dist/core/logger.js';
      const r = await resolveRedisUrl({ env: loadEnv({ HIVE_HOME: process.argv[1] }), logger: createLogger({ level: 'silent' }), probe: { host: '127.0.0.1', port: 1 } });
      console.log(new URL(r.url).port);
      process.exit(0);`;
    const home = mkdtempSync(path.join(tmpdir(), 'hive-home-'));
    const res = spawnSync(process.execPath, ['--input-type=module', '-e', script, home], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    const port = Number(res.stdout.trim());
    expect(port).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(await pingRedis('127.0.0.1', port)).toBe(false);
  });
});
