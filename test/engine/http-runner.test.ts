import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRunner } from '../../src/agents/create-runner.js';
import { AgentWorker } from '../../src/agents/worker.js';
import { createLogger } from '../../src/core/logger.js';
import { submitWorkflow } from '../../src/engine/submit.js';
import { type EngineHarness, engineHarness, waitForWorkflow } from '../helpers/engine.js';
import { REDIS_URL } from '../helpers/redis.js';

/** The `http` runner against a real HTTP agent service: 2xx JSON is the output, 4xx is not retried. */
describe('http runner', () => {
  let h: EngineHarness;
  let server: Server;
  let worker: AgentWorker;
  const seen: { headers: Record<string, unknown>; body: any }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const task = JSON.parse(body);
        seen.push({ headers: req.headers, body: task });
        if (task.input?.status) res.writeHead(task.input.status).end('{"error":"nope"}');
        else
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ echoed: task.input }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/run`;
    h = await engineHarness({
      agents: { svc: { capabilities: ['call'], runner: 'http', url, retries: 2 } },
      engine: { retryBaseMs: 10 },
    });
    await h.startCoordinator();
    worker = new AgentWorker({
      name: 'svc',
      redisUrl: REDIS_URL,
      keys: h.deps.keys,
      engine: h.config.engine,
      runner: createRunner('svc', h.config.agents.svc!, process.cwd()),
      concurrency: 4,
      logger: createLogger({ level: 'silent' }),
    });
    await worker.start();
  });
  afterAll(async () => {
    await worker.close();
    await h.close();
    server.close();
  });

  it('posts the task with its correlation headers and stores the JSON answer as output', async () => {
    const res = await submitWorkflow(
      h.deps,
      { tasks: [{ type: 'call', input: { n: 1 } }] },
      { correlationId: 'http-1' },
    );
    expect((await waitForWorkflow(h, res.id)).status).toBe('completed');
    const t = await h.deps.db
      .selectFrom('tasks')
      .selectAll()
      .where('workflow_id', '=', res.id)
      .executeTakeFirstOrThrow();
    expect(t.output).toEqual({ echoed: { n: 1 } });
    const call = seen.find((s) => s.body.workflowId === res.id)!;
    expect(call.headers['x-correlation-id']).toBe('http-1');
    expect(String(call.headers.traceparent)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(call.body).toMatchObject({ id: '0', type: 'call', attempt: 1, correlationId: 'http-1' });
  });

  it('does not retry a 4xx answer, retries a 5xx one', async () => {
    const bad = await submitWorkflow(
      h.deps,
      { tasks: [{ type: 'call', input: { status: 422 } }] },
      { correlationId: 'http-2' },
    );
    expect((await waitForWorkflow(h, bad.id)).status).toBe('failed');
    expect(
      (
        await h.deps.db
          .selectFrom('tasks')
          .select('attempt')
          .where('workflow_id', '=', bad.id)
          .executeTakeFirstOrThrow()
      ).attempt,
    ).toBe(1);
    const flaky = await submitWorkflow(
      h.deps,
      { tasks: [{ type: 'call', input: { status: 503 } }] },
      { correlationId: 'http-3' },
    );
    expect((await waitForWorkflow(h, flaky.id)).status).toBe('failed');
    const t = await h.deps.db
      .selectFrom('tasks')
      .selectAll()
      .where('workflow_id', '=', flaky.id)
      .executeTakeFirstOrThrow();
    expect(t.attempt).toBe(3);
    expect((t.error as { code: string }).code).toBe('HIVE_ERR_TASK_HTTP');
  });
});
