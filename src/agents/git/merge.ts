/**
 * The built-in `git.merge` task: merges a workflow's task branches (or the branches its input names) into the
 * merge task's own branch, in its own worktree, one `git merge --no-ff` per branch, oldest commit first. A
 * branch that conflicts is aborted (so later branches still get their chance) and reported with its files.
 * With conflicts the task fails with HIVE_ERR_MERGE_CONFLICT (not retried: the same branches conflict again),
 * unless the input says `onConflict: report`.
 */
import { z } from 'zod';
import type { RunnerOutcome, RunnerTask } from '../runner.js';
import { taskBranch, workflowBranchPrefix } from './branch.js';
import { git, gitRaw } from './git.js';
import { createWorktree, finishWorktree, removeWorktree } from './worktree.js';

export const MERGE_TASK_TYPE = 'git.merge';

const refName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]+$/, 'expected a branch name');

export const mergeInput = z
  .object({
    branches: z.array(refName).max(1_000).optional(),
    onConflict: z.enum(['fail', 'report']).default('fail'),
  })
  .loose();

export interface MergeOptions {
  repo: string;
  worktreeRoot: string;
  branchPrefix: string;
  baseBranch?: string | undefined;
  cleanup: 'always' | 'on-success' | 'never';
  log(message: string): void;
}

export async function runMerge(task: RunnerTask, opts: MergeOptions): Promise<RunnerOutcome> {
  const input = mergeInput.safeParse(task.input ?? {});
  if (!input.success) {
    return {
      ok: false,
      error: {
        code: 'HIVE_ERR_RUNNER_INPUT_INVALID',
        message: `git.merge input: ${input.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ')}`,
      },
      retryable: false,
    };
  }
  const own = taskBranch(opts.branchPrefix, task.workflowId, task.id);
  const wt = await createWorktree({
    repo: opts.repo,
    root: opts.worktreeRoot,
    branch: own,
    baseBranch: opts.baseBranch,
  });
  let ok = false;
  try {
    const branches =
      input.data.branches ??
      (
        await git(wt.repo, [
          'for-each-ref',
          '--sort=committerdate',
          '--format=%(refname:short)',
          `refs/heads/${workflowBranchPrefix(opts.branchPrefix, task.workflowId)}`,
        ])
      )
        .split('\n')
        .filter((b) => b && b !== own);
    const merged: string[] = [];
    const conflicts: { branch: string; files: string[] }[] = [];
    for (const branch of branches) {
      const r = await gitRaw(
        wt.dir,
        ['merge', '--no-ff', '--no-edit', '-m', `hive: merge ${branch}`, branch],
        true,
      );
      if (r.code === 0) {
        merged.push(branch);
        opts.log(`merged ${branch}`);
        continue;
      }
      const files = (await git(wt.dir, ['diff', '--name-only', '--diff-filter=U']).catch(() => ''))
        .split('\n')
        .filter(Boolean);
      await gitRaw(wt.dir, ['merge', '--abort']);
      if (files.length === 0)
        throw new Error(`git merge ${branch} failed: ${r.stderr.trim() || r.stdout.trim()}`);
      conflicts.push({ branch, files });
      opts.log(`conflict merging ${branch}: ${files.join(', ')}`);
    }
    const result = await finishWorktree(wt, `hive: merge for ${task.workflowId}`);
    const output = { ...result, merged, conflicts };
    if (conflicts.length > 0 && input.data.onConflict === 'fail') {
      return {
        ok: false,
        error: {
          code: 'HIVE_ERR_MERGE_CONFLICT',
          message: `${conflicts.length} branch(es) conflict: ${conflicts.map((c) => `${c.branch} (${c.files.join(', ')})`).join('; ')}`,
          details: output,
        },
        retryable: false,
      };
    }
    ok = true;
    return { ok: true, output };
  } finally {
    if (opts.cleanup === 'always' || (opts.cleanup === 'on-success' && ok)) await removeWorktree(wt);
  }
}
