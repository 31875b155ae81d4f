/**
 * Child-process handling shared by every runner that starts a program: argv without a shell, its own process
 * group (so a CLI's children — shells, language servers, test runners — die with it), SIGTERM then SIGKILL
 * after KILL_GRACE_MS when the signal aborts, stdout and stderr delivered line by line as they arrive.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { RunnerContext, RunnerTask } from '../runner.js';

/** SIGTERM first; a process that ignores it gets SIGKILL after this long (CONTRACT §3). */
export const KILL_GRACE_MS = 5_000;

export interface ProcessSpec {
  argv: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed (an empty string closes it at once). */
  stdin: string;
}

export interface ProcessHooks {
  /** Aborting it kills the process group. */
  signal: AbortSignal;
  onStdout(line: string): void;
  onStderr(line: string): void;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The program could not be started (ENOENT, EACCES…). */
  spawnError?: Error;
}

/** Signals the whole process group: a shell script's children die with it. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** Resolves once the process has exited and both output streams are fully read. Never rejects. */
export function runProcess(spec: ProcessSpec, hooks: ProcessHooks): Promise<ProcessExit> {
  return new Promise((resolve) => {
    const child = spawn(spec.argv[0]!, spec.argv.slice(1), {
      cwd: spec.cwd,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: spec.env,
    });
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      if (child.pid === undefined) return;
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    };
    hooks.signal.addEventListener('abort', onAbort, { once: true });
    if (hooks.signal.aborted) onAbort();
    let spawnError: Error | undefined;
    child.on('error', (err) => {
      spawnError = err;
    });
    child.stdin.on('error', () => {}); // a process that never reads stdin must not fail the attempt
    child.stdin.end(spec.stdin);
    const lines = [
      new Promise<void>((r) =>
        createInterface({ input: child.stdout }).on('line', hooks.onStdout).on('close', r),
      ),
      new Promise<void>((r) =>
        createInterface({ input: child.stderr }).on('line', hooks.onStderr).on('close', r),
      ),
    ];
    child.on('close', async (code, signal) => {
      await Promise.all(lines);
      hooks.signal.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      resolve(spawnError ? { code, signal, spawnError } : { code, signal });
    });
  });
}

/** The environment of CONTRACT §3 every task process gets, on top of the agent's own `env`. */
export function taskEnv(
  task: RunnerTask,
  ctx: RunnerContext,
  agentEnv: Readonly<Record<string, string>>,
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...agentEnv,
    HIVE_TASK_ID: task.id,
    HIVE_WORKFLOW_ID: task.workflowId,
    HIVE_CORRELATION_ID: task.correlationId,
    HIVE_TASK_TYPE: task.type,
    HIVE_ATTEMPT: String(task.attempt),
    HIVE_AGENT: ctx.agent,
    TRACEPARENT: ctx.traceparent,
    ...extra,
  };
}
