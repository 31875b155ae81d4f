import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitWorkflow } from '../../src/engine/submit.js';
import { type EngineHarness, engineHarness, waitFor, waitForWorkflow } from '../helpers/engine.js';
import { type HiveProcess, startHive, stopAll, writeConfig } from '../helpers/processes.js';
import { git, PATH_WITH_FIXTURES, tempRepo } from './helpers.js';

/**
 * Each coding runner against its stand-in CLI, run by real `hive agent` processes, through the real engine
 * (Redis, PostgreSQL): every case ends in the status and error code its class implies, with logs and usage.
 */
const repo = tempRepo();
const home = mkdtempSync(path.join(tmpdir(), 'hive-home-'));
const coding = { workspace: 'worktree', repo, concurrency: 8, retries: 0 };
const config = {
  agents: {
    claude_agent: {
      ...coding,
      capabilities: ['code'],
      runner: 'claude-code',
      maxTurns: 3,
      budgetUsd: 0.05,
      permissionMode: 'acceptEdits',
      allowedTools: ['Read', 'Write'],
      model: 'claude-sonnet-4-5',
      maxParallel: 4,
    },
    codex_agent: {
      ...coding,
      capabilities: ['code_codex'],
      runner: 'codex',
      sandbox: 'workspace-write',
      maxTurns: 3,
    },
    gemini_agent: { ...coding, capabilities: ['code_gemini'], runner: 'gemini', model: 'gemini-2.5-pro' },
    // Four tasks at once per instance, but one claude run at a time on this host (maxParallel).
    serial_agent: {
      ...coding,
      capabilities: ['code_serial'],
      runner: 'claude-code',
      concurrency: 4,
      maxParallel: 1,
      workspace: 'none',
    },
    aider_agent: { ...coding, capabilities: ['code_aider'], runner: 'aider', budgetUsd: 0.05 },
    // An ordinary runner printing what looks like a coding CLI's events: log lines only, never progress.
    command_agent: {
      capabilities: ['echo'],
      runner: 'command',
      command: [
        'node',
        '-e',
        'console.log(JSON.stringify({type:"system",subtype:"init",session_id:"s"}));console.log("[assistant] turn 1");console.error("a warning")',
      ],
      retries: 0,
    },
  },
  engine: {
    visibilityTimeoutMs: 3_000,
    claimIntervalMs: 250,
    heartbeatMs: 500,
    retryBaseMs: 20,
    retryMaxMs: 50,
  },
};

interface Case {
  agent: string;
  type: string;
  case: string;
  status: 'completed' | 'failed';
  code?: string;
  retryable?: boolean;
  usage?: { inputTokens?: number; outputTokens?: number; costUsd?: number };
  timeoutMs?: number;
}

