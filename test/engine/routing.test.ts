import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Router } from '../../src/engine/router.js';
import { submitWorkflow, submitWorkflows } from '../../src/engine/submit.js';
import { createPgliteDatabase } from '../helpers/databases.js';
import { type EngineHarness, engineHarness } from '../helpers/engine.js';

const CONFIG = {
  agents: {
    agent_a: { capabilities: ['work'], runner: 'sdk', instances: 0 },
    agent_b: { capabilities: ['work'], runner: 'sdk', instances: 0 },
  },
};
const to = (agent: string, n: number) =>
  Array.from({ length: n }, () => ({ tasks: [{ type: 'work', agent }] }));

/** A task that names no agent goes to the capable agent with the fewest queued and running tasks. */
describe.each([
  ['postgres', undefined],
  ['pglite', createPgliteDatabase],
] as const)('least-loaded routing on %s', (_kind, createDb) => {
  let h: EngineHarness;
  beforeAll(async () => {
    h = await engineHarness(CONFIG, createDb ? { db: await createDb() } : {});
  });
  afterAll(async () => {
    await h.close();
  });

  const routedTo = async (router: Router, cid: string) => {
    const { id } = await submitWorkflow(
      h.deps,
      { tasks: [{ type: 'work' }] },
      { correlationId: cid, router },
    );
    const row = await h.deps.db
      .selectFrom('events')
      .select('data')
      .where('workflow_id', '=', id)
      .where('type', '=', 'task.routed')
      .executeTakeFirstOrThrow();
    return row.data as { agent: string; reason: string; loads: Record<string, number> };
  };

  it('reads the loads before its first decision, and again once they are old', async () => {
    // Nobody runs these (no instances): they stay queued and are the agents' load.
    await submitWorkflows(h.deps, to('agent_a', 5), { correlationId: 'load-a' });
    const router = new Router(100);
    const first = await routedTo(router, 'route-1');
    expect(first.agent).toBe('agent_b');
    expect(first.loads).toEqual({ agent_a: 5, agent_b: 0 });
    expect(first.reason).toBe('least loaded of 2 capable agents (agent_a: 5, agent_b: 0)');

    // agent_b takes on more than agent_a has: once the loads are 100 ms old, the next decision reads them again
    // and sees agent_b's load.
    await submitWorkflows(h.deps, to('agent_b', 10), { correlationId: 'load-b' });
    await new Promise((r) => setTimeout(r, 150));
    const later = await routedTo(router, 'route-2');
    expect(later.loads).toEqual({ agent_a: 5, agent_b: 11 });
    expect(later.agent).toBe('agent_a');
  });

  it('bumps an agent locally for every task routed to it between reads', async () => {
    const queued = await h.deps.db
      .selectFrom('tasks')
      .select(['agent', (eb) => eb.fn.countAll<number>().as('n')])
      .where('status', '=', 'queued')
      .groupBy('agent')
      .execute();
    const loads = Object.fromEntries(queued.map((r) => [r.agent!, Number(r.n)]));
    // What the router should do: read once, then count each of its own decisions (ties go to the first).
    const expected: string[] = [];
    for (let i = 0, a = loads.agent_a ?? 0, b = loads.agent_b ?? 0; i < 12; i++) {
      const pick = b < a ? 'agent_b' : 'agent_a';
      expected.push(pick);
      if (pick === 'agent_a') a++;
      else b++;
    }
    const router = new Router(60_000);
    const picks: string[] = [];
    for (let i = 0; i < 12; i++) picks.push((await routedTo(router, `burst-${i}`)).agent);
    expect(picks).toEqual(expected);
    expect(new Set(picks)).toEqual(new Set(['agent_a', 'agent_b']));
  });
});
