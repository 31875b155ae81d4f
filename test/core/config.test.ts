import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/core/config-env.js';
import { parseConfig, parseConfigText } from '../../src/core/config-file.js';
import { HiveError } from '../../src/core/errors.js';
import { HIVE_BIN, ROOT, writeConfig } from '../helpers/processes.js';

function problemsOf(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HiveError);
    return (err as HiveError).details as { path: string; message: string; line?: number }[];
  }
  throw new Error('expected a HiveError');
}

describe('environment', () => {
  it('reports every invalid variable at once, by name', () => {
    const problems = problemsOf(() =>
      loadEnv({
        HIVE_PORT: 'eighty',
        HIVE_DATABASE_URL: 'mysql://x',
        HIVE_LOG_LEVEL: 'loud',
        HIVE_REDIS_URL: 'nope',
        HIVE_API_TOKEN: 'short',
      }),
    );
    expect(problems.map((p) => p.path).sort()).toEqual([
      'HIVE_API_TOKEN',
      'HIVE_DATABASE_URL',
      'HIVE_LOG_LEVEL',
      'HIVE_PORT',
      'HIVE_REDIS_URL',
    ]);
    expect(problems.find((p) => p.path === 'HIVE_PORT')!.message).toMatch(/port/);
  });

  it('applies the defaults of CONTRACT §2 and freezes the result', () => {
    const env = loadEnv({});
    expect(env.HIVE_PORT).toBe(4483);
    expect(env.HIVE_HOST).toBe('127.0.0.1');
    expect(env.HIVE_URL).toBe('http://127.0.0.1:4483');
    expect(env.HIVE_LOG_LEVEL).toBe('info');
    expect(Object.isFrozen(env)).toBe(true);
    expect(() => {
      (env as { HIVE_PORT: number }).HIVE_PORT = 1;
    }).toThrow();
  });
});

describe('hive.yaml', () => {
  it('names file, line and key of every problem', () => {
    const text = [
      'agents:',
      '  a:',
      '    capabilities: [x]',
      '    concurrency: lots',
      '    runner: warp',
      '  "bad name!":',
      '    capabilities: [y]',
      'extra: 1',
    ].join('\n');
    const problems = problemsOf(() => parseConfigText(text, '/tmp/hive.yaml'));
    const byKey = (k: string) => problems.find((p) => p.path.endsWith(k));
    expect(byKey('agents.a.concurrency')!.path).toBe('hive.yaml:4 agents.a.concurrency');
    expect(byKey('agents.a.runner')!.path).toBe('hive.yaml:5 agents.a.runner');
    expect(problems.some((p) => p.path.includes('bad name!'))).toBe(true);
    expect(problems.some((p) => p.message.includes('extra') || p.path.includes('(root)'))).toBe(true);
  });

  it('reports YAML syntax errors with their line', () => {
    const problems = problemsOf(() => parseConfigText('agents:\n  a: [unclosed\n', '/x/hive.yaml'));
    expect(problems[0]!.path).toMatch(/^hive\.yaml:\d+/);
  });

  it('requires the fields each runner needs and freezes the result', () => {
    const problems = problemsOf(() =>
      parseConfig({
        agents: { a: { capabilities: ['x'], runner: 'command' }, b: { capabilities: ['y'], runner: 'http' } },
      }),
    );
    expect(problems.map((p) => p.path).sort()).toEqual(['agents.a.command', 'agents.b.url']);
    const ok = parseConfig({ agents: { a: { capabilities: ['x'], command: ['true'] } } });
    expect(Object.isFrozen(ok.agents.a)).toBe(true);
    expect(ok.agents.a!.retries).toBe(2);
  });

  it('the CLI prints every problem and exits non-zero', () => {
    const file = writeConfig({ agents: { a: { capabilities: ['x'], concurrency: 0 } } });
    const res = spawnSync(process.execPath, [HIVE_BIN, 'agent', 'a', '--config', file], {
      cwd: ROOT,
      env: { ...process.env, HIVE_PORT: 'x' },
      encoding: 'utf8',
    });
    expect(res.status).not.toBe(0);
    expect(res.stderr).toMatch(/HIVE_PORT/);
    const res2 = spawnSync(process.execPath, [HIVE_BIN, 'agent', 'a', '--config', file], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(res2.status).not.toBe(0);
    expect(res2.stderr).toMatch(/hive\.yaml:\d+ agents\.a\.concurrency/);
    expect(res2.stderr).toMatch(/agents\.a\.command/);
  });
});
