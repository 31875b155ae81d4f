import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { REDIS_URL } from './redis.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const HIVE_BIN = path.join(ROOT, 'bin/hive');

/** Writes a hive.yaml into a fresh temp folder and returns its path. */
export function writeConfig(config: unknown): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'hive-cfg-'));
  const file = path.join(dir, 'hive.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

export interface HiveProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** Runs the built CLI (`bin/hive …`) as a real process with the test's Redis prefix and database. */
export function startHive(args: string[], env: Record<string, string | undefined>): HiveProcess {
  let out = '';
  const child = spawn(process.execPath, [HIVE_BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, HIVE_REDIS_URL: REDIS_URL, HIVE_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

export async function stopAll(procs: HiveProcess[]): Promise<void> {
  await Promise.all(
    procs.map(async (p) => {
      if (p.child.exitCode !== null || p.child.signalCode !== null) return;
      p.child.kill('SIGKILL');
      await p.exited;
    }),
  );
}
