import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandService, commandInvokedData } from '../../src/commands/service.js';
import { agentCommand, commandTree, taskInput, testConfig } from './helpers.js';

const services: CommandService[] = [];
function service(files: Record<string, string>): CommandService {
  const s = new CommandService({ config: testConfig(commandTree(files)), watch: false });
  services.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
});

const FEATURE = `---
argument-hint: <name> [--style S]
workflow:
  tasks:
    - { id: api, type: api_creation, agent: backend_agent, input: { feature: "$1", all: "$ARGUMENTS" } }
    - { id: ui, type: ui_integration, agent: frontend_agent, input: { feature: "$ARGUMENTS[0]", style: "$3" } }
---
Build $1
`;

describe('CommandService', () => {
  it('lists namespaced commands and built-ins, and reports a broken file while the others keep working', async () => {
    const s = service({
      'review.md': agentCommand('Review $1', 'custom: { a: 1 }\n'),
      'git/review.md': agentCommand('Git review of $ARGUMENTS'),
      'git/deep/log.md': agentCommand('log'),
      'broken.md': agentCommand('!`date`'),
      'hive/status.md': agentCommand('shadow'),
      'notes.txt': 'not a command',
    });
    const { commands, errors } = await s.list();
    expect(commands.map((c) => c.name)).toEqual([
      '/git:deep:log',
      '/git:review',
      '/hive:agents',
      '/hive:cancel',
      '/hive:retry',
      '/hive:status',
      '/hive:trace',
      '/review',
    ]);
    expect(commands.find((c) => c.name === '/review')).toMatchObject({
      kind: 'agent',
      agent: 'reviewer',
      argumentHint: '<path>',
      frontmatter: { custom: { a: 1 } },
    });
    expect(errors.map((e) => path.basename(e.path))).toEqual(['broken.md:6', 'status.md']);
    expect(errors[1]!.message).toMatch(/reserved/);

    const run = await s.prepare('/git:review "src/a b.ts" --strict');
    expect(run).toMatchObject({ kind: 'workflow', command: '/git:review', args: ['src/a b.ts', '--strict'] });
    expect(taskInput(run).prompt).toBe('Git review of "src/a b.ts" --strict');
    await expect(s.prepare('/broken')).rejects.toMatchObject({
      code: 'HIVE_ERR_COMMAND_INVALID',
      message: expect.stringContaining('broken.md:6'),
    });
  });

  it('builds one command:<name> task for agent: commands, with the raw arguments and model', async () => {
    const s = service({ 'git/review.md': agentCommand('R $1', 'model: opus\nallowed-tools: [Read]\n') });
    const run = await s.prepare('/git:review a');
    expect(run.kind === 'workflow' && run.spec).toEqual({
      name: '/git:review a',
      tasks: [
        {
          id: 'command',
          type: 'command:git:review',
          agent: 'reviewer',
          input: {
            prompt: 'R a',
            command: '/git:review',
            arguments: ['a'],
            model: 'opus',
            allowedTools: ['Read'],
          },
        },
      ],
    });
    expect(run.kind === 'workflow' && path.basename(run.file!)).toBe('review.md');
  });

  it('expands every string of a workflow: spec and validates it with the command name', async () => {
    const wrong = '---\nworkflow:\n  tasks:\n    - { type: api_creation, agent: ghost }\n---\nx\n';
    const s = service({ 'feature.md': FEATURE, 'wrong.md': wrong });
    const run = await s.prepare(`/feature "todo list" --style 'dark mode'`);
    expect(run.kind === 'workflow' && run.spec).toEqual({
      name: `/feature "todo list" --style 'dark mode'`,
      tasks: [
        {
          id: 'api',
          type: 'api_creation',
          agent: 'backend_agent',
          input: { feature: 'todo list', all: `"todo list" --style 'dark mode'` },
        },
        {
          id: 'ui',
          type: 'ui_integration',
          agent: 'frontend_agent',
          input: { feature: 'todo list', style: 'dark mode' },
        },
      ],
    });
    await expect(s.prepare('/wrong')).rejects.toMatchObject({
      code: 'HIVE_ERR_SPEC_INVALID',
      message: expect.stringContaining('/wrong: '),
    });
  });

  it('names missing required arguments with the hint; empty quoted arguments count as given', async () => {
    const s = service({ 'feature.md': FEATURE });
    await expect(s.prepare('/feature')).rejects.toMatchObject({
      code: 'HIVE_ERR_COMMAND_ARGS',
      message: expect.stringContaining('<name> [--style S]'),
      details: { missing: ['name'], hint: '<name> [--style S]' },
    });
    const empty = await s.prepare('/feature ""');
    expect(empty.kind === 'workflow' && empty.args).toEqual(['']);
    await expect(s.prepare('/feature "unclosed')).rejects.toMatchObject({ code: 'HIVE_ERR_COMMAND_ARGS' });
  });

  it('answers an unknown command with the closest names', async () => {
    const s = service({
      'review.md': agentCommand('R'),
      'git/commit.md': agentCommand('C'),
      'deploy.md': agentCommand('D'),
    });
    await expect(s.prepare('/reveiw x')).rejects.toMatchObject({
      code: 'HIVE_ERR_COMMAND_NOT_FOUND',
      status: 404,
      details: { command: '/reveiw', suggestions: ['/review'] },
    });
    await expect(s.prepare('/comit')).rejects.toMatchObject({ details: { suggestions: ['/git:commit'] } });
    await expect(s.prepare('/hive:stats')).rejects.toMatchObject({
      details: { suggestions: ['/hive:status'] },
    });
    const far = await s.prepare('/zzzzzzzzzzzz').catch((e) => e);
    expect(far.details.suggestions).toHaveLength(1);
  });

  it('delivers hostile arguments as literal text and executes nothing', async () => {
    const marker = path.join(tmpdir(), `hive-pwned-${process.pid}-${Date.now()}`);
    const s = service({ 'review.md': agentCommand('Review: $ARGUMENTS | first: $1 | last: $ARGUMENTS[4]') });
    const hostile = [
      '; rm -rf /',
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      'line1\nline2',
      `'; touch ${marker}; echo '`,
    ];
    const argumentString = hostile.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const run = await s.prepare(`/review ${argumentString} && touch ${marker}`);
    const input = taskInput(run);
    expect(input.arguments).toEqual([...hostile, '&&', 'touch', marker]);
    expect(input.prompt).toBe(
      `Review: ${argumentString} && touch ${marker} | first: ; rm -rf / | last: '; touch ${marker}; echo '`,
    );
    expect(JSON.parse(JSON.stringify(run.kind === 'workflow' && run.spec))).toEqual(
      run.kind === 'workflow' && run.spec,
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(marker)).toBe(false);
  });

  it('gives the command.invoked data in one shape for workflows and built-ins', async () => {
    const s = new CommandService({
      config: testConfig(commandTree({ 'review.md': agentCommand('R $1') })),
      builtins: {
        status: async () => 's',
        agents: async () => 'a',
        cancel: async () => 'c',
        retry: async () => 'r',
        trace: async () => 't',
      },
      watch: false,
    });
    services.push(s);
    const run = await s.prepare('/review "a b"');
    expect(commandInvokedData(run)).toEqual({
      command: '/review',
      arguments: '"a b"',
      args: ['a b'],
      file: run.kind === 'workflow' ? run.file : 'x',
      kind: 'workflow',
    });
    expect(commandInvokedData(await s.prepare('/hive:trace cid-1'))).toEqual({
      command: '/hive:trace',
      arguments: 'cid-1',
      args: ['cid-1'],
      file: null,
      kind: 'builtin',
    });
  });

  it('earlier folders shadow later ones; missing folders are fine', async () => {
    const dir = commandTree({ 'review.md': agentCommand('first') });
    const other = commandTree({ 'review.md': agentCommand('second'), 'only.md': agentCommand('only') });
    const s = new CommandService({
      config: testConfig(dir, ['cmds', path.join(other, 'cmds'), 'does-not-exist']),
      watch: false,
    });
    services.push(s);
    expect(taskInput(await s.prepare('/review x')).prompt).toBe('first');
    expect(taskInput(await s.prepare('/only x')).prompt).toBe('only');
    expect((await s.list()).errors).toEqual([]);
  });
});
