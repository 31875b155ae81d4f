/**
 * `hive doctor` for coding-agent runners: the CLI is found (the agent's `command`, else the tool's binary on
 * PATH), `--version` answers, and the version lies in the range Hive's parsers were written and tested
 * against (outside it: a warning, since output formats of these CLIs change between releases).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { CODING_TOOLS } from '../agents/runners/coding-runner.js';
import type { CodingRunnerName } from '../core/coding-options.js';
import type { AgentConfig } from '../core/config-file.js';
import type { CheckResult } from './checks.js';

function compare(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

export function codingCliCheck(
  name: string,
  runner: CodingRunnerName,
  agent: AgentConfig,
  baseDir: string,
): CheckResult {
  const tool = CODING_TOOLS[runner];
  const argv = agent.command ?? [tool.binary];
  const bin = argv[0]!.includes('/') ? path.resolve(baseDir, argv[0]!) : argv[0]!;
  const check = `runner ${name}`;
  const res = spawnSync(bin, [...argv.slice(1), '--version'], {
    encoding: 'utf8',
    timeout: 10_000,
    env: { ...process.env, ...agent.env },
  });
  if (res.error) {
    return {
      name: check,
      status: 'fail',
      message: `${tool.binary} (${runner}) not found: ${(res.error as NodeJS.ErrnoException).code ?? res.error.message}`,
      fix: `install ${tool.binary} and put it on PATH, or set agents.${name}.command to its path`,
    };
  }
  const version = /\d+\.\d+\.\d+/.exec(`${res.stdout} ${res.stderr}`)?.[0];
  if (res.status !== 0 || !version) {
    return {
      name: check,
      status: 'warn',
      message: `${bin} --version answered ${res.status !== 0 ? `exit code ${res.status}` : `no version (${res.stdout.trim().slice(0, 80)})`}`,
      fix: `check that ${bin} is the ${runner} CLI`,
    };
  }
  const { min, below } = tool.testedVersions;
  if (compare(version, min) < 0 || compare(version, below) >= 0) {
    return {
      name: check,
      status: 'warn',
      message: `${tool.binary} ${version} is outside the tested range (>= ${min}, < ${below})`,
      fix: `use a ${tool.binary} version in the range, or check that its headless output still parses (hive logs --agent ${name})`,
    };
  }
  return {
    name: check,
    status: 'pass',
    message: `${tool.binary} ${version} found (tested >= ${min}, < ${below})`,
  };
}

export function gitCheck(name: string): CheckResult {
  const res = spawnSync('git', ['--version'], { encoding: 'utf8' });
  const version = /\d+\.\d+\.\d+/.exec(res.stdout ?? '')?.[0];
  if (res.error || !version)
    return {
      name: `runner ${name}`,
      status: 'fail',
      message: 'git not found',
      fix: 'install git (worktrees need 2.17 or later)',
    };
  return compare(version, '2.17.0') < 0
    ? {
        name: `runner ${name}`,
        status: 'warn',
        message: `git ${version} is older than 2.17`,
        fix: 'upgrade git',
      }
    : { name: `runner ${name}`, status: 'pass', message: `git ${version} found` };
}
