import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import path from 'node:path';
import type { HiveEnv } from '../core/config-env.js';
import { HiveError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

export interface ResolvedRedis {
  url: string;
  /** Set when Hive started the server itself: stops it. */
  stop?: () => Promise<void>;
  managed: boolean;
}

/** True when something answers PING at host:port within the timeout. */
export function pingRedis(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG') || d.toString().startsWith('-NOAUTH')));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export function redisServerOnPath(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * CONTRACT §2: HIVE_REDIS_URL if set; else 127.0.0.1:6379 if it answers; else a redis-server Hive starts and
 * owns (a free port, data and AOF in $HIVE_HOME/redis), stopped when the runtime closes or the process exits.
 */
export async function resolveRedisUrl(opts: {
  env: HiveEnv;
  logger: Logger;
  probe?: { host: string; port: number };
}): Promise<ResolvedRedis> {
  if (opts.env.HIVE_REDIS_URL) return { url: opts.env.HIVE_REDIS_URL, managed: false };
  const probe = opts.probe ?? { host: '127.0.0.1', port: 6379 };
  if (await pingRedis(probe.host, probe.port))
    return { url: `redis://${probe.host}:${probe.port}`, managed: false };
  if (!redisServerOnPath()) {
    throw new HiveError(
      'HIVE_ERR_REDIS_MISSING',
      `no Redis answers at ${probe.host}:${probe.port} and redis-server is not on PATH: install Redis ≥ 6.2 (apt-get install redis-server) or set HIVE_REDIS_URL`,
    );
  }
  return startManagedRedis(path.join(opts.env.HIVE_HOME, 'redis'), opts.logger);
}

export async function startManagedRedis(dir: string, logger: Logger): Promise<ResolvedRedis> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--save',
      '',
      '--daemonize',
      'no',
    ],
    { stdio: 'ignore' },
  );
  // The server dies with this process even when it is killed without running its exit handlers' async work.
  const kill = () => child.kill('SIGTERM');
  process.once('exit', kill);
  const deadline = Date.now() + 10_000;
  while (!(await pingRedis('127.0.0.1', port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      kill();
      throw new HiveError('HIVE_ERR_REDIS_MISSING', `the managed redis-server did not start on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  logger.info({ port, dir, pid: child.pid }, 'started a managed redis-server');
  return {
    url: `redis://127.0.0.1:${port}`,
    managed: true,
    stop: async () => {
      process.removeListener('exit', kill);
      if (child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}
