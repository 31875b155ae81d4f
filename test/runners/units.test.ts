import { describe, expect, it } from 'vitest';
import { refPart, taskBranch } from '../../src/agents/git/branch.js';
import type { ProgressStep } from '../../src/agents/runner.js';
import { aider } from '../../src/agents/runners/aider.js';
import { claudeCode } from '../../src/agents/runners/claude-code.js';
import { codex } from '../../src/agents/runners/codex.js';
import { classifyText } from '../../src/agents/runners/coding/outcome.js';
import { renderPrompt } from '../../src/agents/runners/coding/template.js';
import { gemini } from '../../src/agents/runners/gemini.js';
import { capProgress, decode, encode } from '../../src/bus/envelope.js';

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
      { log: () => {}, progress: () => {}, stop: (c) => stops.push(c) },
      '/tmp',
    );
    s.onStdout('Tokens: 2.3k sent, 150 received. Cost: $0.03 message, $0.03 session.');
    expect(s.usage()).toEqual({ inputTokens: 2300, outputTokens: 150, costUsd: 0.03 });
    s.onStdout('Tokens: 1,200 sent, 1.5k received. Cost: $0.04 message, $0.07 session.');
    expect(s.usage()).toEqual({ inputTokens: 3500, outputTokens: 1650, costUsd: 0.07 });
    expect(stops).toEqual(['budget']);
  });
});

