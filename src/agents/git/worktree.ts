/**
 * One git worktree per task attempt, on the task's branch, created from the base (the agent's `baseBranch`, or
 * the repository's HEAD). A retry starts again from the base: `worktree add -B` resets the branch, so a failed
 * attempt's half-done edits never leak into the next. After the run, Hive commits whatever the CLI left
 * uncommitted and records branch, commit and diffstat; the folder is then removed or kept by the agent's
 * `worktreeCleanup` policy, the branch always stays (the merge task and people reviewing need it).
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { acquireSlot } from '../runners/coding/slots.js';
import { type DiffStat, diffStat, git } from './git.js';

/**
 * `git worktree add/remove/prune` of one repository, one at a time across processes: a prune running while
 * another process is half-way through an add deletes that worktree's admin folder ("failed to read
 * .git/worktrees/…/commondir"), which the tests saw with a dozen agents on one repository.
 */
async function withRepoLock<T>(repo: string, fn: () => Promise<T>): Promise<T> {
  const common = path.resolve(repo, (await git(repo, ['rev-parse', '--git-common-dir'])).trim());
  const slot = await acquireSlot(path.join(common, 'hive-locks'), 1, new AbortController().signal, () => {});
  try {
    return await fn();
  } finally {
    await slot.release();
  }
}

export interface Worktree {
  repo: string;
  dir: string;
  branch: string;
  base: string;
}

export interface WorktreeResult {
  branch: string;
  commit: string;
  base: string;
  diffstat: DiffStat;
}

export async function repoRoot(repo: string): Promise<string> {
  return (await git(repo, ['rev-parse', '--show-toplevel'])).trim();
}

export async function createWorktree(opts: {
  repo: string;
  root: string;
  branch: string;
  baseBranch?: string | undefined;
}): Promise<Worktree> {
  const repo = await repoRoot(opts.repo);
  const base = (await git(repo, ['rev-parse', '--verify', `${opts.baseBranch ?? 'HEAD'}^{commit}`])).trim();
  const dir = path.join(opts.root, ...opts.branch.split('/'));
  await withRepoLock(repo, async () => {
    if (existsSync(dir)) await removeUnlocked({ repo, dir });
    await mkdir(path.dirname(dir), { recursive: true });
    await git(repo, ['worktree', 'prune']);
    await git(repo, ['worktree', 'add', '--force', '-B', opts.branch, dir, base]);
  });
  return { repo, dir, branch: opts.branch, base };
}

/** Commits what the CLI left (if anything) and describes the branch against its base. */
export async function finishWorktree(wt: Worktree, message: string): Promise<WorktreeResult> {
  await git(wt.dir, ['add', '-A']);
  const staged = await git(wt.dir, ['status', '--porcelain']);
  if (staged.trim() !== '') await git(wt.dir, ['commit', '--no-verify', '-q', '-m', message], true);
  const commit = (await git(wt.dir, ['rev-parse', 'HEAD'])).trim();
  return { branch: wt.branch, commit, base: wt.base, diffstat: await diffStat(wt.dir, wt.base, commit) };
}

/** The patch of the branch against its base, capped (aider's result is its diff). */
export async function patchOf(wt: Worktree, maxBytes = 256 * 1024): Promise<string> {
  const p = await git(wt.dir, ['diff', wt.base, 'HEAD']);
  return p.length > maxBytes ? `${p.slice(0, maxBytes)}\n… (truncated)` : p;
}

export async function removeWorktree(wt: { repo: string; dir: string }): Promise<void> {
  await withRepoLock(wt.repo, () => removeUnlocked(wt));
}

async function removeUnlocked(wt: { repo: string; dir: string }): Promise<void> {
  await git(wt.repo, ['worktree', 'remove', '--force', wt.dir]).catch(() => undefined);
  await rm(wt.dir, { recursive: true, force: true });
  await git(wt.repo, ['worktree', 'prune']).catch(() => undefined);
}
