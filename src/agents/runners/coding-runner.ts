/**
 * The coding-agent runners (`claude-code`, `codex`, `gemini`, `aider`): one attempt is
 *   prompt from the agent's template → a slot (maxParallel) → the task's git worktree (workspace: worktree)
 *   → the CLI in its documented headless mode, each output event an agent log line as it arrives, and each
 *     step of the run (init, a turn, an item, the result) also a task.progress event
 *   → the tool's own result classified (outcome.ts) → Hive's commit, branch and diffstat → cleanup by policy.
 * Process handling is the command runner's (process.ts); what differs per CLI is in one module each
 * (claude-code.ts, codex.ts, gemini.ts, aider.ts). Agents with `workspace: worktree` also run the built-in
 * `git.merge` task type themselves, without starting the CLI.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { Usage } from '../../bus/envelope.js';
import type { CodingRunnerName } from '../../core/coding-options.js';
import type { AgentConfig } from '../../core/config-file.js';
import { errorToJSON } from '../../core/errors.js';
import { taskBranch } from '../git/branch.js';
import { MERGE_TASK_TYPE, runMerge } from '../git/merge.js';
import { createWorktree, finishWorktree, patchOf, removeWorktree, type Worktree } from '../git/worktree.js';
import {
  abortedOutcome,
  type Runner,
  type RunnerContext,
  type RunnerOutcome,
  type RunnerTask,
} from '../runner.js';
import { aider } from './aider.js';
import { claudeCode } from './claude-code.js';
import { codex } from './codex.js';
import { type FailureClass, failedOutcome } from './coding/outcome.js';
import { acquireSlot, type Slot } from './coding/slots.js';
import { DEFAULT_PROMPT, renderPrompt } from './coding/template.js';
import type { CodingTool } from './coding/tool.js';
import { gemini } from './gemini.js';
import { runProcess, taskEnv } from './process.js';

export const CODING_TOOLS: Record<CodingRunnerName, CodingTool> = {
  'claude-code': claudeCode,
  codex,
  gemini,
  aider,
};

/** Paths a task may name for aider: relative, inside the worktree. */
const relPath = z
  .string()
  .min(1)
  .max(4_096)
  .refine((p) => !path.isAbsolute(p) && !p.split(/[\\/]/).includes('..') && !p.startsWith('-'), {
    message: 'expected a relative path inside the workspace',
  });
const codingInput = z.object({ files: z.array(relPath).max(1_000).optional() }).loose();

/** Where Hive keeps its local state; worktrees and slots live under it. */
export function hiveHome(baseDir: string): string {
  return path.resolve(baseDir, process.env.HIVE_HOME ?? '.hive');
}

function inputInvalid(message: string): RunnerOutcome {
  return { ok: false, error: { code: 'HIVE_ERR_RUNNER_INPUT_INVALID', message }, retryable: false };
}

const withUsage = (o: RunnerOutcome, usage: Usage | undefined): RunnerOutcome =>
  usage ? { ...o, usage } : o;

export class CodingRunner implements Runner {
  private readonly tool: CodingTool;

  constructor(
    private readonly runnerName: CodingRunnerName,
    private readonly agent: AgentConfig,
    private readonly baseDir: string,
  ) {
    this.tool = CODING_TOOLS[runnerName];
  }

  private get repo(): string {
    return path.resolve(this.baseDir, this.agent.repo ?? '.');
  }

  private get worktreeRoot(): string {
    return path.join(hiveHome(process.cwd()), 'worktrees');
  }