describe('progress steps (task.progress)', () => {
  const record = () => {
    const steps: { step: ProgressStep; message: string | undefined }[] = [];
    const logs: string[] = [];
    const hooks = {
      log: (_l: string, m: string) => logs.push(m),
      progress: (step: ProgressStep, message?: string) => steps.push({ step, message }),
      stop: () => {},
    };
    return { steps, logs, hooks };
  };
  const exit = { code: 0, signal: null } as never;

  it('claude: init, each assistant turn with its tools, and the result; user events stay log lines', () => {
    const { steps, logs, hooks } = record();
    const s = claudeCode.session(opts, hooks, '/tmp');
    const emit = (o: unknown) => s.onStdout(JSON.stringify(o));
    emit({ type: 'system', subtype: 'init', session_id: 'sess-1', model: 'claude-sonnet-4-5' });
    emit({
      type: 'assistant',
      message: {
        content: [
          { type: 'text', text: 'writing it' },
          { type: 'tool_use', name: 'Write', input: { file_path: 'a' } },
        ],
        usage: { input_tokens: 10, output_tokens: 5 },
      },
    });
    emit({ type: 'user', message: { content: [{ type: 'tool_result', content: 'ok' }] } });
    emit({ type: 'assistant', message: { content: [{ type: 'text', text: 'done' }] } });
    emit({ type: 'result', subtype: 'success', is_error: false, num_turns: 2, total_cost_usd: 0.02 });
    expect(steps.map((x) => [x.step.kind, x.step.turn])).toEqual([
      ['init', undefined],
      ['turn', 1],
      ['turn', 2],
      ['result', 2],
    ]);
    expect(steps[0]!.step.sessionId).toBe('sess-1');
    expect(steps[0]!.message).toBe('[system init] session sess-1, model claude-sonnet-4-5');
    expect(steps[1]!.step).toMatchObject({ tools: ['Write'], inputTokens: 10, outputTokens: 5 });
    expect(steps[1]!.step.summary).toBe('turn 1 · Write: writing it');
    expect(steps[3]!.step).toMatchObject({ status: 'success', costUsd: 0.02 });
    expect(logs).toEqual(['[user] result ok']);
  });

  it('codex: thread, turns and completed items; gemini: its final stats; aider: model, edits, replies', async () => {
    const c = record();
    const s = codex.session(opts, c.hooks, '/tmp');
    for (const ev of [
      { type: 'thread.started', thread_id: 'th_1' },
      { type: 'turn.started' },
      { type: 'item.started', item: { type: 'command_execution', command: 'ls' } },
      { type: 'item.completed', item: { type: 'command_execution', command: 'ls', exit_code: 0 } },
      { type: 'turn.completed', usage: { input_tokens: 100, output_tokens: 7 } },
    ])
      s.onStdout(JSON.stringify(ev));
    expect(c.steps.map((x) => x.step.kind)).toEqual([
      'thread.started',
      'turn.started',
      'item.completed',
      'turn.completed',
    ]);
    expect(c.steps[2]!.step).toMatchObject({
      item: 'command_execution',
      turn: 1,
      summary: 'command_execution: $ ls → 0',
    });
    expect(c.steps[3]!.step).toMatchObject({ turn: 1, inputTokens: 100, outputTokens: 7 });
    expect(c.logs).toEqual(['[item.started command_execution] $ ls']);

    const g = record();
    const gs = gemini.session(opts, g.hooks, '/tmp');
    gs.onStdout(
      JSON.stringify({ response: 'ok', stats: { models: { m: { tokens: { prompt: 9, candidates: 3 } } } } }),
    );
    await gs.finish(exit);
    expect(g.steps.map((x) => x.step)).toEqual([
      { kind: 'stats', summary: '9 prompt tokens · 3 candidate tokens', inputTokens: 9, outputTokens: 3 },
    ]);

    const a = record();
    const as = aider.session(opts, a.hooks, '/tmp');
    for (const l of [
      'Aider v0.86.1',
      'Main model: gpt-4o with diff edit format',
      'Applied edit to src/a.py',
      'Tokens: 2.3k sent, 150 received. Cost: $0.03 message, $0.03 session.',
    ])
      as.onStdout(l);
    expect(a.steps.map((x) => [x.step.kind, x.step.summary])).toEqual([
      ['init', 'model gpt-4o'],
      ['edit', 'edited src/a.py'],
      ['reply', 'reply 1 · 2300 sent, 150 received · $0.03 session'],
    ]);
    expect(a.steps[2]!.step).toMatchObject({ turn: 1, inputTokens: 2300, outputTokens: 150, costUsd: 0.03 });
    expect(a.logs).toEqual(['Aider v0.86.1']);
  });

  it('a step is cut down to what the log envelope accepts', () => {
    const step = capProgress({
      kind: 'k'.repeat(200),
      summary: 's'.repeat(5_000),
      turn: 2.7,
      tools: Array.from({ length: 50 }, (_, i) => `tool${i}`.padEnd(300, 'x')),
      costUsd: Number.NaN,
      inputTokens: -1,
      outputTokens: 3,
    });
    expect(step.kind).toHaveLength(64);
    expect(step.summary).toHaveLength(500);
    expect(step.turn).toBe(2);
    expect(step.tools).toHaveLength(20);
    expect(step.costUsd).toBeUndefined();
    expect(step.inputTokens).toBeUndefined();
    // A log message of one line carrying `progress`, encoded (validated) as the worker does.
    const encodeLine = (progress: ProgressStep) =>
      encode({
        kind: 'log',
        cid: 'c1',
        tp: '',
        ts: Date.now(),
        wf: 'wf',
        task: 't',
        attempt: 1,
        payload: { instance: 'i', agent: 'a', lines: [{ ts: 1, level: 'info', message: 'm', progress }] },
      });
    const fields = encodeLine(step);
    const back = decode(fields);
    expect(back.ok && back.envelope.kind === 'log' && back.envelope.payload.lines[0]!.progress).toEqual(step);
    // An unknown field is refused where written, not silently dropped.
    expect(() => encodeLine({ kind: 'x', summary: 'y', huge: 'z' } as never)).toThrow(/progress/);
  });
});

describe('task.progress in the CLI follow view', () => {
  it('is a plain line and changes no task status', async () => {
    const { applyEvent } = await import('../../src/cli/render/progress.js');
    const view = { id: 'wf', correlationId: 'c', status: 'running', tasks: [] };
    const base = { correlationId: 'c', workflowId: 'wf', taskId: 'work', agent: 'claude_agent' };
    applyEvent(view, {
      ...base,
      seq: 1,
      ts: new Date().toISOString(),
      type: 'task.started',
      data: { attempt: 1 },
    });
    const line = applyEvent(view, {
      ...base,
      seq: 2,
      ts: new Date().toISOString(),
      type: 'task.progress',
      data: { attempt: 1, kind: 'turn', turn: 1, summary: 'turn 1 · Write: writing it' },
    });
    expect(line).toBe('work progress on claude_agent attempt 1: [turn] turn 1 · Write: writing it');
    expect(view.tasks).toMatchObject([{ id: 'work', status: 'running' }]);
  });
});
