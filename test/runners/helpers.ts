import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from '../helpers/processes.js';

/** The stand-in `claude`, `codex`, `gemini` and `aider` executables (real processes, documented formats). */
export const FIXTURE_BIN = path.join(ROOT, 'test/fixtures/coding-cli/bin');
export const PATH_WITH_FIXTURES = `${FIXTURE_BIN}${path.delimiter}${process.env.PATH}`;

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@localhost', ...args], {
    cwd,
    encoding: 'utf8',
  });
}

/** A fresh repository with one commit, for worktrees. */
export function tempRepo(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'hive-repo-'));
  git(dir, 'init', '-q', '-b', 'main');
  writeFileSync(path.join(dir, 'README.md'), '# test repo\n');
  git(dir, 'add', '.');
  git(dir, 'commit', '-q', '-m', 'initial');
  return dir;
}
