import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { cancelWorkflow } from '../../src/engine/cancel.js';
import { submitWorkflow } from '../../src/engine/submit.js';
import { type RunningAgent, runAgent } from '../../src/sdk/index.js';
import { DATABASE_KINDS } from '../helpers/databases.js';
import { type EngineHarness, engineHarness, waitFor, waitForWorkflow } from '../helpers/engine.js';
import { REDIS_URL } from '../helpers/redis.js';

const config = {
  agents: {
    backend_agent: {
      capabilities: ['api_creation', 'api_revert', 'costly'],
      runner: 'sdk',
      instances: 0,
      retries: 2,
    },
    frontend_agent: {
      capabilities: ['ui_integration', 'flaky', 'fail', 'slow'],
      runner: 'sdk',
      instances: 0,
      retries: 2,
    },
  },
  engine: {
    retryBaseMs: 10,
    retryMaxMs: 50,
    visibilityTimeoutMs: 1_000,
    claimIntervalMs: 200,
    heartbeatMs: 500,
  },
};

describe.each(DATABASE_KINDS)('engine with SDK agents on %s and real Redis', (_kind, createDb) => {
  let h: EngineHarness;
  const agents: RunningAgent[] = [];
  const seenAttempts = new Map<string, number>();

  beforeAll(async () => {
    h = await engineHarness(config, { db: await createDb() });
    await h.startCoordinator();
    const common = {
      redisUrl: REDIS_URL,
      keyPrefix: h.prefix,
      engine: config.engine,
      concurrency: 8,
      logger: createLogger({ level: 'silent' }),
    };
    agents.push(
      await runAgent({
        ...common,
        name: 'backend_agent',
        handle: async (task, ctx) => {
          ctx.log.info(`building ${task.type}`);
          if (task.type === 'costly') ctx.reportUsage({ inputTokens: 100, outputTokens: 50, costUsd: 0.3 });
          return { built: task.type, input: task.input };
        },
      }),
      await runAgent({
        ...common,
        name: 'frontend_agent',
        handle: async (task, ctx) => {
          if (task.type === 'flaky') {
            seenAttempts.set(task.workflowId, task.attempt);
            if (task.attempt < 2) throw new Error('first attempt fails');
          }
          if (task.type === 'fail') throw new Error('always fails');
          if (task.type === 'slow') {
            await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
            throw new Error('aborted');
          }
          ctx.log.warn('integrating');
          return { ui: true };
        },
      }),
    );
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await h.close();
  });

  it('runs the two-step workflow under the chosen correlation ID', async () => {
    const res = await submitWorkflow(
      h.deps,
      {
        agents: ['backend_agent', 'frontend_agent'],
        tasks: [
          { type: 'api_creation', agent: 'backend_agent' },
          { type: 'ui_integration', agent: 'frontend_agent' },
        ],
      },
      { correlationId: 'sdk-flow-1' },
    );
    expect(res.correlationId).toBe('sdk-flow-1');
    const wf = await waitForWorkflow(h, res.id);
    expect(wf.status).toBe('completed');
    const tasks = await h.deps.db
      .selectFrom('tasks')
      .selectAll()
      .where('workflow_id', '=', res.id)
      .orderBy('position')
      .execute();
    expect(tasks.map((t) => [t.id, t.status, t.agent])).toEqual([
      ['0', 'completed', 'backend_agent'],
      ['1', 'completed', 'frontend_agent'],
    ]);
    expect(tasks[1]!.started_at!.getTime()).toBeGreaterThanOrEqual(tasks[0]!.finished_at!.getTime() - 5);
    const events = await h.deps.db
      .selectFrom('events')
      .select(['type', 'correlation_id'])
      .where('workflow_id', '=', res.id)
      .orderBy('seq')
      .execute();
    expect(events.every((e) => e.correlation_id === 'sdk-flow-1')).toBe(true);
    expect(events.filter((e) => e.type === 'task.completed')).toHaveLength(2);
    expect(events[0]!.type).toBe('workflow.submitted');
    expect(events.at(-1)!.type).toBe('workflow.completed');
    const logs = await waitFor(async () => {
      const rows = await h.deps.db
        .selectFrom('agent_logs')
        .selectAll()
        .where('correlation_id', '=', 'sdk-flow-1')
        .execute();
      return rows.length >= 2 ? rows : undefined;
    });
    expect(new Set(logs.map((l) => l.agent))).toEqual(new Set(['backend_agent', 'frontend_agent']));
    // An SDK handler's log lines are agent logs only: task.progress is for coding runners' steps.
    const progress = await h.deps.db
      .selectFrom('events')
      .select('seq')
      .where('correlation_id', '=', 'sdk-flow-1')
      .where('type', '=', 'task.progress')
      .execute();
    expect(progress).toEqual([]);
  });

  it('retries a failed attempt and then succeeds', async () => {
    const res = await submitWorkflow(
      h.deps,
      { tasks: [{ id: 'f', type: 'flaky' }] },
      { correlationId: 'sdk-retry' },
    );
    expect((await waitForWorkflow(h, res.id)).status).toBe('completed');
    const task = await h.deps.db
      .selectFrom('tasks')
      .selectAll()
      .where('workflow_id', '=', res.id)
      .executeTakeFirstOrThrow();
    expect(task.attempt).toBe(2);
    const types = (
      await h.deps.db
        .selectFrom('events')
        .select('type')
        .where('workflow_id', '=', res.id)
        .orderBy('seq')
        .execute()
    ).map((e) => e.type);
    expect(types).toContain('task.retrying');
    expect(types.filter((t) => t === 'task.completed')).toHaveLength(1);
  });

  it('compensates completed tasks in reverse completion order when a task runs out of attempts', async () => {
    const res = await submitWorkflow(
      h.deps,
      {
        tasks: [
          { id: 'a', type: 'api_creation', compensate: { type: 'api_revert', agent: 'backend_agent' } },
          { id: 'b', type: 'api_creation', compensate: { type: 'api_revert', agent: 'backend_agent' } },
          { id: 'c', type: 'fail', retries: 1 },
        ],
      },
      { correlationId: 'sdk-comp' },
    );
    const wf = await waitForWorkflow(h, res.id);
    expect(wf.status).toBe('rolled_back');
    const tasks = await h.deps.db.selectFrom('tasks').selectAll().where('workflow_id', '=', res.id).execute();
    const byId = new Map(tasks.map((t) => [t.id, t]));
    expect(byId.get('a')!.status).toBe('compensated');
    expect(byId.get('b')!.status).toBe('compensated');
    expect(byId.get('c')!.status).toBe('failed');
    expect(byId.get('c')!.attempt).toBe(2);
    const cb = byId.get('compensate:b')!;
    const ca = byId.get('compensate:a')!;
    expect(cb.status).toBe('completed');
    expect(ca.status).toBe('completed');
    expect(cb.finished_at!.getTime()).toBeLessThanOrEqual(ca.started_at!.getTime());
  });

  it('cancels a running workflow and the handler sees its signal', async () => {
    const res = await submitWorkflow(
      h.deps,
      { tasks: [{ id: 's', type: 'slow' }] },
      { correlationId: 'sdk-cancel' },
    );
    await waitFor(async () => {
      const t = await h.deps.db
        .selectFrom('tasks')
        .select('status')
        .where('workflow_id', '=', res.id)
        .executeTakeFirst();
      return t?.status === 'running';
    });
    const out = await cancelWorkflow(h.deps, res.id);
    expect(out.status).toBe('cancelled');
    // The aborted attempt's late result is ignored and noted, not recorded as a completion or failure.
    await waitFor(async () => {
      const rows = await h.deps.db
        .selectFrom('agent_logs')
        .select('message')
        .where('workflow_id', '=', res.id)
        .execute();
      return rows.some((r) => r.message.startsWith('ignored result'));
    });
    const t = await h.deps.db
      .selectFrom('tasks')
      .select('status')
      .where('workflow_id', '=', res.id)
      .executeTakeFirstOrThrow();
    expect(t.status).toBe('cancelled');
  });

  it('runs a 20-task graph in parallel respecting every dependency', async () => {
    // root → 18 parallel tasks → join
    const mids = Array.from({ length: 18 }, (_, i) => ({
      id: `m${i}`,
      type: 'api_creation',
      dependsOn: ['root'],
    }));
    const res = await submitWorkflow(
      h.deps,
      {
        tasks: [
          { id: 'root', type: 'api_creation', dependsOn: [] },
          ...mids,
          { id: 'join', type: 'ui_integration', dependsOn: mids.map((m) => m.id) },
        ],
      },
      { correlationId: 'sdk-graph' },
    );
    expect((await waitForWorkflow(h, res.id)).status).toBe('completed');
    const tasks = await h.deps.db.selectFrom('tasks').selectAll().where('workflow_id', '=', res.id).execute();
    const byId = new Map(tasks.map((t) => [t.id, t]));
    for (const m of mids)
      expect(byId.get(m.id)!.started_at!.getTime()).toBeGreaterThanOrEqual(
        byId.get('root')!.finished_at!.getTime(),
      );
    const lastMid = Math.max(...mids.map((m) => byId.get(m.id)!.finished_at!.getTime()));
    expect(byId.get('join')!.started_at!.getTime()).toBeGreaterThanOrEqual(lastMid);
    // Parallel: some middle tasks overlapped in time.
    const spans = mids.map(
      (m) => [byId.get(m.id)!.started_at!.getTime(), byId.get(m.id)!.finished_at!.getTime()] as const,
    );
    const overlapping = spans.some(([s1, e1], i) => spans.some(([s2], j) => i !== j && s2 >= s1 && s2 < e1));
    const queuedTogether = new Set(mids.map((m) => byId.get(m.id)!.queued_at!.getTime())).size;
    expect(overlapping || queuedTogether === 1).toBe(true);
  });

  it('stops dispatching once the workflow budget is spent, with usage stored per task', async () => {
    const res = await submitWorkflow(
      h.deps,
      {
        budgetUsd: 0.5,
        tasks: [
          { id: 'a', type: 'costly' },
          { id: 'b', type: 'costly' },
          { id: 'c', type: 'costly' },
        ],
      },
      { correlationId: 'sdk-budget' },
    );
    const wf = await waitForWorkflow(h, res.id);
    expect(wf.status).toBe('failed');
    expect((wf.error as { code: string }).code).toBe('HIVE_ERR_RUNNER_BUDGET');
    const tasks = await h.deps.db
      .selectFrom('tasks')
      .selectAll()
      .where('workflow_id', '=', res.id)
      .orderBy('position')
      .execute();
    expect(tasks.map((t) => t.status)).toEqual(['completed', 'completed', 'skipped']);
    expect(tasks[0]!.usage).toEqual({ inputTokens: 100, outputTokens: 50, costUsd: 0.3 });
  });

  it('dead-letters a malformed task entry and keeps working', async () => {
    await h.redis.xadd(h.deps.keys.agentTasks('backend_agent'), '*', 'garbage', 'yes');
    const res = await submitWorkflow(
      h.deps,
      { tasks: [{ type: 'api_creation' }] },
      { correlationId: 'sdk-after-garbage' },
    );
    expect((await waitForWorkflow(h, res.id)).status).toBe('completed');
    const dl = await waitFor(async () => {
      const rows = await h.deps.db.selectFrom('dead_letters').selectAll().execute();
      return rows.length > 0 ? rows : undefined;
    });
    expect(dl[0]!.reason).toMatch(/envelope/);
  });
});
