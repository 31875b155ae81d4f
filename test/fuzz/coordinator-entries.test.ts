import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { Coordinator } from '../../src/engine/coordinator.js';
import { submitWorkflow } from '../../src/engine/submit.js';
import { type RunningAgent, runAgent } from '../../src/sdk/index.js';
import { type EngineHarness, engineHarness, waitForWorkflow } from '../helpers/engine.js';
import { REDIS_URL } from '../helpers/redis.js';

/**
 * DESIGN.md invariant 4 on the results stream: whatever an entry holds, `processBatch` returns (the entry is
 * applied, ignored by the attempt guard, or dead-lettered) and never throws. A throw is a poison batch: the
 * coordinator retries it forever and every real result read with it waits behind it.
 */
const engine = { visibilityTimeoutMs: 1_000, claimIntervalMs: 200, heartbeatMs: 300, lostAfterMs: 1_000 };
const config = { agents: { a: { capabilities: ['x'], runner: 'sdk', instances: 0 } }, engine };

describe('a coordinator fed random entries', () => {
  let h: EngineHarness;
  let coordinator: Coordinator;
  let agent: RunningAgent | undefined;
  let victim: string;

  beforeAll(async () => {
    h = await engineHarness(config);
    coordinator = new Coordinator(h.deps, { connect: h.connect });
    // A real workflow the well-formed entries aim at (their effects on it are allowed; a throw is not).
    victim = (
      await submitWorkflow(
        h.deps,
        { tasks: [{ type: 'x' }, { type: 'x' }] },
        { correlationId: 'fuzz-victim' },
      )
    ).id;
  });
  afterAll(async () => {
    await agent?.close();
    await h.close();
  });

  const field = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.constantFrom(
      'v',
      '1',
      'kind',
      'result',
      'started',
      'log',
      'heartbeat',
      'cid',
      'tp',
      'ts',
      'wf',
      'task',
    ),
    fc.constantFrom('attempt', 'payload', '{}', '{"instance":"i"}'),
  );

  it('random field lists: dead-lettered, never thrown', async () => {
    const entries = fc
      .sample(fc.array(field, { maxLength: 16 }), 300)
      .map((f, i) => [`${i + 1}-0`, f] as [string, string[]]);
    for (let i = 0; i < entries.length; i += 50) await coordinator.processBatch(entries.slice(i, i + 50));
    expect(await h.redis.xlen(h.deps.keys.deadLetters())).toBeGreaterThan(250);
  });

  it('well-formed envelopes with hostile values: applied, ignored or dead-lettered, never thrown', async () => {
    // Text PostgreSQL may refuse (NUL), numbers out of column range, dates out of range.
    const text = fc.oneof(
      fc.constantFrom('i-1', 'a', 'x'.repeat(256), 'w\u0000', '\u0000', '\ud800', 'é'),
      fc.string({ minLength: 1, maxLength: 12 }),
    );
    const num = fc.oneof(
      fc.integer({ min: 0, max: 10 }),
      fc.constantFrom(2 ** 31, 1e15, Number.MAX_SAFE_INTEGER, 1e300, -1),
    );
    const instance = { instance: text, agent: fc.constantFrom('a', 'zz') };
    const payload = {
      started: fc.record(instance),
      log: fc.record({
        ...instance,
        lines: fc.array(fc.record({ ts: num, level: fc.constantFrom('info', 'error'), message: text }), {
          minLength: 1,
          maxLength: 3,
        }),
      }),
      result: fc.record({
        ...instance,
        ok: fc.boolean(),
        output: fc.anything({ maxDepth: 2 }),
        durationMs: num,
      }),
      dead: fc.record({ ...instance, reason: text, deliveries: fc.integer() }),
      heartbeat: fc.record({
        ...instance,
        state: fc.constantFrom('online', 'beat', 'offline'),
        host: text,
        pid: num,
        concurrency: num,
        running: num,
        startedAt: num,
      }),
    };
    const envelope = fc
      .constantFrom(...(Object.keys(payload) as (keyof typeof payload)[]))
      .chain((kind) =>
        fc.record({
          kind: fc.constant(kind),
          wf: fc.oneof(fc.constant(victim), text),
          task: fc.oneof(fc.constantFrom('0', '1'), text),
          attempt: fc.oneof(fc.constantFrom('1', '2'), num.map(String)),
          ts: fc.oneof(
            fc.constant(String(Date.now())),
            num.filter((n) => n >= 1 && Number.isInteger(n)).map(String),
          ),
          payload: payload[kind].map((p) => JSON.stringify(p)),
        }),
      )
      .map((e) => [
        'v',
        '1',
        'kind',
        e.kind,
        'cid',
        'fuzz-entry',
        'tp',
        'x',
        'ts',
        e.ts,
        ...(e.kind === 'heartbeat' ? [] : ['wf', e.wf, 'task', e.task, 'attempt', e.attempt]),
        'payload',
        e.payload,
      ]);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(envelope, { minLength: 1, maxLength: 8 }), async (batch) => {
        const entries = batch.map((f) => [`${++n}-1`, f] as [string, string[]]);
        await coordinator.processBatch(entries);
      }),
      { numRuns: 60, ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}) },
    );
  }, 30_000);

  it('keeps working afterwards: a new workflow completes', async () => {
    await h.startCoordinator();
    agent = await runAgent({
      name: 'a',
      redisUrl: REDIS_URL,
      keyPrefix: h.prefix,
      engine,
      logger: createLogger({ level: 'silent' }),
      handle: async () => ({ ok: true }),
    });
    const res = await submitWorkflow(
      h.deps,
      { tasks: [{ type: 'x' }, { type: 'x' }] },
      { correlationId: 'fuzz-after' },
    );
    expect((await waitForWorkflow(h, res.id, 8_000)).status).toBe('completed');
  });
});
