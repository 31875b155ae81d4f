import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, type TestDatabase } from '../helpers/databases.js';
import { waitFor } from '../helpers/engine.js';
import {
  expectNoAgentProcesses,
  HIVE_BIN,
  type HiveProcess,
  ROOT,
  startHive,
  stopAll,
  writeConfig,
} from '../helpers/processes.js';
import { cleanupPrefix, REDIS_URL, testPrefix, testRedis } from '../helpers/redis.js';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/** The terminal client against a real `hive up` (API, coordinator, agent processes). */
describe('hive CLI', () => {
  let db: TestDatabase;
  let prefix: string;
  let port: number;
  let up: HiveProcess;
  let env: Record<string, string>;
  let config: string;
  const dir = mkdtempSync(path.join(tmpdir(), 'hive-cli-'));
  const file = (name: string, spec: unknown) => {
    const p = path.join(dir, name);
    writeFileSync(p, JSON.stringify(spec));
    return p;
  };
  const hive = (args: string[], extra: Record<string, string> = {}) =>
    spawnSync(process.execPath, [HIVE_BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env, NO_COLOR: '1', ...extra },
      encoding: 'utf8',
      timeout: 60_000,
    });

  beforeAll(async () => {
    db = await createPostgresDatabase();
    prefix = testPrefix();
    port = await freePort();
    config = writeConfig({
      agents: {
        backend_agent: {
          capabilities: ['api_creation'],
          command: ['node', path.join(ROOT, 'examples/agents/backend.mjs')],
          concurrency: 4,
          env: { HIVE_WORKSPACE: path.join(dir, 'ws') },
        },
        frontend_agent: {
          capabilities: ['ui_integration'],
          command: ['node', path.join(ROOT, 'examples/agents/frontend.mjs')],
          concurrency: 4,
          env: { HIVE_WORKSPACE: path.join(dir, 'ws') },
        },
        sleeper: {
          capabilities: ['sleep'],
          command: ['node', path.join(ROOT, 'examples/agents/sleepy.mjs')],
          concurrency: 2,
          retries: 0,
        },
      },
      commands: [path.join(ROOT, '.hive/commands')],
    });
    env = {
      HIVE_DATABASE_URL: db.url!,
      HIVE_REDIS_URL: REDIS_URL,
      HIVE_KEY_PREFIX: prefix,
      HIVE_PORT: String(port),
      HIVE_URL: `http://127.0.0.1:${port}`,
      HIVE_CONFIG: config,
    };
    up = startHive(['up'], env);
    await waitFor(async () => up.output().includes('Hive is up'), 30_000, 'hive up');
  });

  afterAll(async () => {
    // SIGKILL, as a crash would: the agent processes `hive up` supervised must not outlive it.
    await stopAll([up]);
    await expectNoAgentProcesses(config);
    const r = testRedis();
    await cleanupPrefix(r, prefix);
    r.disconnect();
    await db.drop();
  });

  it('hive run --follow prints progress lines off a TTY, a summary, and exits 0 when completed', () => {
    const spec = file('feature.json', {
      name: 'cli feature',
      tasks: [
        { id: 'api', type: 'api_creation', input: { feature: 'notes' } },
        { id: 'ui', type: 'ui_integration', input: { feature: 'notes' } },
      ],
    });
    const r = hive(['run', spec, '--follow', '--correlation-id', 'cli-run-1']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^submitted \S+ \(correlation cli-run-1\)$/m);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3} api started on backend_agent attempt 1$/m);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3} api │ wrote notes\.api\.mjs and its test/m);
    expect(r.stdout).toMatch(/^cli feature: completed in \d/m);
    expect(r.stdout).toMatch(/^task\s+type\s+agent\s+status\s+attempts\s+duration\s+error$/m);
    expect(r.stdout).toMatch(/^ui\s+ui_integration\s+frontend_agent\s+completed\s+1\s+\d/m);
    expect(r.stdout).not.toMatch(/\x1b\[/);
  });

  it('exit codes: 1 for a failed workflow, 1 for a cancelled one; --json is machine-readable', async () => {
    const failed = hive([
      'run',
      file('fail.json', { tasks: [{ type: 'sleep', input: { ms: 10, exitCode: 3 } }] }),
      '--follow',
      '--json',
    ]);
    expect(failed.status).toBe(1);
    const wf = JSON.parse(failed.stdout);
    expect(wf.status).toBe('failed');
    expect(wf.tasks[0].error.code).toBe('HIVE_ERR_TASK_EXIT');

    const submitted = JSON.parse(
      hive(['run', file('slow.json', { tasks: [{ type: 'sleep', input: { ms: -1 } }] }), '--json']).stdout,
    );
    const follower = startHive(['run', '--help'], env); // keeps the process table honest: help exits 0
    expect(await follower.exited).toBe(0);
    await waitFor(
      async () => JSON.parse(hive(['show', submitted.id, '--json']).stdout).tasks[0].status === 'running',
    );
    const cancel = hive(['cancel', submitted.id]);
    expect(cancel.stdout.trim()).toBe(`${submitted.id}: cancelled`);
    const show = hive(['show', submitted.id]);
    expect(show.stdout).toMatch(/cancelled/);
    const followCancelled = hive(['cmd', `/hive:status`, '--json']);
    expect(followCancelled.status).toBe(0);
  });

  it('hive cmd runs a slash command under one correlation ID, the command first in its trace', () => {
    const r = hive(['cmd', '/feature "cli cart"', '--follow']);
    expect(r.status, r.stderr).toBe(0);
    const cid = /correlation (\S+)\)/.exec(r.stdout)![1]!;
    const trace = JSON.parse(hive(['trace', cid, '--json']).stdout);
    expect(trace.events[0].type).toBe('command.invoked');
    expect(trace.events[0].data.command).toBe('/feature');
    expect(trace.workflows[0].status).toBe('completed');
    expect(trace.requests.some((q: any) => q.route === '/api/commands/run')).toBe(true);
    const text = hive(['trace', cid]).stdout;
    expect(text).toMatch(/^POST \/api\/commands\/run\s/m);
    expect(text).toMatch(/task api\s+█+/m);
    expect(text).toMatch(/command\.invoked/);
  });

  it('status, logs and completion', () => {
    const s = hive(['status']);
    expect(s.status).toBe(0);
    expect(s.stdout).toMatch(/^backend_agent\s+api_creation\s+1\s/m);
    const j = JSON.parse(hive(['status', '--json']).stdout);
    expect(j.agents.map((a: any) => a.name)).toEqual(['backend_agent', 'frontend_agent', 'sleeper']);
    const logs = hive(['logs', '--correlation-id', 'cli-run-1', '--json'])
      .stdout.trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(logs.length).toBeGreaterThan(1);
    expect(logs.every((l) => l.correlationId === 'cli-run-1')).toBe(true);
    expect(hive(['completion', 'bash']).stdout).toMatch(/complete -F _hive hive/);
    expect(hive(['completion', 'zsh']).stdout).toMatch(/#compdef hive/);
  });

  it('explains an unreachable server, a needed token and an invalid file', () => {
    const down = hive(['status'], { HIVE_URL: 'http://127.0.0.1:1' });
    expect(down.status).toBe(1);
    expect(down.stderr).toMatch(
      /not reachable at http:\/\/127\.0\.0\.1:1: start it with `npm start`, or set HIVE_URL/,
    );
    const bad = hive(['run', file('bad.json', { tasks: [{ type: 'nobody-does-this' }, { id: 5 }] })]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/Invalid workflow spec \(2 problems\)/);
    expect(bad.stderr).toMatch(/tasks\.1\.id/);
    expect(bad.stderr).toMatch(/tasks\.1\.type/);
    const nobody = hive(['run', file('nobody.json', { tasks: [{ type: 'nobody-does-this' }] })]);
    expect(nobody.stderr).toMatch(/no capable agent for task type "nobody-does-this"/);
  });

  it('redraws a live task list on a TTY (tmux) and ends with the summary', async () => {
    const spec = file('tty.json', {
      name: 'tty run',
      tasks: [{ id: 'nap', type: 'sleep', input: { ms: 1500 } }],
    });
    const session = `hive-test-${process.pid}`;
    const envs = Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    execFileSync('tmux', [
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '120',
      '-y',
      '40',
      `cd ${ROOT} && env ${envs} TERM=xterm node ${HIVE_BIN} run ${spec} --follow; echo EXIT=$?; sleep 30`,
    ]);
    try {
      const during = await waitFor(
        async () => {
          const pane = execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
          return /nap\s+running/.test(pane) ? pane : undefined;
        },
        20_000,
        'the running line',
      );
      expect(during).toMatch(/● nap\s+running\s+sleeper\s+\d/);
      const after = await waitFor(
        async () => {
          const pane = execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
          return pane.includes('EXIT=') ? pane : undefined;
        },
        20_000,
        'the end',
      );
      expect(after).toMatch(/✔ nap\s+completed/);
      expect(after).toMatch(/tty run: completed in/);
      expect(after).toMatch(/EXIT=0/);
      // Redrawn in place: the running line does not remain above the final one.
      expect(after.match(/nap\s+running/g)).toBeNull();
    } finally {
      execFileSync('tmux', ['kill-session', '-t', session]);
    }
  });
});
