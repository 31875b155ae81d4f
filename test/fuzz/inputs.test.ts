import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { decode } from '../../src/bus/envelope.js';
import { parseConfig, parseConfigText } from '../../src/core/config-file.js';
import { contextFromEnv, contextToEnv, newContext } from '../../src/core/context.js';
import { HiveError } from '../../src/core/errors.js';
import { isValidCorrelationId } from '../../src/core/ids.js';
import { formatTraceparent, parseTraceparent } from '../../src/core/traceparent.js';
import { parseSpecText, planWorkflow } from '../../src/engine/spec.js';

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

  it('traceparents close to valid: accepted exactly when W3C says so, and round-trip', () => {
    const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-fA-F]{${n}}$`));
    const near = fc
      .tuple(
        fc.oneof(hex(2), fc.constantFrom('00', 'ff', '01')),
        fc.oneof(hex(32), fc.constant('0'.repeat(32)), hex(31)),
        fc.oneof(hex(16), fc.constant('0'.repeat(16)), hex(17)),
        hex(2),
        fc.option(fc.stringMatching(/^[a-z0-9=, -]{0,20}$/), { nil: undefined }),
        fc.constantFrom('', ' ', '\t'),
      )
      .map(([v, t, s, f, rest, pad]) => ({
        v,
        t,
        s,
        f,
        rest,
        header: `${pad}${v}-${t}-${s}-${f}${rest === undefined ? '' : `-${rest}`}${pad}`,
      }));
    fc.assert(
      fc.property(near, ({ v, t, s, f, rest, header }) => {
        const parsed = parseTraceparent(header);
        const valid =
          /^[0-9a-f]{2}$/.test(v) &&
          v !== 'ff' &&
          /^[0-9a-f]{32}$/.test(t) &&
          !/^0+$/.test(t) &&
          /^[0-9a-f]{16}$/.test(s) &&
          !/^0+$/.test(s) &&
          /^[0-9a-f]{2}$/.test(f) &&
          !(v === '00' && rest !== undefined);
        expect(parsed !== undefined).toBe(valid);
        if (parsed) {
          expect(parseTraceparent(formatTraceparent(parsed.traceId, parsed.spanId, parsed.flags))).toEqual(
            parsed,
          );
          // A child context continues the trace in a new span; its env carries both IDs to a child process.
          const child = contextFromEnv(contextToEnv(newContext({ traceparent: header })));
          expect(child.traceId).toBe(parsed.traceId);
        }
      }),
      { numRuns: 3_000 },
    );
  });

  it('hive.yaml built from random values: a config or HIVE_ERR_CONFIG_INVALID', () => {
    const agent = fc.record(
      {
        capabilities: fc.oneof(
          fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }),
          fc.anything({ maxDepth: 1 }),
        ),
        runner: fc.constantFrom('sdk', 'command', 'http', 'claude', 'nope', 5),
        command: fc.oneof(
          fc.string({ maxLength: 20 }),
          fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
        ),
        concurrency: fc.oneof(fc.integer({ min: -3, max: 2_000 }), fc.double()),
        instances: fc.integer({ min: -1, max: 100 }),
        retries: fc.integer({ min: -1, max: 1_000 }),
        timeoutMs: fc.oneof(fc.integer(), fc.string({ maxLength: 5 })),
      },
      { requiredKeys: [] },
    );
    const doc = fc.record(
      {
        agents: fc.oneof(
          fc.dictionary(fc.string({ maxLength: 10 }), agent, { maxKeys: 3 }),
          fc.anything({ maxDepth: 1 }),
        ),
        commands: fc.anything({ maxDepth: 2 }),
        engine: fc.oneof(
          fc.record(
            {
              visibilityTimeoutMs: fc.integer({ min: -10, max: 10_000_000 }),
              maxDeliveries: fc.integer({ min: -1, max: 1_000 }),
              lostAfterMs: fc.oneof(fc.integer(), fc.constant(null)),
            },
            { requiredKeys: [] },
          ),
          fc.anything({ maxDepth: 1 }),
        ),
        unknownKey: fc.anything({ maxDepth: 1 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(doc, (d) =>
        onlyHiveErrors(() => parseConfigText(stringify(d), '/tmp/hive.yaml'), 'HIVE_ERR_CONFIG_INVALID'),
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
