import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/** Pids of `hive agent …` processes started with this config file (by `hive up` or directly), from /proc. */
export function agentProcesses(configFile: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // exited meanwhile
    }
    const i = argv.indexOf('agent');
    if (i > 0 && argv[i - 1] === HIVE_BIN && argv.includes(configFile)) pids.push(Number(entry));
  }
  return pids;
}

/**
 * Waits for every agent process of this config to be gone; if some remain, kills them (so one failure does not
 * leak into the next run) and throws, naming them.
 */
export async function expectNoAgentProcesses(configFile: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let left = agentProcesses(configFile);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = agentProcesses(configFile);
  }
  if (left.length === 0) return;
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  throw new Error(`agent processes of ${configFile} still running after ${timeoutMs} ms: ${left.join(', ')}`);
}
