import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { AgentConfig } from '../../core/config-file.js';
import {
  abortedOutcome,
  type Runner,
  type RunnerContext,
  type RunnerOutcome,
  type RunnerTask,
} from '../runner.js';

/** SIGTERM first; a process that ignores it gets SIGKILL after this long (CONTRACT §3). */
export const KILL_GRACE_MS = 5_000;

/** Signals the whole process group: a shell script's children die with it. */
function killGroup(pid: number, signal: NodeJS.Signals): void {
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

/**
 * The `command` runner (CONTRACT §3): argv without a shell, the task as JSON on stdin, the context in the
 * environment, every output line an agent log line, exit code 0 = success, HIVE_RESULT_FILE = output.
 */
export class CommandRunner implements Runner {
  constructor(
    private readonly agent: AgentConfig,
    private readonly baseDir: string,
  ) {}

  async run(task: RunnerTask, ctx: RunnerContext): Promise<RunnerOutcome> {
    const argv = this.agent.command!;
    const dir = await mkdtemp(path.join(tmpdir(), 'hive-task-'));
    const resultFile = path.join(dir, 'result.json');
    try {
      return await this.spawnAndWait(argv, task, ctx, resultFile);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private spawnAndWait(
    argv: readonly string[],
    task: RunnerTask,
    ctx: RunnerContext,
    resultFile: string,
  ): Promise<RunnerOutcome> {
    return new Promise((resolve) => {
      const cwd = this.agent.cwd ? path.resolve(this.baseDir, this.agent.cwd) : this.baseDir;
      const child = spawn(argv[0]!, argv.slice(1), {
        cwd,
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: {
          ...process.env,
          ...this.agent.env,
          HIVE_TASK_ID: task.id,
          HIVE_WORKFLOW_ID: task.workflowId,
          HIVE_CORRELATION_ID: task.correlationId,
          HIVE_TASK_TYPE: task.type,
          HIVE_ATTEMPT: String(task.attempt),
          HIVE_AGENT: ctx.agent,
          TRACEPARENT: ctx.traceparent,
          HIVE_RESULT_FILE: resultFile,
        },
      });
      let killTimer: NodeJS.Timeout | undefined;
      const onAbort = () => {
        if (child.pid === undefined) return;
        killGroup(child.pid, 'SIGTERM');
        killTimer = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), KILL_GRACE_MS);
        killTimer.unref();
      };
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      if (ctx.signal.aborted) onAbort();
      let spawnError: Error | undefined;
      child.on('error', (err) => {
        spawnError = err;
      });
      child.stdin.on('error', () => {}); // a process that never reads stdin must not fail the attempt
      child.stdin.end(JSON.stringify(task));
      const lines = [
        new Promise<void>((r) =>
          createInterface({ input: child.stdout })
            .on('line', (l) => ctx.log('info', l))
            .on('close', r),
        ),
        new Promise<void>((r) =>
          createInterface({ input: child.stderr })
            .on('line', (l) => ctx.log('warn', l))
            .on('close', r),
        ),
      ];
      child.on('close', async (code, signal) => {
        await Promise.all(lines);
        ctx.signal.removeEventListener('abort', onAbort);
        if (killTimer) clearTimeout(killTimer);
        if (spawnError) {
          resolve({
            ok: false,
            error: { code: 'HIVE_ERR_TASK_SPAWN', message: `cannot start ${argv[0]}: ${spawnError.message}` },
            retryable: false,
          });
        } else if (ctx.signal.aborted) {
          resolve(abortedOutcome(ctx.signal, ctx.timeoutMs));
        } else if (code === 0) {
          resolve(await readResult(resultFile));
        } else if (signal) {
          resolve({
            ok: false,
            error: {
              code: 'HIVE_ERR_TASK_SIGNAL',
              message: `process killed by ${signal}`,
              details: { signal },
            },
          });
        } else {
          resolve({
            ok: false,
            error: {
              code: 'HIVE_ERR_TASK_EXIT',
              message: `process exited with code ${code}`,
              details: { exitCode: code },
            },
          });
        }
      });
    });
  }
}

async function readResult(file: string): Promise<RunnerOutcome> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return { ok: true, output: null };
  }
  try {
    return { ok: true, output: JSON.parse(text) };
  } catch (err) {
    return {
      ok: false,
      error: {
        code: 'HIVE_ERR_TASK_OUTPUT_INVALID',
        message: `HIVE_RESULT_FILE is not JSON: ${(err as Error).message}`,
      },
      retryable: false,
    };
  }
}
