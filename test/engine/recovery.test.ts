import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { submitWorkflow } from '../../src/engine/submit.js';
import { type RunningAgent, runAgent } from '../../src/sdk/index.js';
import { type EngineHarness, engineHarness, waitFor, waitForWorkflow } from '../helpers/engine.js';
import { REDIS_URL } from '../helpers/redis.js';

const engine = { visibilityTimeoutMs: 1_000, claimIntervalMs: 200, heartbeatMs: 300, lostAfterMs: 1_500 };
const config = { agents: { worker: { capabilities: ['work'], runner: 'sdk', instances: 0 } }, engine };

/** Recovery paths: the outbox (committed, never sent) and lost stream entries (a Redis that lost data). */
describe('recovery sweeps', () => {
  let h: EngineHarness;
  const agents: RunningAgent[] = [];
  const runs = new Map<string, number>();

  beforeAll(async () => {
    h = await engineHarness(config);
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await h.close();
  });

  const startAgent = async () =>
    agents.push(
      await runAgent({
        name: 'worker',
        redisUrl: REDIS_URL,
        keyPrefix: h.prefix,
        engine,
        logger: createLogger({ level: process.env.HIVE_TEST_LOG_LEVEL ?? 'silent' }),
        handle: async (task) => {
          runs.set(task.workflowId, (runs.get(task.workflowId) ?? 0) + 1);
          return { done: true };
        },
      }),
    );

  it('sends a task that was committed as queued but never reached its stream, and heartbeats become events', async () => {
    const stream = h.deps.keys.agentTasks('worker');
    const res = await submitWorkflow(h.deps, { tasks: [{ type: 'work' }] }, { correlationId: 'outbox-1' });
    // Simulate a crash between the commit and the XADD: remove the entry and the dispatch record.
    await waitFor(
      async () =>
        (
          await h.deps.db
            .selectFrom('tasks')
            .select('dispatched_at')
            .where('workflow_id', '=', res.id)
            .executeTakeFirst()
        )?.dispatched_at,
    );
    await h.redis.del(stream);
    await h.deps.db
      .updateTable('tasks')
      .set({ dispatched_at: null, msg_id: null })
      .where('workflow_id', '=', res.id)
      .execute();
    await h.startCoordinator();
    await startAgent();
    expect((await waitForWorkflow(h, res.id, 15_000)).status).toBe('completed');
    expect(runs.get(res.id)).toBe(1);
    const online = await waitFor(async () => {
      const rows = await h.deps.db
        .selectFrom('events')
        .selectAll()
        .where('type', '=', 'agent.online')
        .where('agent', '=', 'worker')
        .execute();
      return rows.length > 0 ? rows : undefined;
    });
    expect((online[0]!.data as { instance: string }).instance).toBe(agents[0]!.instanceId);
  });

  it('resends a task whose stream entry Redis lost', async () => {
    await agents.pop()!.close();
    const res = await submitWorkflow(h.deps, { tasks: [{ type: 'work' }] }, { correlationId: 'lost-1' });
    const row = await waitFor(async () => {
      const t = await h.deps.db
        .selectFrom('tasks')
        .select(['msg_id', 'dispatched_at'])
        .where('workflow_id', '=', res.id)
        .executeTakeFirst();
      return t?.msg_id ? t : undefined;
    });
    await h.redis.xdel(h.deps.keys.agentTasks('worker'), row.msg_id!);
    await startAgent();
    expect((await waitForWorkflow(h, res.id, 15_000)).status).toBe('completed');
    const completions = await h.deps.db
      .selectFrom('events')
      .select('seq')
      .where('workflow_id', '=', res.id)
      .where('type', '=', 'task.completed')
      .execute();
    expect(completions).toHaveLength(1);
  });

  it('marks a closed instance offline with an agent.offline event', async () => {
    const a = agents.pop()!;
    const id = a.instanceId;
    await a.close();
    const row = await waitFor(async () => {
      const rows = await h.deps.db
        .selectFrom('events')
        .selectAll()
        .where('type', '=', 'agent.offline')
        .execute();
      return rows.find((r) => (r.data as { instance: string }).instance === id);
    });
    expect(row.agent).toBe('worker');
    const inst = await h.deps.db
      .selectFrom('agent_instances')
      .select('status')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(inst.status).toBe('offline');
  });
});
