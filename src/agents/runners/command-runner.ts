import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AgentConfig } from '../../core/config-file.js';
import {
  abortedOutcome,
  type Runner,
  type RunnerContext,
  type RunnerOutcome,
  type RunnerTask,
} from '../runner.js';
import { runProcess, taskEnv } from './process.js';

export { KILL_GRACE_MS } from './process.js';

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
      const exit = await runProcess(
        {
          argv,
          cwd: this.agent.cwd ? path.resolve(this.baseDir, this.agent.cwd) : this.baseDir,
          env: taskEnv(task, ctx, this.agent.env, { HIVE_RESULT_FILE: resultFile }),
          stdin: JSON.stringify(task),
        },
        {
          signal: ctx.signal,
          onStdout: (l) => ctx.log('info', l),
          onStderr: (l) => ctx.log('warn', l),
        },
      );
      if (exit.spawnError) {
        return {
          ok: false,
          error: {
            code: 'HIVE_ERR_TASK_SPAWN',
            message: `cannot start ${argv[0]}: ${exit.spawnError.message}`,
          },
          retryable: false,
        };
      }
      if (ctx.signal.aborted) return abortedOutcome(ctx.signal, ctx.timeoutMs);
      if (exit.code === 0) return await readResult(resultFile);
      if (exit.signal) {
        return {
          ok: false,
          error: {
            code: 'HIVE_ERR_TASK_SIGNAL',
            message: `process killed by ${exit.signal}`,
            details: { signal: exit.signal },
          },
        };
      }
      return {
        ok: false,
        error: {
          code: 'HIVE_ERR_TASK_EXIT',
          message: `process exited with code ${exit.code}`,
          details: { exitCode: exit.code },
        },
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
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