const CASES: Case[] = [
  {
    agent: 'claude_agent',
    type: 'code',
    case: 'success',
    status: 'completed',
    usage: { inputTokens: 300, outputTokens: 80, costUsd: 0.025 },
  },
  {
    agent: 'claude_agent',
    type: 'code',
    case: 'max_turns',
    status: 'failed',
    code: 'HIVE_ERR_RUNNER_MAX_TURNS',
    retryable: false,
    usage: { costUsd: 0.03 },
  },
  {
    agent: 'claude_agent',
    type: 'code',
    case: 'budget',
    status: 'failed',
    code: 'HIVE_ERR_RUNNER_BUDGET',
    retryable: false,
    usage: { costUsd: 0.06 },
  },
  { agent: 'claude_agent', type: 'code', case: 'crash', status: 'failed', code: 'HIVE_ERR_RUNNER_CRASH' },
  {
    agent: 'claude_agent',
    type: 'code',
    case: 'hang',
    status: 'failed',
    code: 'HIVE_ERR_TASK_TIMEOUT',
    timeoutMs: 1_500,
  },
  {
    agent: 'claude_agent',
    type: 'code',
    case: 'malformed',
    status: 'failed',
    code: 'HIVE_ERR_RUNNER_OUTPUT_INVALID',
  },
  {
    agent: 'claude_agent',
    type: 'code',
    case: 'rate_limit',
    status: 'failed',
    code: 'HIVE_ERR_RUNNER_RATE_LIMITED',
    retryable: true,
  },
  {
    agent: 'claude_agent',
    type: 'code',
    case: 'auth',
    status: 'failed',
    code: 'HIVE_ERR_RUNNER_AUTH',
    retryable: false,
  },
  {
    agent: 'codex_agent',
    type: 'code_codex',
    case: 'success',
    status: 'completed',
    usage: { inputTokens: 2000, outputTokens: 100 },
  },
  {
    agent: 'codex_agent',
    type: 'code_codex',
    case: 'max_turns',
    status: 'failed',
    code: 'HIVE_ERR_RUNNER_MAX_TURNS',
  },
  {
    agent: 'codex_agent',
    type: 'code_codex',
    case: 'crash',
    status: 'failed',
    code: 'HIVE_ERR_RUNNER_CRASH',
  },
  {
    agent: 'codex_agent',
    type: 'code_codex',
    case: 'hang',
    status: 'failed',
    code: 'HIVE_ERR_TASK_TIMEOUT',
    timeoutMs: 1_500,
  },
  {
    agent: 'codex_agent',
    type: 'code_codex',
    case: 'malformed',
    status: 'failed',
    code: 'HIVE_ERR_RUNNER_OUTPUT_INVALID',
  },
  {
    agent: 'codex_agent',
    type: 'code_codex',
    case: 'rate_limit',
    status: 'failed',
    code: 'HIVE_ERR_RUNNER_RATE_LIMITED',
  },
  { agent: 'codex_agent', type: 'code_codex', case: 'auth', status: 'failed', code: 'HIVE_ERR_RUNNER_AUTH' },
  {
    agent: 'gemini_agent',
    type: 'code_gemini',
    case: 'success',
    status: 'completed',
    usage: { inputTokens: 900, outputTokens: 60 },
  },
  {
    agent: 'gemini_agent',
    type: 'code_gemini',
    case: 'gemini_max_turns',
    status: 'failed',
    code: 'HIVE_ERR_RUNNER_MAX_TURNS',
  },
  {
    agent: 'gemini_agent',
    type: 'code_gemini',
    case: 'crash',
    status: 'failed',
    code: 'HIVE_ERR_RUNNER_CRASH',
  },
  {
    agent: 'gemini_agent',
    type: 'code_gemini',
    case: 'hang',
    status: 'failed',
    code: 'HIVE_ERR_TASK_TIMEOUT',
    timeoutMs: 1_500,
  },
  {
    agent: 'gemini_agent',
    type: 'code_gemini',
    case: 'malformed',
    status: 'failed',
    code: 'HIVE_ERR_RUNNER_OUTPUT_INVALID',
  },
  {
    agent: 'gemini_agent',
    type: 'code_gemini',
    case: 'rate_limit',
    status: 'failed',
    code: 'HIVE_ERR_RUNNER_RATE_LIMITED',
  },
  {
    agent: 'gemini_agent',
    type: 'code_gemini',
    case: 'auth',
    status: 'failed',
    code: 'HIVE_ERR_RUNNER_AUTH',
  },
  {
    agent: 'aider_agent',
    type: 'code_aider',
    case: 'success',
    status: 'completed',
    usage: { inputTokens: 4600, outputTokens: 300, costUsd: 0.03 },
  },
  {
    agent: 'aider_agent',
    type: 'code_aider',
    case: 'budget',
    status: 'failed',
    code: 'HIVE_ERR_RUNNER_BUDGET',
    retryable: false,
  },
  {
    agent: 'aider_agent',
    type: 'code_aider',
    case: 'crash',
    status: 'failed',
    code: 'HIVE_ERR_RUNNER_CRASH',
  },
  {
    agent: 'aider_agent',
    type: 'code_aider',
    case: 'hang',
    status: 'failed',
    code: 'HIVE_ERR_TASK_TIMEOUT',
    timeoutMs: 1_500,
  },
  {
    agent: 'aider_agent',
    type: 'code_aider',
    case: 'rate_limit',
    status: 'failed',
    code: 'HIVE_ERR_RUNNER_RATE_LIMITED',
  },
  { agent: 'aider_agent', type: 'code_aider', case: 'auth', status: 'failed', code: 'HIVE_ERR_RUNNER_AUTH' },
];

