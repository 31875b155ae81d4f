import { describe, expect, it } from 'vitest';
import { parseCommandFile } from '../../src/commands/command-file.js';
import { agentCommand } from './helpers.js';

const parse = (text: string) => parseCommandFile('r', '/c/r.md', text);
const problemsOf = (text: string) => {
  const r = parse(text);
  if (r.ok) throw new Error('expected problems');
  return r.problems;
};

describe('command files', () => {
  it('reads Claude Code keys and keeps unknown ones as written', () => {
    const r = parse(
      agentCommand(
        'Review $1',
        'allowed-tools: Read, Grep\nmodel: opus\ncustom-key: 42\ndisable-model-invocation: true\n',
      ),
    );
    expect(r.ok && r.command).toMatchObject({
      name: 'r',
      file: '/c/r.md',
      description: 'test',
      argumentHint: '<path>',
      allowedTools: 'Read, Grep',
      model: 'opus',
      agent: 'reviewer',
      body: 'Review $1',
    });
    expect(r.ok && r.command.frontmatter).toMatchObject({
      'custom-key': 42,
      'disable-model-invocation': true,
    });
  });

  it('reads [bracketed] hints and descriptions as text, as Claude Code files write them', () => {
    const r = parse(
      '---\nargument-hint: [pr-number] [priority]\ndescription: [WIP] triage\nagent: x\n---\nb',
    );
    expect(r.ok && r.command).toMatchObject({
      argumentHint: '[pr-number] [priority]',
      description: '[WIP] triage',
    });
    const list = parse('---\nallowed-tools: [Read, Grep]\nagent: x\n---\nb');
    expect(list.ok && list.command.allowedTools).toEqual(['Read', 'Grep']);
  });

  it('accepts an inline workflow and CRLF line endings', () => {
    const r = parse(
      '---\r\nworkflow:\r\n  tasks:\r\n    - { type: review, input: { p: "$1" } }\r\n---\r\nbody\r\n',
    );
    expect(r.ok && r.command.workflow).toEqual({ tasks: [{ type: 'review', input: { p: '$1' } }] });
  });

  it('refuses shell pre-commands with the file line of each', () => {
    const problems = problemsOf(agentCommand('line one\n!`rm -rf /`\nStatus: !`git status`\nfine ! `x`'));
    expect(problems.map((p) => p.path)).toEqual(['/c/r.md:7', '/c/r.md:8']);
    expect(problems[0]!.message).toMatch(/shell pre-commands/);
    // Without frontmatter the body starts on line 1.
    expect(problemsOf('  !`date`')[0]).toMatchObject({ path: '/c/r.md:1', line: 1 });
  });

  it('reports YAML errors and wrong types at the file line of the key', () => {
    const yaml = problemsOf('---\ndescription: ok\nagent: x\nmodel: "open\n---\nbody');
    expect(yaml[0]!.path).toMatch(/^\/c\/r\.md:\d+$/);
    expect(yaml[0]!.line).toBeGreaterThanOrEqual(4);
    const types = problemsOf('---\ndescription: d\nagent: 12 bad\n---\nbody');
    expect(types[0]).toMatchObject({ path: '/c/r.md:3', message: expect.stringMatching(/^agent: /) });
    const wf = problemsOf('---\ndescription: d\nworkflow: [a, b]\n---\nbody');
    expect(wf[0]).toMatchObject({ path: '/c/r.md:3', message: expect.stringMatching(/^workflow: /) });
    expect(problemsOf('---\n- a list\n---\nb')[0]!.message).toMatch(/mapping/);
    expect(problemsOf('---\nagent: x\nagent: y\n---\nb')[0]!.path).toBe('/c/r.md:3');
    expect(problemsOf('---\nagent: *nowhere\n---\nb')[0]!.path).toMatch(/^\/c\/r\.md:\d+$/);
  });

  it('needs exactly one of agent: and workflow:, and a closed frontmatter', () => {
    expect(problemsOf('---\nagent: x\nworkflow: { tasks: [] }\n---\nb')[0]!.message).toMatch(/not both/);
    expect(problemsOf('---\ndescription: d\n---\nb')[0]!.message).toMatch(/agent: NAME or workflow:/);
    expect(problemsOf('just a Claude Code prompt')[0]!.message).toMatch(/agent: NAME or workflow:/);
    expect(problemsOf('---\nagent: x\nbody')[0]).toMatchObject({
      path: '/c/r.md:1',
      message: /never closed/,
    });
    expect(parse('\uFEFF---\nagent: x\n---\n').ok).toBe(true);
  });
});
