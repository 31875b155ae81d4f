import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SdkRunner } from '../../src/agents/runners/sdk-runner.js';
import { AgentWorker } from '../../src/agents/worker.js';
import { WORKER_GROUP } from '../../src/bus/keys.js';
import { createLogger } from '../../src/core/logger.js';
import { submitWorkflow } from '../../src/engine/submit.js';
import { type EngineHarness, engineHarness, waitFor, waitForWorkflow } from '../helpers/engine.js';
import { REDIS_URL } from '../helpers/redis.js';

/**
 * An instance whose keep-alive ran late finds its own running entry among the idle ones it takes over. It must
 * keep running the one attempt it has, not start a second (CI saw a coding task's worktree removed under it by
 * such a duplicate on a loaded machine).
 */
describe('an instance taking over idle entries', () => {
  let h: EngineHarness;
  let worker: AgentWorker;
  const calls: string[] = [];
  let release: () => void = () => {};
  const released = new Promise<void>((r) => (release = r));

  beforeAll(async () => {
    // A long visibility timeout keeps the keep-alive quiet (every 20 s); the test makes the entry look idle.
    h = await engineHarness({
      agents: { slow: { capabilities: ['wait'], runner: 'sdk', retries: 0 } },
      engine: { visibilityTimeoutMs: 60_000, claimIntervalMs: 100 },
    });
    await h.startCoordinator();
    worker = new AgentWorker({
      name: 'slow',
      redisUrl: REDIS_URL,
      keys: h.deps.keys,
      engine: h.config.engine,
      runner: new SdkRunner(async (task) => {
        calls.push(task.workflowId);
        await released;
        return { done: true };
      }),
      concurrency: 4,
      logger: createLogger({ level: 'silent' }),
    });
    await worker.start();
  });
  afterAll(async () => {
    release();
    await worker.close();
    await h.close();
  });

  it('does not run its own running entry a second time', async () => {
    const res = await submitWorkflow(h.deps, { tasks: [{ type: 'wait' }] }, { correlationId: 'self-claim' });
    await waitFor(async () => calls.length === 1, 10_000, 'the attempt to start');
    const stream = h.deps.keys.agentTasks('slow');
    const pending = (await h.redis.xpending(stream, WORKER_GROUP, '-', '+', 10)) as [string][];
    expect(pending).toHaveLength(1);
    const entryId = pending[0]![0];
    // As if the keep-alive had not run for two minutes: the entry is idle past the visibility timeout.
    await h.redis.xclaim(stream, WORKER_GROUP, worker.instanceId, 0, entryId, 'IDLE', 120_000, 'JUSTID');
    // The claim loop passes every 100 ms; once it has, the entry is no longer idle (XAUTOCLAIM reset it).
    await waitFor(
      async () => {
        const [row] = (await h.redis.xpending(stream, WORKER_GROUP, '-', '+', 10)) as [
          string,
          string,
          number,
        ][];
        return row && row[2] < 60_000;
      },
      10_000,
      'the claim pass to take the entry',
    );
    expect(calls).toEqual([res.id]);
    expect(worker.runningCount).toBe(1);
    release();
    expect((await waitForWorkflow(h, res.id)).status).toBe('completed');
    expect(calls).toEqual([res.id]);
    const completions = await h.deps.db
      .selectFrom('events')
      .select('type')
      .where('workflow_id', '=', res.id)
      .where('type', '=', 'task.completed')
      .execute();
    expect(completions).toHaveLength(1);
  });
});
