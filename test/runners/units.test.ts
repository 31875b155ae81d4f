import { describe, expect, it } from 'vitest';
import { refPart, taskBranch } from '../../src/agents/git/branch.js';
import { aider } from '../../src/agents/runners/aider.js';
import { claudeCode } from '../../src/agents/runners/claude-code.js';
import { codex } from '../../src/agents/runners/codex.js';
import { classifyText } from '../../src/agents/runners/coding/outcome.js';
import { renderPrompt } from '../../src/agents/runners/coding/template.js';
import { gemini } from '../../src/agents/runners/gemini.js';

const task = {
  id: 't1',
  workflowId: 'wf',
  correlationId: 'c',
  type: 'code',
  attempt: 2,
  input: { prompt: 'fix it', n: { a: 1 } },
};
const opts = { extraArgs: [], files: [] };

describe('prompt template', () => {
  it('fills task fields, JSON for non-strings, and refuses holes', () => {
    expect(
      renderPrompt('{{task.type}}#{{task.attempt}}: {{ task.input.prompt }} {{task.input.n}}', task),
    ).toEqual({
      ok: true,
      text: 'code#2: fix it {"a":1}',
    });
    const r = renderPrompt('{{task.input.missing}}', task);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toContain('{{task.input.missing}}');
    expect(renderPrompt('{{task.input.__proto__}}', task).ok).toBe(false);
  });
});

describe('branch names', () => {
  it('keeps spec ids inside what git accepts', () => {
    expect(taskBranch('hive', 'wf 1', '..a/b:c~^')).toBe('hive/wf-1/a-b-c-');
    expect(refPart('x.lock')).toBe('x');
    expect(refPart('...')).toBe('_');
  });
});

describe('documented invocations', () => {
  it('claude: -p PROMPT stream-json --verbose and the mapped flags; a prompt starting with - goes on stdin', () => {
    const inv = claudeCode.invocation(
      'do',
      {
        ...opts,
        model: 'm',
        maxTurns: 3,
        budgetUsd: 1.5,
        permissionMode: 'plan',
        allowedTools: ['Read', 'Bash(git log:*)'],
      },
      '/tmp',
    );
    expect(inv.args).toEqual([
      '-p',
      'do',
      '--output-format',
      'stream-json',
      '--verbose',
      '--model',
      'm',
      '--max-turns',
      '3',
      '--max-budget-usd',
      '1.5',
      '--permission-mode',
      'plan',
      '--allowedTools',
      'Read,Bash(git log:*)',
    ]);
    expect(claudeCode.invocation('--rm -rf', opts, '/tmp')).toMatchObject({
      args: ['-p', '--output-format', 'stream-json', '--verbose'],
      stdin: '--rm -rf',
    });
  });
  it('codex: exec --json --sandbox -o FILE PROMPT', () => {
    expect(codex.invocation('do', { ...opts, sandbox: 'read-only' }, '/tmp/x').args).toEqual([
      'exec',
      '--json',
      '--sandbox',
      'read-only',
      '-o',
      '/tmp/x/last-message.txt',
      'do',
    ]);
  });
  it('gemini: --output-format json --prompt=PROMPT', () => {
    expect(gemini.invocation('-x', { ...opts, permissionMode: 'yolo' }, '/tmp').args).toEqual([
      '--output-format',
      'json',
      '--approval-mode',
      'yolo',
      '--prompt=-x',
    ]);
  });
  it('aider: --yes-always --no-auto-commits --message TEXT FILES', () => {
    expect(aider.invocation('do', { ...opts, files: ['a.py'] }, '/tmp').args).toEqual([
      '--yes-always',
      '--no-auto-commits',
      '--no-pretty',
      '--message',
      'do',
      'a.py',
    ]);
  });
});

describe('classification by text', () => {
  it('recognises rate limits and auth failures the CLIs print', () => {
    expect(classifyText('API Error: 429 rate_limit_error')).toBe('rate_limited');
    expect(classifyText('Invalid API key · Please run /login')).toBe('auth');
    expect(classifyText('segfault')).toBe('crash');
  });
  it('aider: usage from its Tokens/Cost line, budget enforced from the session cost', () => {
    const stops: string[] = [];
    const s = aider.session(
      { ...opts, budgetUsd: 0.05 },
      { log: () => {}, stop: (c) => stops.push(c) },
      '/tmp',
    );
    s.onStdout('Tokens: 2.3k sent, 150 received. Cost: $0.03 message, $0.03 session.');
    expect(s.usage()).toEqual({ inputTokens: 2300, outputTokens: 150, costUsd: 0.03 });
    s.onStdout('Tokens: 1,200 sent, 1.5k received. Cost: $0.04 message, $0.07 session.');
    expect(s.usage()).toEqual({ inputTokens: 3500, outputTokens: 1650, costUsd: 0.07 });
    expect(stops).toEqual(['budget']);
  });
});