describe('coding-agent runners with stand-in CLIs', () => {
  let h: EngineHarness;
  let procs: HiveProcess[] = [];

  beforeAll(async () => {
    h = await engineHarness(config);
    const file = writeConfig(config);
    await h.startCoordinator();
    for (const name of Object.keys(config.agents)) {
      procs.push(
        startHive(['agent', name, '--config', file], {
          HIVE_KEY_PREFIX: h.prefix,
          HIVE_HOME: home,
          PATH: PATH_WITH_FIXTURES,
        }),
      );
    }
    await waitFor(
      async () => {
        const rows = await h.deps.db
          .selectFrom('agent_instances')
          .select('agent')
          .where('status', '=', 'online')
          .execute();
        return new Set(rows.map((r) => r.agent)).size >= Object.keys(config.agents).length;
      },
      30_000,
      'coding agents online',
    );
  });
  afterAll(async () => {
    await stopAll(procs);
    procs = [];
    await h.close();
  });

  it('ends every case in its status and error code, with logs and usage stored', async () => {
    const runs = await Promise.all(
      CASES.map(async (c, i) => {
        const name = `${c.agent}-${c.case}-${i}`;
        const res = await submitWorkflow(
          h.deps,
          {
            tasks: [
              {
                id: 'work',
                type: c.type,
                agent: c.agent,
                retries: 0,
                ...(c.timeoutMs ? { timeoutMs: c.timeoutMs } : {}),
                input: { prompt: `Do the work. #case ${c.case} #arg name=${name}`, files: ['README.md'] },
              },
            ],
          },
          { correlationId: `cc-${i}` },
        );
        return { c, name, res, wf: await waitForWorkflow(h, res.id, 45_000) };
      }),
    );
    for (const { c, name, res } of runs) {
      const label = `${c.agent}/${c.case}`;
      const task = await h.deps.db
        .selectFrom('tasks')
        .selectAll()
        .where('workflow_id', '=', res.id)
        .executeTakeFirstOrThrow();
      expect(task.status, label).toBe(c.status);
      const error = task.error as { code?: string; details?: { class?: string } } | null;
      if (c.code) expect(error?.code, `${label}: ${JSON.stringify(error)}`).toBe(c.code);
      if (c.usage) expect(task.usage, label).toMatchObject(c.usage);
      const logsOf = () =>
        h.deps.db.selectFrom('agent_logs').selectAll().where('workflow_id', '=', res.id).execute();
      // A run stopped by its deadline says so in its log, even when the CLI printed nothing before it. The
      // coordinator's own deadline sweep may have failed the task first (a busy machine): the agent's line and
      // result then arrive after the workflow ended.
      if (c.case === 'hang')
        await waitFor(
          async () => (await logsOf()).some((l) => l.message.endsWith('stopped: timeout')),
          15_000,
          `${label}: the stop in its log`,
        );
      const logs = await logsOf();
      expect(logs.length, `${label} logs`).toBeGreaterThan(0);
      expect(logs.every((l) => l.correlation_id === res.correlationId)).toBe(true);
      if (c.retryable !== undefined) {
        const failed = await h.deps.db
          .selectFrom('events')
          .select('type')
          .where('workflow_id', '=', res.id)
          .where('type', 'in', ['task.failed', 'task.retrying'])
          .execute();
        expect(failed.length, label).toBeGreaterThan(0);
      }
      if (c.status === 'completed') {
        const out = task.output as {
          branch: string;
          commit: string;
          diffstat: { filesChanged: number; files: { path: string }[] };
          result: string;
          diff?: string;
        };
        expect(out.branch, label).toBe(`hive/${res.id}/work`);
        expect(out.commit).toMatch(/^[0-9a-f]{40}$/);
        expect(git(repo, 'rev-parse', out.branch).trim()).toBe(out.commit);
        expect(out.diffstat.files.map((f) => f.path).sort(), label).toEqual(
          [`docs/${name}.md`, `src/${name}.txt`].sort(),
        );
        expect(git(repo, 'show', `${out.branch}:src/${name}.txt`)).toBe(`hello from ${name}\n`);
        if (c.agent === 'aider_agent') expect(out.diff).toContain(`+hello from ${name}`);
        else expect(out.result).toBe(`wrote ${name}`);
        // on-success cleanup: the folder is gone, the branch stays.
        expect(existsSync(path.join(home, 'worktrees', 'hive', res.id, 'work'))).toBe(false);
      }
    }
    // A failed attempt's worktree is kept for inspection (on-success policy), without a commit on its branch.
    const crash = runs.find((r) => r.c.agent === 'claude_agent' && r.c.case === 'max_turns')!;
    expect(existsSync(path.join(home, 'worktrees', 'hive', crash.res.id, 'work', 'a.txt'))).toBe(true);
    // Every stream-json event became a log line as it came (system init, assistant, user, result).
    const ok = runs.find((r) => r.c.agent === 'claude_agent' && r.c.case === 'success')!;
    const messages = (
      await h.deps.db
        .selectFrom('agent_logs')
        .select('message')
        .where('workflow_id', '=', ok.res.id)
        .orderBy('id')
        .execute()
    ).map((l) => l.message);
    expect(messages.some((m) => m.startsWith('[system init] session sess-'))).toBe(true);
    expect(messages.filter((m) => m.startsWith('[assistant]')).length, messages.join('\n')).toBe(2);
    expect(messages.some((m) => m.startsWith('[result success] 2 turns'))).toBe(true);
  }, 120_000);

  it('records each step of a coding run as a task.progress event, live and in order, before task.completed', async () => {
    const run = async (
      agent: string,
      type: string,
      cid: string,
      prompt = `#case success #arg name=${cid}`,
    ) => {
      const res = await submitWorkflow(
        h.deps,
        { tasks: [{ id: 'work', type, agent, retries: 0, input: { prompt, files: ['README.md'] } }] },
        { correlationId: cid },
      );
      const wf = await waitForWorkflow(h, res.id, 45_000);
      const events = await h.deps.db
        .selectFrom('events')
        .select(['seq', 'type', 'correlation_id', 'task_id', 'agent', 'data'])
        .where('workflow_id', '=', res.id)
        .orderBy('seq')
        .execute();
      const progress = events.filter((e) => e.type === 'task.progress');
      const data = progress.map((e) => e.data as Record<string, unknown>);
      return { res, wf, events, progress, data };
    };
    const [claude, codexRun, geminiRun, aiderRun, command] = await Promise.all([
      run('claude_agent', 'code', 'cc-progress-claude'),
      run('codex_agent', 'code_codex', 'cc-progress-codex'),
      run('gemini_agent', 'code_gemini', 'cc-progress-gemini'),
      run('aider_agent', 'code_aider', 'cc-progress-aider'),
      run('command_agent', 'echo', 'cc-progress-command', 'echo'),
    ]);
    for (const r of [claude, codexRun, geminiRun, aiderRun]) {
      const label = r.res.correlationId;
      expect(r.wf.status, label).toBe('completed');
      expect(r.progress.length, label).toBeGreaterThan(0);
      // Under the task's correlation ID, on the task, attempt 1, and all of it before the task's completion.
      expect(r.progress.every((e) => e.correlation_id === r.res.correlationId && e.task_id === 'work')).toBe(
        true,
      );
      expect(r.data.every((d) => d.attempt === 1 && typeof d.summary === 'string')).toBe(true);
      const completed = r.events.find((e) => e.type === 'task.completed')!;
      expect(Number(r.progress.at(-1)!.seq), label).toBeLessThan(Number(completed.seq));
    }
    // Claude: system init (its session), each assistant turn with the tools it called, then the result.
    expect(claude.data.map((d) => [d.kind, d.turn])).toEqual([
      ['init', undefined],
      ['turn', 1],
      ['turn', 2],
      ['result', 2],
    ]);
    expect(claude.progress.every((e) => e.agent === 'claude_agent')).toBe(true);
    expect(claude.data[0]!.sessionId).toMatch(/^sess-\d+$/);
    expect(claude.data[1]).toMatchObject({ tools: ['Write'], inputTokens: 150, outputTokens: 40 });
    expect(claude.data[3]).toMatchObject({ status: 'success', costUsd: 0.025 });
    // Codex: its thread, each turn's start and end, and every completed item in between.
    expect(codexRun.data.map((d) => [d.kind, d.turn, d.item])).toEqual([
      ['thread.started', undefined, undefined],
      ['turn.started', 1, undefined],
      ['item.completed', 1, 'file_change'],
      ['item.completed', 1, 'agent_message'],
      ['turn.completed', 1, undefined],
      ['turn.started', 2, undefined],
      ['item.completed', 2, 'file_change'],
      ['item.completed', 2, 'agent_message'],
      ['turn.completed', 2, undefined],
    ]);
    expect(codexRun.data[4]).toMatchObject({ inputTokens: 1000, outputTokens: 50 });
    // Gemini has no live events in its JSON format: its final stats are the one step.
    expect(geminiRun.data).toEqual([
      expect.objectContaining({ kind: 'stats', inputTokens: 900, outputTokens: 60 }),
    ]);
    // aider: the model it starts with, then each edit and each reply.
    expect(aiderRun.data.map((d) => d.kind)).toEqual(['init', 'edit', 'reply', 'edit', 'reply']);
    expect(aiderRun.data[4]).toMatchObject({ turn: 2, costUsd: 0.03 });
    // Each step is also the agent log line it describes.
    const claudeLogs = await h.deps.db
      .selectFrom('agent_logs')
      .select('message')
      .where('workflow_id', '=', claude.res.id)
      .execute();
    expect(claudeLogs.filter((l) => l.message.startsWith('[assistant]'))).toHaveLength(2);
    // An ordinary (command) runner's output is log lines only, whatever it prints.
    expect(command.wf.status).toBe('completed');
    const commandLogs = await waitFor(async () => {
      const rows = await h.deps.db
        .selectFrom('agent_logs')
        .select('message')
        .where('workflow_id', '=', command.res.id)
        .execute();
      return rows.length >= 3 ? rows : undefined;
    });
    expect(commandLogs.map((l) => l.message)).toContain('[assistant] turn 1');
    expect(command.progress).toEqual([]);
  }, 60_000);

  it('retries a rate-limited run with backoff, and not a budget or auth failure', async () => {
    const attempts = async (prompt: string, cid: string) => {
      const res = await submitWorkflow(
        h.deps,
        { tasks: [{ id: 't', type: 'code', agent: 'claude_agent', retries: 2, input: { prompt } }] },
        { correlationId: cid },
      );
      await waitForWorkflow(h, res.id, 45_000);
      const t = await h.deps.db
        .selectFrom('tasks')
        .selectAll()
        .where('workflow_id', '=', res.id)
        .executeTakeFirstOrThrow();
      return { attempt: t.attempt, status: t.status };
    };
    const [rl, auth, budget] = await Promise.all([
      attempts('#case rate_limit', 'cc-rl'),
      attempts('#case auth', 'cc-auth'),
      attempts('#case budget', 'cc-budget'),
    ]);
    expect(rl).toEqual({ attempt: 3, status: 'failed' });
    expect(auth).toEqual({ attempt: 1, status: 'failed' });
    expect(budget).toEqual({ attempt: 1, status: 'failed' });
  }, 60_000);

  it('refuses a task whose input lacks what the prompt template uses, without starting the CLI', async () => {
    const res = await submitWorkflow(
      h.deps,
      {
        tasks: [{ id: 'x', type: 'code', agent: 'claude_agent', retries: 2, input: { other: 1 } }],
      },
      { correlationId: 'cc-input' },
    );
    await waitForWorkflow(h, res.id);
    const t = await h.deps.db
      .selectFrom('tasks')
      .selectAll()
      .where('workflow_id', '=', res.id)
      .executeTakeFirstOrThrow();
    expect(t.status).toBe('failed');
    expect(t.attempt).toBe(1);
    expect((t.error as { code: string; message: string }).code).toBe('HIVE_ERR_RUNNER_INPUT_INVALID');
    expect((t.error as { message: string }).message).toContain('{{task.input.prompt}}');
  });

  it('runs at most maxParallel CLI processes at once, the others wait for a slot', async () => {
    const ids = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const res = await submitWorkflow(
          h.deps,
          {
            tasks: [{ id: 's', type: 'code_serial', agent: 'serial_agent', input: { prompt: '#case slow' } }],
          },
          { correlationId: `cc-serial-${i}` },
        );
        await waitForWorkflow(h, res.id, 30_000);
        return res.id;
      }),
    );
    const spans: [number, number][] = [];
    let waited = 0;
    for (const id of ids) {
      const logs = await h.deps.db
        .selectFrom('agent_logs')
        .selectAll()
        .where('workflow_id', '=', id)
        .orderBy('id')
        .execute();
      const t = (prefix: string) => new Date(logs.find((l) => l.message.startsWith(prefix))!.ts).getTime();
      spans.push([t('[system init]'), t('[result success]')]);
      if (logs.some((l) => l.message.startsWith('waiting for a free claude-code slot'))) waited++;
    }
    spans.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
    expect(waited).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
