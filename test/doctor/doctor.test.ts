import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, type TestDatabase } from '../helpers/databases.js';
import { HIVE_BIN, ROOT, writeConfig } from '../helpers/processes.js';
import { REDIS_URL } from '../helpers/redis.js';

const config = writeConfig({
  agents: { a: { capabilities: ['x'], command: ['node', '-e', '0'] } },
  commands: [],
});

function doctor(env: Record<string, string>) {
  const res = spawnSync(process.execPath, [HIVE_BIN, 'doctor', '--json', '--config', config], {
    cwd: ROOT,
    env: { ...process.env, HIVE_URL: 'http://127.0.0.1:1', HIVE_KEY_PREFIX: 'doctortest', ...env },
    encoding: 'utf8',
  });
  const out = JSON.parse(res.stdout) as {
    status: string;
    checks: { name: string; status: string; message: string; fix?: string }[];
  };
  return { code: res.status, ...out, check: (n: string) => out.checks.find((c) => c.name === n)! };
}

describe('hive doctor', () => {
  let migrated: TestDatabase;
  let empty: TestDatabase;
  beforeAll(async () => {
    migrated = await createPostgresDatabase();
    empty = await createPostgresDatabase({ migrate: false });
  });
  afterAll(async () => {
    await migrated.drop();
    await empty.drop();
  });

  it('passes when all is well (the API not running is only a warning)', () => {
    const r = doctor({ HIVE_DATABASE_URL: migrated.url!, HIVE_REDIS_URL: REDIS_URL });
    expect(r.code).toBe(0);
    expect(r.check('postgres').status).toBe('pass');
    expect(r.check('migrations').status).toBe('pass');
    expect(r.check('redis').status).toBe('pass');
    expect(r.check('runner a').status).toBe('pass');
    expect(r.check('api').status).toBe('warn');
  });

  it('fails clearly when Redis is down', () => {
    const r = doctor({ HIVE_DATABASE_URL: migrated.url!, HIVE_REDIS_URL: 'redis://127.0.0.1:1' });
    expect(r.code).toBe(1);
    expect(r.check('redis').status).toBe('fail');
    expect(r.check('redis').fix).toMatch(/redis-server|HIVE_REDIS_URL/);
  });

  it('fails clearly when migrations are behind', () => {
    const r = doctor({ HIVE_DATABASE_URL: empty.url!, HIVE_REDIS_URL: REDIS_URL });
    expect(r.code).toBe(1);
    expect(r.check('migrations').status).toBe('fail');
    expect(r.check('migrations').fix).toMatch(/hive migrate up/);
  });

  it('fails on an invalid environment and a runner not on PATH', () => {
    const bad = writeConfig({
      agents: { a: { capabilities: ['x'], command: ['no-such-binary-xyz'] } },
      commands: [],
    });
    const res = spawnSync(process.execPath, [HIVE_BIN, 'doctor', '--json', '--config', bad], {
      cwd: ROOT,
      env: {
        ...process.env,
        HIVE_REDIS_URL: REDIS_URL,
        HIVE_DATABASE_URL: migrated.url!,
        HIVE_URL: 'http://127.0.0.1:1',
      },
      encoding: 'utf8',
    });
    expect(res.status).toBe(1);
    expect(res.stdout).toMatch(/no-such-binary-xyz is not on PATH/);
  });
});
