import { describe, expect, it } from 'vitest';
import type { BuiltinOperations } from '../../src/commands/service.js';
import { CommandService } from '../../src/commands/service.js';
import { commandTree, testConfig } from './helpers.js';

function recorder() {
  const calls: string[] = [];
  const op =
    (name: string) =>
    async (...args: string[]) => {
      calls.push([name, ...args].join(' '));
      return { answered: name, args };
    };
  const ops: BuiltinOperations = {
    status: op('status'),
    agents: op('agents'),
    cancel: op('cancel'),
    retry: op('retry'),
    trace: op('trace'),
  };
  return { ops, calls };
}

describe('built-in /hive: commands', () => {
  it('dispatch to the injected operations and return their answer', async () => {
    const { ops, calls } = recorder();
    const s = new CommandService({ config: testConfig(commandTree({})), builtins: ops, watch: false });
    const status = await s.prepare('/hive:status');
    expect(status).toEqual({
      kind: 'builtin',
      command: '/hive:status',
      args: [],
      argumentString: '',
      result: { answered: 'status', args: [] },
    });
    await s.prepare('/hive:agents');
    await s.prepare('/hive:cancel wf-1');
    await s.prepare('/hive:retry "wf 2"');
    await s.prepare('/hive:trace cid-3');
    expect(calls).toEqual(['status', 'agents', 'cancel wf-1', 'retry wf 2', 'trace cid-3']);
    await s.close();
  });

  it('check their arguments before calling anything', async () => {
    const { ops, calls } = recorder();
    const s = new CommandService({ config: testConfig(commandTree({})), builtins: ops, watch: false });
    await expect(s.prepare('/hive:cancel')).rejects.toMatchObject({
      code: 'HIVE_ERR_COMMAND_ARGS',
      message: expect.stringContaining('<workflow-id>'),
    });
    await expect(s.prepare('/hive:cancel a b')).rejects.toMatchObject({ code: 'HIVE_ERR_COMMAND_ARGS' });
    await expect(s.prepare('/hive:status now')).rejects.toMatchObject({ code: 'HIVE_ERR_COMMAND_ARGS' });
    expect(calls).toEqual([]);
    await s.close();
  });

  it('answer 503 where no operations are wired, and can be wired later', async () => {
    const s = new CommandService({ config: testConfig(commandTree({})), watch: false });
    await expect(s.prepare('/hive:status')).rejects.toMatchObject({
      code: 'HIVE_ERR_NOT_READY',
      status: 503,
    });
    s.setBuiltins(recorder().ops);
    expect((await s.prepare('/hive:status')).kind).toBe('builtin');
    await s.close();
  });
});
