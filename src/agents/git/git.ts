/** git as a child process (argv, never a shell), its failures as HIVE_ERR_WORKSPACE with git's own message. */
import { execFile } from 'node:child_process';
import { HiveError } from '../../core/errors.js';

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

// Hive commits in worktrees it owns; without an identity configured, git refuses to commit.
const IDENTITY = ['-c', 'user.name=Hive', '-c', 'user.email=hive@localhost'];

/** Runs git; resolves with the exit code (0 or not), rejects only when git cannot start. */
export function gitRaw(cwd: string, args: readonly string[], identity = false): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      [...(identity ? IDENTITY : []), ...args],
      { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        if (err && typeof err.code !== 'number')
          reject(new HiveError('HIVE_ERR_WORKSPACE', `cannot run git: ${err.message}`, { cause: err }));
        else resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** Runs git and returns stdout; a non-zero exit is a HIVE_ERR_WORKSPACE error. Lock contention is retried. */
export async function git(cwd: string, args: readonly string[], identity = false): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const r = await gitRaw(cwd, args, identity);
    if (r.code === 0) return r.stdout;
    // Agents in other processes work on the same repository; ref and worktree locks are short-lived.
    if (/\.lock'?: File exists|Unable to create .*\.lock|cannot lock ref/i.test(r.stderr) && attempt < 20) {
      await new Promise((res) => setTimeout(res, 50 * attempt));
      continue;
    }
    throw new HiveError(
      'HIVE_ERR_WORKSPACE',
      `git ${args.join(' ')} failed: ${r.stderr.trim() || `exit ${r.code}`}`,
      {
        details: { args, cwd, exitCode: r.code },
      },
    );
  }
}

export interface DiffStat {
  files: { path: string; insertions: number; deletions: number }[];
  filesChanged: number;
  insertions: number;
  deletions: number;
}

/** `git diff --numstat from to`, summed (binary files count as changed with 0 lines). */
export async function diffStat(cwd: string, from: string, to: string): Promise<DiffStat> {
  const out = await git(cwd, ['diff', '--numstat', from, to]);
  const files = out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [ins, del, ...p] = l.split('\t');
      return { path: p.join('\t'), insertions: Number(ins) || 0, deletions: Number(del) || 0 };
    });
  return {
    files,
    filesChanged: files.length,
    insertions: files.reduce((a, f) => a + f.insertions, 0),
    deletions: files.reduce((a, f) => a + f.deletions, 0),
  };
}
