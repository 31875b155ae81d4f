import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createApiServer } from '../../src/api/server.js';
import { CommandService } from '../../src/commands/service.js';
import { loadEnv } from '../../src/core/config-env.js';
import { parseConfig } from '../../src/core/config-file.js';
import { submitWorkflow } from '../../src/engine/submit.js';
import { type EngineHarness, engineHarness, waitFor, waitForWorkflow } from '../helpers/engine.js';
import { type HiveProcess, ROOT, startHive, stopAll, writeConfig } from '../helpers/processes.js';
import { REDIS_URL } from '../helpers/redis.js';
import { git, PATH_WITH_FIXTURES, tempRepo } from './helpers.js';

/**
 * The shipped examples/coding: `/feature cart` with Claude-style stand-ins. Backend and frontend each change
 * their own worktree, git.merge combines the branches, and everything is under one correlation ID.
 */
const repo = tempRepo();
const home = mkdtempSync(path.join(tmpdir(), 'hive-home-'));
const example = parse(readFileSync(path.join(ROOT, 'examples/coding/hive.yaml'), 'utf8')) as {
  agents: Record<string, Record<string, unknown>>;
};
// The example as shipped, pointed at a scratch repository; the stand-in `claude` reads its case from the prompt.
const standIn = (role: string) =>
  `#case feature-${role} #arg feature={{task.input.feature}}\n{{task.input.prompt}}`;
const config = {
  agents: {
    backend_coder: { ...example.agents.backend_coder, repo, prompt: standIn('backend') },
    frontend_coder: { ...example.agents.frontend_coder, repo, prompt: standIn('frontend') },
    integrator: { ...example.agents.integrator, repo },
  },
  commands: [path.join(ROOT, 'examples/coding/commands')],
  engine: { heartbeatMs: 500, claimIntervalMs: 250 },
};

