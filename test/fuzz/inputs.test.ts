import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode } from '../../src/bus/envelope.js';
import { parseConfig, parseConfigText } from '../../src/core/config-file.js';
import { newContext } from '../../src/core/context.js';
import { HiveError } from '../../src/core/errors.js';
import { isValidCorrelationId } from '../../src/core/ids.js';
import { parseTraceparent } from '../../src/core/traceparent.js';
import { Coordinator } from '../../src/engine/coordinator.js';
import { parseSpecText, planWorkflow } from '../../src/engine/spec.js';
import { type EngineHarness, engineHarness } from '../helpers/engine.js';

/** Outside input of every kind: a result or a HiveError with a stable code, never another exception or a hang. */
const config = parseConfig({
  agents: { a: { capabilities: ['x', 'y'], runner: 'sdk' }, b: { capabilities: ['y'], runner: 'sdk' } },
});

function onlyHiveErrors(fn: () => unknown, code: string) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HiveError);
    expect((err as HiveError).code).toBe(code);
  }
}

const taskArb = fc.record(
  {
    id: fc.oneof(fc.string({ maxLength: 12 }), fc.integer()),
    type: fc.constantFrom('x', 'y', 'z', '', 'x'.repeat(200)),
    agent: fc.constantFrom('a', 'b', 'c', ''),
    dependsOn: fc.array(fc.constantFrom('0', '1', '2', 't', 'self'), { maxLength: 3 }),
    input: fc.anything({ maxDepth: 2 }),
    retries: fc.oneof(fc.integer({ min: -2, max: 200 }), fc.constant('x')),
    timeoutMs: fc.oneof(fc.integer({ min: -5, max: 100_000_000 }), fc.double()),
    compensate: fc.option(fc.record({ type: fc.constantFrom('x', 'q') }, { requiredKeys: [] })),
  },
  { requiredKeys: [] },
);

describe('fuzzed input', () => {
  it('workflow specs: planned or HIVE_ERR_SPEC_INVALID with details', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.record(
            {
              tasks: fc.array(taskArb, { maxLength: 8 }),
              agents: fc.option(fc.array(fc.constantFrom('a', 'b', 'zz'))),
            },
            { requiredKeys: [] },
          ),
          fc.anything(),
        ),
        (spec) => {
          try {
            const plan = planWorkflow(spec, config);
            expect(plan.tasks.length).toBeGreaterThan(0);
          } catch (err) {
            expect(err).toBeInstanceOf(HiveError);
            expect((err as HiveError).code).toBe('HIVE_ERR_SPEC_INVALID');
            expect(Array.isArray((err as HiveError).details)).toBe(true);
          }
        },
      ),
      { numRuns: 2_000 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) =>
        onlyHiveErrors(() => parseSpecText(text), 'HIVE_ERR_SPEC_INVALID'),
      ),
      { numRuns: 500 },
    );
  });

  it('correlation IDs and traceparent headers: validated, never trusted, never throwing', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.string({ maxLength: 100 }), (cid, tp) => {
        const ctx = newContext({ correlationId: cid, traceparent: tp });
        expect(isValidCorrelationId(ctx.correlationId)).toBe(true);
        if (isValidCorrelationId(cid)) expect(ctx.correlationId).toBe(cid);
        const parsed = parseTraceparent(tp);
        if (parsed) expect(ctx.traceId).toBe(parsed.traceId);
        expect(ctx.traceId).toMatch(/^[0-9a-f]{32}$/);
      }),
      { numRuns: 2_000 },
    );
  });

  it('hive.yaml text: a config or HIVE_ERR_CONFIG_INVALID', () => {
    const yamlish = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc
        .array(
          fc.constantFrom(
            'agents:',
            '  a:',
            '    capabilities: [x]',
            '    concurrency: -1',
            '    runner: sdk',
            '    command: true',
            'commands: 5',
            '  - x',
            ':',
            '"',
            'engine: {maxDeliveries: 0}',
          ),
          { maxLength: 10 },
        )
        .map((l) => l.join('\n')),
    );
    fc.assert(
      fc.property(yamlish, (text) =>
        onlyHiveErrors(() => parseConfigText(text, '/tmp/hive.yaml'), 'HIVE_ERR_CONFIG_INVALID'),
      ),
      { numRuns: 1_000 },
    );
  });

  it('stream entries: decode never throws', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 40 }), { maxLength: 20 }), (fields) => {
        const r = decode(fields);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 3_000 },
    );
  });
});

describe('a coordinator fed random entries', () => {
  let h: EngineHarness;
  let coordinator: Coordinator;
  beforeAll(async () => {
    h = await engineHarness({ agents: { a: { capabilities: ['x'], runner: 'sdk', instances: 0 } } });
    coordinator = new Coordinator(h.deps, { connect: h.connect });
  });
  afterAll(async () => {
    await h.close();
  });

  it('dead-letters them and keeps working', async () => {
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
        'attempt',
        'payload',
        '{}',
        '{"instance":"i"}',
      ),
    );
    const entries = fc
      .sample(fc.array(field, { maxLength: 16 }), 300)
      .map((f, i) => [`${i + 1}-0`, f] as [string, string[]]);
    for (let i = 0; i < entries.length; i += 50) await coordinator.processBatch(entries.slice(i, i + 50));
    const dead = await h.redis.xlen(h.deps.keys.deadLetters());
    expect(dead).toBeGreaterThan(250);
  });
});
