import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCommandFile } from '../../src/commands/command-file.js';
import { expand, expandDeep } from '../../src/commands/expand.js';
import { CommandService } from '../../src/commands/service.js';
import { splitArgs, splitInvocation } from '../../src/commands/split-args.js';
import { parseConfig } from '../../src/core/config-file.js';
import { HiveError } from '../../src/core/errors.js';

const config = (dir: string) =>
  parseConfig(
    {
      agents: {
        backend_agent: { capabilities: ['api_creation'], runner: 'sdk' },
        frontend_agent: { capabilities: ['ui_integration'], runner: 'sdk' },
        reviewer: { capabilities: ['review'], runner: 'sdk' },
      },
      commands: ['cmds'],
    },
    dir,
  );

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'hive-cmds-'));
  for (const [rel, text] of Object.entries(files)) {
    const p = path.join(dir, 'cmds', rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  return dir;
}

const agentCmd = (body: string, extra = '') =>
  `---\ndescription: test\nargument-hint: <path>\nagent: reviewer\n${extra}---\n${body}\n`;

describe('argument splitting', () => {
  it('handles quotes, escapes and empty arguments without a shell', () => {
    expect(splitArgs(`a "b c" 'd e' f\\ g "" ''`)).toEqual(['a', 'b c', 'd e', 'f g', '', '']);
    expect(splitArgs(`"say \\"hi\\"" 'it''s'`)).toEqual(['say "hi"', 'its']);
    expect(splitArgs('$HOME $(pwd) `id`')).toEqual(['$HOME', '$(pwd)', '`id`']);
    expect(splitArgs('   ')).toEqual([]);
    expect(() => splitArgs('"open')).toThrow(HiveError);
    expect(splitInvocation('/git:review  src/a.ts')).toEqual({ name: 'git:review', rest: 'src/a.ts' });
    expect(() => splitInvocation('no slash')).toThrow(HiveError);
  });

  it('substitutes $ARGUMENTS, $1…$9 and $ARGUMENTS[N] as plain text, in one pass', () => {
    expect(
      expand('all=$ARGUMENTS first=$1 second=$2 idx=$ARGUMENTS[1] missing=$9', 'x "y z"', ['x', 'y z']),
    ).toBe('all=x "y z" first=x second=y z idx=y z missing=');
    expect(expand('$1', '$2', ['$2', 'nope'])).toBe('$2');
    expect(expandDeep({ a: ['$1', { b: '$ARGUMENTS' }], n: 3 }, 'q', ['q'])).toEqual({
      a: ['q', { b: 'q' }],
      n: 3,
    });
  });

  it('keeps arbitrary argument text literal (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => {
        const quoted = `'${s.replace(/'/g, `'\\''`)}'`;
        expect(splitArgs(quoted)).toEqual([s]);
        expect(expand('[$1]', quoted, [s])).toBe(`[${s}]`);
      }),
      { numRuns: 300 },
    );
  });
});

describe('command files', () => {
  it('reads the frontmatter, keeps unknown keys and refuses shell pre-commands with their line', () => {
    const ok = parseCommandFile(
      'r',
      '/c/r.md',
      agentCmd('Review $1', 'allowed-tools: Read, Grep\nmodel: opus\ncustom-key: 42\n'),
    );
    expect(ok.ok && ok.command).toMatchObject({
      description: 'test',
      argumentHint: '<path>',
      allowedTools: 'Read, Grep',
      model: 'opus',
      agent: 'reviewer',
    });
    expect(ok.ok && ok.command.frontmatter['custom-key']).toBe(42);
    const bad = parseCommandFile('r', '/c/r.md', agentCmd('line one\n!`rm -rf /`'));
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.problems[0]).toMatchObject({ path: '/c/r.md:7' });
    const yaml = parseCommandFile('r', '/c/r.md', '---\ndescription: [unclosed\nagent: x\n---\nbody');
    expect(!yaml.ok && yaml.problems[0]!.path).toMatch(/^\/c\/r\.md:\d+$/);
    const types = parseCommandFile('r', '/c/r.md', '---\nagent: 12 bad\n---\nbody');
    expect(!types.ok && types.problems[0]!.message).toMatch(/agent/);
  });
});

describe('command service', () => {
  it('lists namespaced commands, reports a broken file and keeps the others usable', async () => {
    const dir = tree({
      'review.md': agentCmd('Review $1'),
      'git/review.md': agentCmd('Git review of $ARGUMENTS'),
      'broken.md': agentCmd('!`date`'),
    });
    const s = new CommandService({ config: config(dir), watch: false });
    const { commands, errors } = await s.list();
    expect(commands.map((c) => c.name)).toEqual(
      expect.arrayContaining(['/review', '/git:review', '/hive:status']),
    );
    expect(errors[0]!.path).toMatch(/broken\.md:\d+$/);
    const run = await s.prepare('/git:review "src/a b.ts" --strict');
    expect(run.kind === 'workflow' && (run.spec.tasks as any[])[0].input.prompt).toBe(
      'Git review of "src/a b.ts" --strict',
    );
    await expect(s.prepare('/broken')).rejects.toMatchObject({ code: 'HIVE_ERR_COMMAND_INVALID' });
    await s.close();
  });

  it('gives the hint for missing required arguments and the closest names for unknown commands', async () => {
    const s = new CommandService({
      config: config(tree({ 'review.md': agentCmd('Review $1') })),
      watch: false,
    });
    await expect(s.prepare('/review')).rejects.toMatchObject({
      code: 'HIVE_ERR_COMMAND_ARGS',
      message: expect.stringContaining('<path>'),
    });
    await expect(s.prepare('/reveiw x')).rejects.toMatchObject({
      code: 'HIVE_ERR_COMMAND_NOT_FOUND',
      details: { suggestions: ['/review'] },
    });
    await s.close();
  });

  it('delivers hostile arguments as literal text and executes nothing', async () => {
    const marker = path.join(tmpdir(), `hive-pwned-${Date.now()}`);
    const s = new CommandService({
      config: config(tree({ 'review.md': agentCmd('Review: $ARGUMENTS | first: $1') })),
      watch: false,
    });
    const hostile = `"; rm -rf /" "$(touch ${marker})" "\`touch ${marker}\`" "line1\nline2"`;
    const run = await s.prepare(`/review ${hostile}`);
    const input = run.kind === 'workflow' ? (run.spec.tasks as any[])[0].input : null;
    expect(input.arguments).toEqual([
      '; rm -rf /',
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      'line1\nline2',
    ]);
    expect(input.prompt).toContain(`$(touch ${marker})`);
    expect(input.prompt).toContain('first: ; rm -rf /');
    await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(marker)).toBe(false);
    await s.close();
  });

  it('uses an edited or new file on the next run without a restart', async () => {
    const dir = tree({ 'review.md': agentCmd('Version one $1') });
    const s = new CommandService({ config: config(dir), watch: true });
    const first = await s.prepare('/review x');
    expect(first.kind === 'workflow' && (first.spec.tasks as any[])[0].input.prompt).toBe('Version one x');
    await new Promise((r) => setTimeout(r, 50));
    writeFileSync(path.join(dir, 'cmds', 'review.md'), agentCmd('Version two, longer $1'));
    writeFileSync(path.join(dir, 'cmds', 'fresh.md'), agentCmd('Fresh $1'));
    const second = await s.prepare('/review x');
    expect(second.kind === 'workflow' && (second.spec.tasks as any[])[0].input.prompt).toBe(
      'Version two, longer x',
    );
    expect((await s.prepare('/fresh y')).kind).toBe('workflow');
    await s.close();
  });

  it('expands a workflow: command into a valid spec and validates its agents', async () => {
    const feature = `---\nargument-hint: <name>\nworkflow:\n  tasks:\n    - { id: api, type: api_creation, agent: backend_agent, input: { feature: "$1" } }\n    - { id: ui, type: ui_integration, agent: frontend_agent, input: { feature: "$1" } }\n---\nBuild $1\n`;
    const wrong = `---\nworkflow:\n  tasks:\n    - { type: api_creation, agent: ghost }\n---\nx\n`;
    const s = new CommandService({
      config: config(tree({ 'feature.md': feature, 'wrong.md': wrong })),
      watch: false,
    });
    const run = await s.prepare('/feature "todo list"');
    expect(run.kind === 'workflow' && run.spec).toMatchObject({
      tasks: [{ id: 'api', input: { feature: 'todo list' } }, { id: 'ui' }],
    });
    await expect(s.prepare('/wrong')).rejects.toMatchObject({ code: 'HIVE_ERR_SPEC_INVALID' });
    await s.close();
  });
});