describe('/feature with coding agents in worktrees', () => {
  let h: EngineHarness;
  let procs: HiveProcess[] = [];

  beforeAll(async () => {
    h = await engineHarness(config);
    const file = writeConfig(config);
    await h.startCoordinator();
    for (const name of Object.keys(config.agents))
      procs.push(
        startHive(['agent', name, '--config', file], {
          HIVE_KEY_PREFIX: h.prefix,
          HIVE_HOME: home,
          PATH: PATH_WITH_FIXTURES,
        }),
      );
    await waitFor(
      async () =>
        (
          await h.deps.db
            .selectFrom('agent_instances')
            .select('agent')
            .where('status', '=', 'online')
            .execute()
        ).length >= 3,
      30_000,
      'agents online',
    );
  });
  afterAll(async () => {
    await stopAll(procs);
    procs = [];
    await h.close();
  });

  it('runs backend and frontend on their own branches and merges them, under one correlation ID', async () => {
    const service = new CommandService({ config: parseConfig(config, ROOT), watch: false });
    const run = await service.prepare('/feature cart');
    await service.close();
    expect(run.kind).toBe('workflow');
    const cid = 'feature-cart-1';
    const res = await submitWorkflow(h.deps, (run as { spec: unknown }).spec as never, {
      correlationId: cid,
    });
    const wf = await waitForWorkflow(h, res.id, 60_000);
    expect(wf.status, JSON.stringify(wf.error)).toBe('completed');

    const tasks = await h.deps.db.selectFrom('tasks').selectAll().where('workflow_id', '=', res.id).execute();
    const byId = Object.fromEntries(tasks.map((t) => [t.id, t]));
    type Out = {
      branch: string;
      commit: string;
      diffstat: { files: { path: string }[] };
      merged?: string[];
      conflicts?: unknown[];
    };
    const api = byId.api!.output as Out;
    const ui = byId.ui!.output as Out;
    const merge = byId.merge!.output as Out;
    expect(api.branch).toBe(`hive/${res.id}/api`);
    expect(ui.branch).toBe(`hive/${res.id}/ui`);
    // Each agent changed only its own worktree.
    expect(api.diffstat.files.map((f) => f.path).sort()).toEqual([
      'src/cart/api.mjs',
      'src/cart/api.test.mjs',
    ]);
    expect(ui.diffstat.files.map((f) => f.path)).toEqual(['src/cart/ui.mjs']);
    expect(git(repo, 'ls-tree', '-r', '--name-only', api.branch)).not.toContain('ui.mjs');
    // The merge branch has both.
    expect(merge.merged!.sort()).toEqual([api.branch, ui.branch].sort());
    expect(merge.conflicts).toEqual([]);
    const files = git(repo, 'ls-tree', '-r', '--name-only', merge.branch).split('\n');
    expect(files).toEqual(
      expect.arrayContaining(['src/cart/api.mjs', 'src/cart/api.test.mjs', 'src/cart/ui.mjs']),
    );
    expect(git(repo, 'merge-base', '--is-ancestor', api.commit, merge.commit)).toBe('');

    // Usage per task and summed for the workflow (the stand-in reports $0.02 a turn for backend, $0.015 for frontend).
    expect(byId.api!.usage).toMatchObject({ costUsd: 0.04 });
    expect(byId.ui!.usage).toMatchObject({ costUsd: 0.015 });

    // The API sums them per workflow and per agent.
    const commands = new CommandService({ config: h.config, watch: false });
    const server = await createApiServer({
      deps: h.deps,
      env: loadEnv({ HIVE_KEY_PREFIX: h.prefix }),
      commands,
      redisUrl: REDIS_URL,
    });
    const url = await server.start('127.0.0.1', 0);
    try {
      const view = (await (await fetch(`${url}/api/workflows/${res.id}`)).json()) as Record<string, unknown>;
      expect(view.usage).toMatchObject({ costUsd: expect.closeTo(0.055, 6) });
      expect(view.usageByAgent).toMatchObject({
        backend_coder: { costUsd: 0.04 },
        frontend_coder: { costUsd: 0.015 },
      });
      const usage = (await (await fetch(`${url}/api/usage?correlationId=${cid}`)).json()) as {
        total: { costUsd: number; tasks: number };
        agents: { agent: string; costUsd: number; inputTokens: number }[];
      };
      expect(usage.total.tasks).toBe(2);
      expect(usage.total.costUsd).toBeCloseTo(0.055, 6);
      expect(usage.agents.map((a) => a.agent)).toEqual(['backend_coder', 'frontend_coder']);
      expect(usage.agents[0]!.inputTokens).toBe(300);
      const bad = await fetch(`${url}/api/usage?since=yesterday`);
      expect(bad.status).toBe(400);
    } finally {
      await server.close();
      await commands.close();
    }

    // One correlation ID on the workflow, every task, event and log line.
    expect(tasks.every((t) => t.correlation_id === cid)).toBe(true);
    const events = await h.deps.db
      .selectFrom('events')
      .select('correlation_id')
      .where('workflow_id', '=', res.id)
      .execute();
    expect(events.length).toBeGreaterThan(10);
    expect(events.every((e) => e.correlation_id === cid)).toBe(true);
    const logs = await h.deps.db
      .selectFrom('agent_logs')
      .select(['correlation_id', 'agent'])
      .where('workflow_id', '=', res.id)
      .execute();
    expect(new Set(logs.map((l) => l.agent))).toEqual(
      new Set(['backend_coder', 'frontend_coder', 'integrator']),
    );
    expect(logs.every((l) => l.correlation_id === cid)).toBe(true);
  }, 90_000);

  it('reports conflicting branches and fails the merge with HIVE_ERR_MERGE_CONFLICT', async () => {
    for (const [branch, text] of [
      ['left', 'left\n'],
      ['right', 'right\n'],
      ['other', 'other\n'],
    ] as const) {
      git(repo, 'checkout', '-q', '-b', branch, 'main');
      writeFileSync(path.join(repo, branch === 'other' ? 'OTHER.md' : 'README.md'), text);
      git(repo, 'add', '-A');
      git(repo, 'commit', '-q', '-m', branch);
    }
    git(repo, 'checkout', '-q', 'main');
    const res = await submitWorkflow(
      h.deps,
      {
        tasks: [
          {
            id: 'm',
            type: 'git.merge',
            agent: 'integrator',
            retries: 2,
            input: { branches: ['left', 'right', 'other'] },
          },
        ],
      },
      { correlationId: 'merge-conflict-1' },
    );
    const wf = await waitForWorkflow(h, res.id, 30_000);
    expect(wf.status).toBe('failed');
    const t = await h.deps.db
      .selectFrom('tasks')
      .selectAll()
      .where('workflow_id', '=', res.id)
      .executeTakeFirstOrThrow();
    const error = t.error as {
      code: string;
      details: { merged: string[]; conflicts: { branch: string; files: string[] }[] };
    };
    expect(error.code).toBe('HIVE_ERR_MERGE_CONFLICT');
    expect(t.attempt).toBe(1); // not retried: the same branches conflict again
    // The conflicting branch is aborted; the branches after it are still merged.
    expect(error.details.merged).toEqual(['left', 'other']);
    expect(error.details.conflicts).toEqual([{ branch: 'right', files: ['README.md'] }]);
  }, 60_000);
});