  async run(task: RunnerTask, ctx: RunnerContext): Promise<RunnerOutcome> {
    if (task.type === MERGE_TASK_TYPE && this.agent.workspace === 'worktree') return this.merge(task, ctx);
    const input = codingInput.safeParse(task.input ?? {});
    if (!input.success)
      return inputInvalid(
        `task input: ${input.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    const prompt = renderPrompt(this.agent.prompt ?? DEFAULT_PROMPT, task);
    if (!prompt.ok) return inputInvalid(prompt.message);

    let slot: Slot | undefined;
    if (this.agent.maxParallel !== undefined) {
      try {
        slot = await acquireSlot(
          path.join(hiveHome(process.cwd()), 'slots', this.runnerName),
          this.agent.maxParallel,
          ctx.signal,
          () =>
            ctx.log(
              'info',
              `waiting for a free ${this.runnerName} slot (maxParallel ${this.agent.maxParallel})`,
            ),
        );
      } catch {
        return this.stopped(ctx); // while waiting for a slot
      }
    }
    let wt: Worktree | undefined;
    let ok = false;
    const tmp = await mkdtemp(path.join(tmpdir(), 'hive-coding-'));
    try {
      if (this.agent.workspace === 'worktree') {
        wt = await createWorktree({
          repo: this.repo,
          root: this.worktreeRoot,
          branch: taskBranch(this.agent.branchPrefix, task.workflowId, task.id),
          baseBranch: this.agent.baseBranch,
        });
        ctx.log('info', `worktree ${wt.dir} on branch ${wt.branch} from ${wt.base.slice(0, 12)}`);
      }
      const outcome = await this.runTool(task, ctx, prompt.text, input.data.files ?? [], tmp, wt);
      ok = outcome.ok;
      return outcome;
    } catch (err) {
      return { ok: false, error: errorToJSON(err) };
    } finally {
      await rm(tmp, { recursive: true, force: true });
      await slot?.release();
      const policy = this.agent.worktreeCleanup;
      if (wt && (policy === 'always' || (policy === 'on-success' && ok))) await removeWorktree(wt);
    }
  }

  private async runTool(
    task: RunnerTask,
    ctx: RunnerContext,
    prompt: string,
    files: readonly string[],
    tmp: string,
    wt: Worktree | undefined,
  ): Promise<RunnerOutcome> {
    const opts = {
      model: this.agent.model,
      maxTurns: this.agent.maxTurns,
      budgetUsd: this.agent.budgetUsd,
      permissionMode: this.agent.permissionMode,
      sandbox: this.agent.sandbox,
      allowedTools: this.agent.allowedTools,
      extraArgs: this.agent.extraArgs,
      files,
    };
    const inv = this.tool.invocation(prompt, opts, tmp);
    for (const [file, content] of Object.entries(inv.files ?? {})) await writeFile(file, content);
    const local = new AbortController();
    let stopped: { cls: FailureClass; message: string } | undefined;
    const session = this.tool.session(
      opts,
      {
        log: ctx.log,
        progress: (step, message, level = 'info') =>
          ctx.progress ? ctx.progress(step, message, level) : ctx.log(level, message ?? step.summary),
        stop: (cls, message) => {
          if (stopped) return;
          stopped = { cls, message };
          ctx.log('warn', `stopping ${this.tool.binary}: ${message}`);
          local.abort('stopped');
        },
      },
      tmp,
    );
    const argv = [...(this.agent.command ?? [this.tool.binary]), ...inv.args];
    const cwd = wt?.dir ?? (this.agent.cwd ? path.resolve(this.baseDir, this.agent.cwd) : this.baseDir);
    const exit = await runProcess(
      {
        argv,
        cwd,
        env: taskEnv(task, ctx, this.agent.env, wt ? { HIVE_WORKTREE: wt.dir, HIVE_BRANCH: wt.branch } : {}),
        stdin: inv.stdin,
      },
      {
        signal: AbortSignal.any([ctx.signal, local.signal]),
        onStdout: (l) => session.onStdout(l),
        onStderr: (l) => session.onStderr(l),
      },
    );
    if (exit.spawnError) {
      return {
        ok: false,
        error: {
          code: 'HIVE_ERR_TASK_SPAWN',
          message: `cannot start ${argv[0]}: ${exit.spawnError.message} (is ${this.tool.binary} installed and on PATH?)`,
        },
        retryable: false,
      };
    }
    const classified = ctx.signal.aborted ? undefined : stopped ? undefined : await session.finish(exit);
    const usage = session.usage();
    if (ctx.signal.aborted) return withUsage(this.stopped(ctx), usage);
    if (stopped)
      return failedOutcome({ ok: false, class: stopped.cls, message: stopped.message, details: {} }, usage);
    if (!classified!.ok) return failedOutcome(classified!, usage);
    const output: Record<string, unknown> = {
      runner: this.runnerName,
      result: classified!.result,
      ...classified!.details,
    };
    if (wt) {
      Object.assign(output, await finishWorktree(wt, `hive: ${task.type} (${task.workflowId}/${task.id})`));
      if (this.runnerName === 'aider') output.diff = await patchOf(wt);
    }
    return withUsage({ ok: true, output }, usage);
  }

  /**
   * A run ended by its deadline, a cancel or a shutdown, said in the task's log too: a run stopped before its CLI
   * printed anything (or while it waited for a slot) would otherwise leave no line at all.
   */
  private stopped(ctx: RunnerContext): RunnerOutcome {
    ctx.log('warn', `${this.tool.binary} stopped: ${String(ctx.signal.reason ?? 'aborted')}`);
    return abortedOutcome(ctx.signal, ctx.timeoutMs);
  }

  private merge(task: RunnerTask, ctx: RunnerContext): Promise<RunnerOutcome> {
    return mergeTask(task, ctx, this.agent, this.baseDir);
  }
}

/** `git.merge` for any agent with a repository (the `git` runner, or a coding agent with worktrees). */
export async function mergeTask(
  task: RunnerTask,
  ctx: RunnerContext,
  agent: AgentConfig,
  baseDir: string,
): Promise<RunnerOutcome> {
  if (task.type !== MERGE_TASK_TYPE)
    return inputInvalid(`runner "git" runs only ${MERGE_TASK_TYPE} tasks, not "${task.type}"`);
  try {
    return await runMerge(task, {
      repo: path.resolve(baseDir, agent.repo ?? '.'),
      worktreeRoot: path.join(hiveHome(process.cwd()), 'worktrees'),
      branchPrefix: agent.branchPrefix,
      baseBranch: agent.baseBranch,
      cleanup: agent.worktreeCleanup,
      log: (m) => ctx.log('info', m),
    });
  } catch (err) {
    return { ok: false, error: errorToJSON(err) };
  }
}

/** The `git` runner: Hive's built-in git task types, no CLI. */
export class GitRunner implements Runner {
  constructor(
    private readonly agent: AgentConfig,
    private readonly baseDir: string,
  ) {}

  run(task: RunnerTask, ctx: RunnerContext): Promise<RunnerOutcome> {
    return mergeTask(task, ctx, this.agent, this.baseDir);
  }
}
