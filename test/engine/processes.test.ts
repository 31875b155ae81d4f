import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WORKER_GROUP } from '../../src/bus/keys.js';
import { submitWorkflow, submitWorkflows } from '../../src/engine/submit.js';
import { createPostgresDatabase, type TestDatabase } from '../helpers/databases.js';
import { type EngineHarness, engineHarness, waitFor, waitForWorkflow } from '../helpers/engine.js';
import {
  expectNoAgentProcesses,
  type HiveProcess,
  ROOT,
  startHive,
  stopAll,
  writeConfig,
} from '../helpers/processes.js';
import { REDIS_URL } from '../helpers/redis.js';

/** Agents as real processes (`hive agent NAME`), coordinator in-process or as `hive up --role coordinator`. */

/** Where sleepy.mjs tasks write their pids: a folder of this run's own, removed afterwards. */
const PID_DIR = mkdtempSync(path.join(tmpdir(), 'hive-sleepy-'));
afterAll(() => rmSync(PID_DIR, { recursive: true, force: true }));

/**
 * The process has exited. A zombie counts as gone: kill(pid, 0) still succeeds on one until its parent reaps it,
 * and an orphan's new parent (PID 1 in a container) may take seconds to.
 */
function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    // /proc/PID/stat: "pid (comm) state …"; comm may contain spaces and parentheses, the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z';
  } catch {
    return true;
  }
}

/**
 * Redis MONITOR on a plain socket, each command's arguments to `onCommand`. Not ioredis' monitor(): it switches to
 * monitoring one microtask after MONITOR's +OK, so a monitored line that arrives in the same read as the +OK
 * (likely on a busy server) fails it with "Command queue state error".
 */
async function monitorRedis(onCommand: (args: string[]) => void): Promise<Socket> {
  const url = new URL(REDIS_URL);
  const socket = connect(Number(url.port || 6379), url.hostname);
  let buffered = '';
  let ok: () => void;
  const started = new Promise<void>((resolve, reject) => {
    ok = resolve;
    socket.once('error', reject);
  });
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let end = buffered.indexOf('\r\n');
    while (end >= 0) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      end = buffered.indexOf('\r\n');
      if (line === '+OK') ok();
      else if (line.startsWith('+') && line.includes('"')) {
        // +TIME [DB ADDR] "arg" "arg" … (quotes inside an argument are escaped)
        onCommand(
          line
            .slice(line.indexOf('"') + 1, -1)
            .split('" "')
            .map((a) => a.replace(/\\"/g, '"')),
        );
      }
    }
  });
  socket.write('MONITOR\r\n');
  await started;
  return socket;
}

/** The pid a sleepy.mjs task wrote, once it has (a read can fall between the file's creation and its write). */
const pidIn = (file: string) =>
  waitFor(async () => {
    try {
      return Number(readFileSync(file, 'utf8')) || undefined;
    } catch {
      return undefined;
    }
  });
const engine = {
  visibilityTimeoutMs: 2_000,
  claimIntervalMs: 250,
  heartbeatMs: 500,
  retryBaseMs: 20,
  retryMaxMs: 100,
};
const config = {
  agents: {
    backend_agent: {
      capabilities: ['api_creation'],
      command: ['node', path.join(ROOT, 'examples/agents/backend.mjs')],
      concurrency: 4,
      env: { HIVE_WORKSPACE: path.join(ROOT, '.hive/test-workspace') },
    },
    frontend_agent: {
      capabilities: ['ui_integration'],
      command: ['node', path.join(ROOT, 'examples/agents/frontend.mjs')],
      concurrency: 4,
      env: { HIVE_WORKSPACE: path.join(ROOT, '.hive/test-workspace') },
    },
    sleeper: {
      capabilities: ['sleep'],
      command: ['node', path.join(ROOT, 'examples/agents/sleepy.mjs')],
      concurrency: 2,
      retries: 0,
    },
    fast: { capabilities: ['noop'], command: ['true'], concurrency: 16, retries: 0 },
    // Kills the agent process running it: the poison message of the dead-letter test.
    poison: { capabilities: ['poison'], command: ['sh', '-c', 'kill -9 $PPID'], concurrency: 1, retries: 3 },
  },
  engine,
};

