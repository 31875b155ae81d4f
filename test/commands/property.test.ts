import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CommandService } from '../../src/commands/service.js';
import { splitArgs } from '../../src/commands/split-args.js';
import { HiveError } from '../../src/core/errors.js';
import { agentCommand, commandTree, taskInput, testConfig } from './helpers.js';

/** Characters that mean something to a shell or to the placeholder syntax, plus non-ASCII spaces and CR. */
const shellish = fc.string({
  unit: fc.constantFrom(
    'a',
    ' ',
    '\t',
    '\n',
    '\r',
    '"',
    "'",
    '\\',
    '$',
    '`',
    '(',
    ')',
    ';',
    '|',
    '&',
    '>',
    '!',
    '*',
    '~',
    '$1',
    '$9',
    '$ARGUMENTS',
    '$ARGUMENTS[0]',
    '$(',
    '${',
    'é',
    '\u00a0',
    '\u2028',
  ),
  maxLength: 40,
});
const anyText = fc.oneof(shellish, fc.string({ unit: 'binary', maxLength: 40 }));

/** How a client quotes one argument so that it arrives unchanged. */
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describe('arguments (property)', () => {
  const s = new CommandService({
    config: testConfig(commandTree({ 'echo.md': agentCommand('[$1]', '', '[text]') })),
    watch: false,
  });
  afterAll(() => s.close());

  it('any text after the name either prepares or fails with a HiveError, never anything else', async () => {
    await fc.assert(
      fc.asyncProperty(anyText, async (raw) => {
        for (const text of [`/echo ${raw}`, raw]) {
          try {
            await s.prepare(text);
          } catch (err) {
            expect(err).toBeInstanceOf(HiveError);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('quoted arguments arrive exactly as written, in the arguments and in the prompt', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(anyText, { minLength: 1, maxLength: 4 }), async (args) => {
        const run = await s.prepare(`/echo ${args.map(quote).join(' ')}`);
        expect(run.args).toEqual(args);
        const input = taskInput(run);
        expect(input.arguments).toEqual(args);
        expect(input.prompt).toBe(`[${args[0]}]`);
      }),
      { numRuns: 200 },
    );
  });

  it('splitting never invents or drops characters outside quotes and escapes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: fc.constantFrom('a', 'b', '-', '.', '/', '=', 'é'), minLength: 1 })),
        (words) => {
          expect(splitArgs(words.join(' '))).toEqual(words);
        },
      ),
      { numRuns: 200 },
    );
  });
});
