import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HIVE_BIN, ROOT, writeConfig } from '../helpers/processes.js';
import { PATH_WITH_FIXTURES } from './helpers.js';

/** `hive doctor` finds each configured coding CLI, prints its version and warns outside the tested range. */
function doctor(config: unknown, PATH: string) {
  const res = spawnSync(process.execPath, [HIVE_BIN, 'doctor', '--json', '--config', writeConfig(config)], {
    cwd: ROOT,
    env: {
      ...process.env,
      PATH,
      HIVE_HOME: mkdtempSync(path.join(tmpdir(), 'hive-doc-')),
      HIVE_URL: 'http://127.0.0.1:1',
      HIVE_REDIS_URL: 'redis://127.0.0.1:1',
    },
    encoding: 'utf8',
  });
  const out = JSON.parse(res.stdout) as {
    checks: { name: string; status: string; message: string; fix?: string }[];
  };
  return (n: string) => out.checks.find((c) => c.name === n)!;
}

describe('hive doctor for coding runners', () => {
  it('passes for CLIs in range, warns outside it, fails when missing', () => {
    const old = mkdtempSync(path.join(tmpdir(), 'hive-old-cli-'));
    const oldClaude = path.join(old, 'claude-old');
    writeFileSync(oldClaude, '#!/bin/sh\necho "0.2.9 (Claude Code)"\n');
    chmodSync(oldClaude, 0o755);
    const check = doctor(
      {
        agents: {
          c: { capabilities: ['a'], runner: 'claude-code', workspace: 'worktree' },
          x: { capabilities: ['b'], runner: 'codex' },
          g: { capabilities: ['c'], runner: 'gemini' },
          d: { capabilities: ['d'], runner: 'aider' },
          old: { capabilities: ['e'], runner: 'claude-code', command: [oldClaude] },
          gone: { capabilities: ['f'], runner: 'codex', command: ['/nonexistent/codex'] },
          m: { capabilities: ['git.merge'], runner: 'git' },
        },
        commands: [],
      },
      PATH_WITH_FIXTURES,
    );
    expect(check('runner c')).toMatchObject({
      status: 'pass',
      message: expect.stringContaining('claude 2.0.14'),
    });
    expect(check('git c').status).toBe('pass');
    expect(check('runner x')).toMatchObject({
      status: 'pass',
      message: expect.stringContaining('codex 0.46.0'),
    });
    expect(check('runner g')).toMatchObject({
      status: 'pass',
      message: expect.stringContaining('gemini 0.12.0'),
    });
    expect(check('runner d')).toMatchObject({
      status: 'pass',
      message: expect.stringContaining('aider 0.86.1'),
    });
    expect(check('runner old')).toMatchObject({
      status: 'warn',
      message: expect.stringContaining('outside the tested range'),
    });
    expect(check('runner gone')).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('agents.gone.command'),
    });
    expect(check('runner m').status).toBe('pass');
  });

  it('refuses options a CLI has no flag for, and values it does not accept', () => {
    const check = doctor(
      {
        agents: {
          g: { capabilities: ['a'], runner: 'gemini', budgetUsd: 1 },
          c: { capabilities: ['b'], runner: 'claude-code', permissionMode: 'yolo', sandbox: 'read-only' },
        },
      },
      PATH_WITH_FIXTURES,
    );
    const config = check('hive.yaml');
    expect(config.status).toBe('fail');
    expect(config.message).toMatch(/agents\.g\.budgetUsd: not supported by runner "gemini"/);
    expect(config.message).toMatch(/agents\.c\.permissionMode: expected one of default, acceptEdits/);
    expect(config.message).toMatch(/agents\.c\.sandbox: not supported by runner "claude-code"/);
  });
});