describe('engine with agent processes', () => {
  let h: EngineHarness;
  let configFile: string;
  let procs: HiveProcess[] = [];
  const agent = (name: string) => {
    const p = startHive(['agent', name, '--config', configFile], { HIVE_KEY_PREFIX: h.prefix });
    procs.push(p);
    return p;
  };
  // Only instances of this test's processes count: one an earlier test killed with SIGKILL keeps its 'online'
  // row until its heartbeat key expires, and counting it would let a test submit before its own agent runs.
  const instancesOnline = (name: string, n: number) =>
    waitFor(
      async () => {
        const pids = procs
          .filter((p) => p.child.exitCode === null && p.child.signalCode === null)
          .map((p) => p.child.pid!);
        if (pids.length === 0) return false;
        const rows = await h.deps.db
          .selectFrom('agent_instances')
          .select('id')
          .where('agent', '=', name)
          .where('status', '=', 'online')
          .where('pid', 'in', pids)
          .execute();
        return rows.length >= n;
      },
      20_000,
      `${n} ${name} instances online`,
    );

  beforeAll(async () => {
    h = await engineHarness(config);
    configFile = writeConfig(config);
    await h.startCoordinator();
  });
  afterEach(async () => {
    await stopAll(procs);
    procs = [];
    await expectNoAgentProcesses(configFile);
  });
  afterAll(async () => {
    await h.close();
  });

  it('completes the specified scenario with one correlation ID on every entry, row and log line', async () => {
    const xadds: string[][] = [];
    const mon = await monitorRedis((args) => {
      if (args[0]?.toLowerCase() === 'xadd' && args[1]?.startsWith(h.prefix)) xadds.push(args);
    });
    agent('backend_agent');
    agent('frontend_agent');
    await instancesOnline('backend_agent', 1);
    await instancesOnline('frontend_agent', 1);
    const cid = 'scenario-7f3a';
    const res = await submitWorkflow(
      h.deps,
      {
        agents: ['backend_agent', 'frontend_agent'],
        tasks: [
          { type: 'api_creation', agent: 'backend_agent' },
          { type: 'ui_integration', agent: 'frontend_agent' },
        ],
      },
      { correlationId: cid },
    );
    const wf = await waitForWorkflow(h, res.id);
    expect(wf.status).toBe('completed');
    // Log lines and results reach PostgreSQL in separate coordinator batches, applied concurrently: the
    // workflow can be recorded completed before the frontend's last log batch is.
    await waitFor(
      async () => {
        const rows = await h.deps.db
          .selectFrom('agent_logs')
          .select('agent')
          .distinct()
          .where('workflow_id', '=', res.id)
          .execute();
        return rows.length === 2;
      },
      10_000,
      'log lines of both agents',
    );
    mon.destroy();
    const row = await h.deps.db
      .selectFrom('workflows')
      .selectAll()
      .where('id', '=', res.id)
      .executeTakeFirstOrThrow();
    expect(row.correlation_id).toBe(cid);
    const tasks = await h.deps.db.selectFrom('tasks').selectAll().where('workflow_id', '=', res.id).execute();
    expect(tasks.every((t) => t.correlation_id === cid && t.status === 'completed')).toBe(true);
    expect((tasks.find((t) => t.id === '1')!.output as { uses: string }).uses).toMatch(/\.api\.mjs$/);
    const events = await h.deps.db
      .selectFrom('events')
      .selectAll()
      .where('workflow_id', '=', res.id)
      .execute();
    expect(events.length).toBeGreaterThan(8);
    expect(events.every((e) => e.correlation_id === cid)).toBe(true);
    const logs = await h.deps.db
      .selectFrom('agent_logs')
      .selectAll()
      .where('workflow_id', '=', res.id)
      .execute();
    expect(new Set(logs.map((l) => l.agent))).toEqual(new Set(['backend_agent', 'frontend_agent']));
    expect(logs.every((l) => l.correlation_id === cid)).toBe(true);
    // Every stream entry written for this workflow (tasks, started, logs, results, live events) carries the ID.
    const forWorkflow = xadds.filter(
      (a) => a.includes(res.id) || a.some((x) => x.includes(`"workflowId":"${res.id}"`)),
    );
    expect(forWorkflow.length).toBeGreaterThanOrEqual(8);
    for (const args of forWorkflow) {
      const cidField = args.indexOf('cid');
      const carries =
        (cidField > 0 && args[cidField + 1] === cid) ||
        args.some((x) => x.includes(`"correlationId":"${cid}"`));
      expect(carries, args.join(' ')).toBe(true);
    }
    // The command's processes saw the ID in their environment: the demo agents print it.
    expect(logs.some((l) => l.message.includes(`[${cid}]`))).toBe(true);
  });

  it('kills a hung task at its timeout (process gone) and fails the workflow', async () => {
    agent('sleeper');
    await instancesOnline('sleeper', 1);
    const pidFile = path.join(PID_DIR, 'hung.pid');
    const res = await submitWorkflow(
      h.deps,
      { tasks: [{ type: 'sleep', timeoutMs: 1_500, input: { ms: -1, pidFile } }] },
      { correlationId: 'hung-task' },
    );
    const wf = await waitForWorkflow(h, res.id);
    expect(wf.status).toBe('failed');
    const t = await h.deps.db
      .selectFrom('tasks')
      .selectAll()
      .where('workflow_id', '=', res.id)
      .executeTakeFirstOrThrow();
    expect((t.error as { code: string }).code).toBe('HIVE_ERR_TASK_TIMEOUT');
    const pid = await pidIn(pidFile);
    await waitFor(async () => processGone(pid), 10_000, 'the hung process to be gone');
    const types = (
      await h.deps.db.selectFrom('events').select('type').where('workflow_id', '=', res.id).execute()
    ).map((e) => e.type);
    expect(types).toContain('task.timed_out');
  });

  it('cancels a running workflow and its process is gone', async () => {
    agent('sleeper');
    await instancesOnline('sleeper', 1);
    const pidFile = path.join(PID_DIR, 'cancelled.pid');
    const res = await submitWorkflow(
      h.deps,
      { tasks: [{ type: 'sleep', input: { ms: -1, pidFile } }] },
      { correlationId: 'cancel-proc' },
    );
    const pid = await pidIn(pidFile);
    const { cancelWorkflow } = await import('../../src/engine/cancel.js');
    expect((await cancelWorkflow(h.deps, res.id)).status).toBe('cancelled');
    await waitFor(async () => processGone(pid), 10_000, 'the cancelled process to be gone');
    // The instance ends the cancelled attempt and acknowledges its entry. An entry left pending would be taken
    // over by the next sleeper instance (a later test's) and the cancelled task would run again.
    const { msg_id } = await h.deps.db
      .selectFrom('tasks')
      .select('msg_id')
      .where('workflow_id', '=', res.id)
      .executeTakeFirstOrThrow();
    expect(msg_id).toBeTruthy();
    await waitFor(
      async () => {
        const pending = (await h.redis.xpending(
          h.deps.keys.agentTasks('sleeper'),
          WORKER_GROUP,
          '-',
          '+',
          100,
        )) as [string, ...unknown[]][];
        return !pending.some(([id]) => id === msg_id);
      },
      10_000,
      'the cancelled entry to be acknowledged',
    );
  });

  it('dead-letters a message that kills every instance it reaches, and fails the task visibly', async () => {
    const res = await submitWorkflow(h.deps, { tasks: [{ type: 'poison' }] }, { correlationId: 'poison-1' });
    // Instances die on the message; keep one running, as a supervisor would.
    let stop = false;
    const supervise = (async () => {
      while (!stop) {
        const p = agent('poison');
        await Promise.race([p.exited, new Promise((r) => setTimeout(r, 500))]);
        while (!stop && p.child.exitCode === null && p.child.signalCode === null)
          await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const wf = await waitForWorkflow(h, res.id, 60_000);
    stop = true;
    await supervise;
    expect(wf.status).toBe('failed');
    const t = await h.deps.db
      .selectFrom('tasks')
      .selectAll()
      .where('workflow_id', '=', res.id)
      .executeTakeFirstOrThrow();
    expect((t.error as { code: string }).code).toBe('HIVE_ERR_DEAD_LETTERED');
    const types = (
      await h.deps.db.selectFrom('events').select('type').where('workflow_id', '=', res.id).execute()
    ).map((e) => e.type);
    expect(types).toContain('task.dead_lettered');
    expect(types).not.toContain('task.completed');
    const dl = await waitFor(async () =>
      h.deps.db.selectFrom('dead_letters').selectAll().where('workflow_id', '=', res.id).executeTakeFirst(),
    );
    expect(dl.reason).toMatch(/delivered \d+ times/);
  });

  it('drains on SIGTERM: the running task finishes, then the instance exits and goes offline', async () => {
    const p = agent('sleeper');
    await instancesOnline('sleeper', 1);
    const res = await submitWorkflow(
      h.deps,
      { tasks: [{ type: 'sleep', input: { ms: 1_500 } }] },
      { correlationId: 'drain-1' },
    );
    await waitFor(
      async () =>
        (
          await h.deps.db
            .selectFrom('tasks')
            .select('status')
            .where('workflow_id', '=', res.id)
            .executeTakeFirst()
        )?.status === 'running',
    );
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect((await waitForWorkflow(h, res.id)).status).toBe('completed');
    const t = await h.deps.db
      .selectFrom('tasks')
      .select('attempt')
      .where('workflow_id', '=', res.id)
      .executeTakeFirstOrThrow();
    expect(t.attempt).toBe(1);
  });

  it('takes over the task of an agent instance killed with SIGKILL, with exactly one completion', async () => {
    const a = agent('sleeper');
    agent('sleeper');
    await instancesOnline('sleeper', 2);
    const res = await submitWorkflow(
      h.deps,
      { tasks: [{ type: 'sleep', input: { ms: 1_500 } }] },
      { correlationId: 'takeover' },
    );
    const running = await waitFor(async () => {
      const t = await h.deps.db
        .selectFrom('tasks')
        .select(['status', 'instance'])
        .where('workflow_id', '=', res.id)
        .executeTakeFirst();
      return t?.status === 'running' ? t : undefined;
    });
    const inst = await h.deps.db
      .selectFrom('agent_instances')
      .select('pid')
      .where('id', '=', running.instance!)
      .executeTakeFirstOrThrow();
    const victim = procs.find((p) => p.child.pid === inst.pid) ?? a;
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    const wf = await waitForWorkflow(h, res.id, 20_000);
    expect(wf.status).toBe('completed');
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    const completions = await h.deps.db
      .selectFrom('events')
      .select('seq')
      .where('workflow_id', '=', res.id)
      .where('type', '=', 'task.completed')
      .execute();
    expect(completions).toHaveLength(1);
    const t = await h.deps.db
      .selectFrom('tasks')
      .select('instance')
      .where('workflow_id', '=', res.id)
      .executeTakeFirstOrThrow();
    expect(t.instance).not.toBe(running.instance);
  });
});

describe('coordinators as processes', () => {
  let db: TestDatabase;
  let h: EngineHarness;
  let configFile: string;
  let procs: HiveProcess[] = [];
  const start = (args: string[]) => {
    const p = startHive([...args, '--config', configFile], {
      HIVE_KEY_PREFIX: h.prefix,
      HIVE_DATABASE_URL: db.url,
    });
    procs.push(p);
    return p;
  };

  beforeAll(async () => {
    db = await createPostgresDatabase();
    h = await engineHarness(config, { db });
    configFile = writeConfig(config);
  });
  afterEach(async () => {
    await stopAll(procs);
    procs = [];
    await expectNoAgentProcesses(configFile);
  });
  afterAll(async () => {
    await h.close();
  });

  const chain = { tasks: [{ type: 'noop' }, { type: 'noop' }] };

  async function assertExactlyOnce(ids: string[]) {
    const rows = await h.deps.db
      .selectFrom('workflows')
      .select(['id', 'status'])
      .where('id', 'in', ids)
      .execute();
    expect(rows.filter((r) => r.status === 'completed')).toHaveLength(ids.length);
    const dup = await h.deps.db
      .selectFrom('events')
      .select(['workflow_id', 'task_id'])
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('type', '=', 'task.completed')
      .where('workflow_id', 'in', ids)
      .groupBy(['workflow_id', 'task_id'])
      .execute();
    expect(dup).toHaveLength(ids.length * 2);
    expect(dup.every((d) => Number(d.n) === 1)).toBe(true);
  }

  it('a new coordinator finishes every workflow after the first is killed with SIGKILL mid-run', async () => {
    const c1 = start(['up', '--role', 'coordinator']);
    for (let i = 0; i < 2; i++) start(['agent', 'fast']);
    const results = await submitWorkflows(
      h.deps,
      Array.from({ length: 200 }, () => chain),
      { correlationId: 'coord-kill' },
    );
    const ids = results.map((r) => r.id);
    await waitFor(
      async () => {
        const n = await h.deps.db
          .selectFrom('workflows')
          .select('id')
          .where('id', 'in', ids)
          .where('status', '=', 'completed')
          .execute();
        return n.length >= 20;
      },
      30_000,
      'some workflows to complete',
    );
    c1.child.kill('SIGKILL');
    await c1.exited;
    start(['up', '--role', 'coordinator']);
    await waitFor(
      async () => {
        const n = await h.deps.db
          .selectFrom('workflows')
          .select('id')
          .where('id', 'in', ids)
          .where('status', '=', 'completed')
          .execute();
        return n.length === ids.length;
      },
      60_000,
      'all 200 workflows to complete',
    );
    await assertExactlyOnce(ids);
  });

  it('two coordinators and three agent processes complete 500 workflows, every task exactly once', async () => {
    start(['up', '--role', 'coordinator']);
    start(['up', '--role', 'coordinator']);
    for (let i = 0; i < 3; i++) start(['agent', 'fast']);
    const results = await submitWorkflows(
      h.deps,
      Array.from({ length: 500 }, () => chain),
      { correlationId: 'two-coords' },
    );
    const ids = results.map((r) => r.id);
    await waitFor(
      async () => {
        const n = await h.deps.db
          .selectFrom('workflows')
          .select('id')
          .where('id', 'in', ids)
          .where('status', '=', 'completed')
          .execute();
        return n.length === ids.length;
      },
      90_000,
      'all 500 workflows to complete',
    );
    await assertExactlyOnce(ids);
  });
});
