import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, apiHarness } from '../helpers/api.js';
import { waitFor } from '../helpers/engine.js';

const twoStep = {
  agents: ['backend_agent', 'frontend_agent'],
  tasks: [
    { type: 'api_creation', agent: 'backend_agent' },
    { type: 'ui_integration', agent: 'frontend_agent' },
  ],
};

describe('HTTP API routes (real Redis and PostgreSQL)', () => {
  let t: ApiHarness;
  const inject = (o: InjectOptions) => t.api.app.inject(o);
  beforeAll(async () => {
    t = await apiHarness();
  });
  afterAll(async () => {
    await t.close();
  });

  async function finished(id: string) {
    return waitFor(async () => {
      const r = await inject({ method: 'GET', url: `/api/workflows/${id}` });
      const body = r.json();
      return ['completed', 'failed', 'cancelled'].includes(body.status) ? body : undefined;
    });
  }

  it('submits under the given correlation ID and returns the workflow of §6', async () => {
    const r = await inject({
      method: 'POST',
      url: '/api/workflows',
      payload: twoStep,
      headers: { 'x-correlation-id': 'api-cid-1' },
    });
    expect(r.statusCode).toBe(202);
    expect(r.headers['x-correlation-id']).toBe('api-cid-1');
    const { id, correlationId, status } = r.json();
    expect(correlationId).toBe('api-cid-1');
    expect(status).toBe('running');
    const wf = await finished(id);
    expect(wf).toMatchObject({ id, correlationId: 'api-cid-1', status: 'completed', error: null });
    expect(typeof wf.durationMs).toBe('number');
    expect(wf.tasks.map((x: any) => [x.id, x.type, x.agent, x.status, x.attempt])).toEqual([
      ['0', 'api_creation', 'backend_agent', 'completed', 1],
      ['1', 'ui_integration', 'frontend_agent', 'completed', 1],
    ]);
    expect(wf.tasks[0].output).toEqual({ api: true });
  });

  it('generates a correlation ID when absent and rejects an invalid one with 400', async () => {
    const r = await inject({ method: 'GET', url: '/health' });
    expect(r.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
    const bad = await inject({
      method: 'GET',
      url: '/api/workflows',
      headers: { 'x-correlation-id': 'bad id!' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('HIVE_ERR_CORRELATION_ID_INVALID');
    expect(bad.headers['x-correlation-id']).toBe(bad.json().correlationId);
  });

  it('lists every problem of an invalid spec with 400', async () => {
    const r = await inject({
      method: 'POST',
      url: '/api/workflows',
      payload: {
        tasks: [
          { id: 'a', type: 'api_creation', agent: 'nobody' },
          { id: 'a', type: 'nothing-can-do-this', dependsOn: ['zzz'] },
        ],
      },
    });
    expect(r.statusCode).toBe(400);
    const e = r.json().error;
    expect(e.code).toBe('HIVE_ERR_SPEC_INVALID');
    const messages = e.details.map((d: any) => d.message).join('\n');
    expect(messages).toMatch(/unknown agent "nobody"/);
    expect(messages).toMatch(/duplicate task id "a"/);
    expect(messages).toMatch(/no capable agent/);
    expect(messages).toMatch(/unknown dependency "zzz"/);
    const cyc = await inject({
      method: 'POST',
      url: '/api/workflows',
      payload: {
        tasks: [
          { id: 'x', type: 'api_creation', dependsOn: ['y'] },
          { id: 'y', type: 'api_creation', dependsOn: ['x'] },
        ],
      },
    });
    expect(cyc.json().error.details[0].message).toMatch(/cycle/);
    const big = await inject({
      method: 'POST',
      url: '/api/workflows',
      payload: { tasks: [{ type: 'api_creation', input: { blob: 'x'.repeat(1_100_000) } }] },
    });
    expect(big.statusCode).toBe(400);
    expect(big.json().error.code).toBe('HIVE_ERR_SPEC_TOO_LARGE');
    const many = await inject({
      method: 'POST',
      url: '/api/workflows',
      payload: { tasks: Array.from({ length: 1001 }, () => ({ type: 'api_creation' })) },
    });
    expect(many.statusCode).toBe(400);
  });

  it('accepts a batch all or none', async () => {
    const ok = await inject({
      method: 'POST',
      url: '/api/workflows/batch',
      payload: { workflows: [twoStep, twoStep, twoStep] },
    });
    expect(ok.statusCode).toBe(202);
    expect(ok.json().workflows).toHaveLength(3);
    const before = (await inject({ method: 'GET', url: '/api/workflows?limit=500' })).json().items.length;
    const bad = await inject({
      method: 'POST',
      url: '/api/workflows/batch',
      payload: { workflows: [twoStep, { tasks: [] }] },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details[0].path).toMatch(/^workflows\.1\./);
    const after = (await inject({ method: 'GET', url: '/api/workflows?limit=500' })).json().items.length;
    expect(after).toBe(before);
  });

  it('paginates the list with cursors and rejects a bad cursor', async () => {
    const page1 = (await inject({ method: 'GET', url: '/api/workflows?limit=2' })).json();
    expect(page1.items).toHaveLength(2);
    expect(page1.nextCursor).toBeTruthy();
    const page2 = (
      await inject({ method: 'GET', url: `/api/workflows?limit=2&cursor=${page1.nextCursor}` })
    ).json();
    expect(page2.items[0].id < page1.items[1].id).toBe(true);
    const bad = await inject({ method: 'GET', url: '/api/workflows?cursor=not-a-cursor' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('HIVE_ERR_CURSOR_INVALID');
  });

  it('cancels a running workflow; 404 for an unknown one', async () => {
    const r = await inject({
      method: 'POST',
      url: '/api/workflows',
      payload: { tasks: [{ type: 'slow', input: { ms: 5_000 } }] },
    });
    const { id } = r.json();
    await waitFor(
      async () =>
        (await inject({ method: 'GET', url: `/api/workflows/${id}` })).json().tasks[0].status === 'running',
    );
    const c = await inject({ method: 'POST', url: `/api/workflows/${id}/cancel` });
    expect(c.json()).toEqual({ id, status: 'cancelled' });
    const missing = await inject({ method: 'POST', url: '/api/workflows/nope/cancel' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('HIVE_ERR_WORKFLOW_NOT_FOUND');
  });

  it('returns the correlation timeline: requests, workflows, tasks, events and logs with timings', async () => {
    const r = await inject({
      method: 'POST',
      url: '/api/workflows',
      payload: twoStep,
      headers: { 'x-correlation-id': 'timeline-1' },
    });
    await finished(r.json().id);
    const tl = await waitFor(async () => {
      const b = (await inject({ method: 'GET', url: '/api/correlations/timeline-1' })).json();
      return b.requests.length > 0 && b.logs.length >= 2 ? b : undefined;
    });
    expect(tl.correlationId).toBe('timeline-1');
    expect(tl.requests[0]).toMatchObject({ method: 'POST', route: '/api/workflows', status: 202 });
    expect(typeof tl.requests[0].durationMs).toBe('number');
    expect(tl.workflows).toHaveLength(1);
    expect(tl.tasks).toHaveLength(2);
    expect(tl.tasks.every((x: any) => typeof x.durationMs === 'number')).toBe(true);
    expect(tl.events[0].type).toBe('workflow.submitted');
    expect(tl.events.every((e: any) => e.correlationId === 'timeline-1')).toBe(true);
    const logs = (await inject({ method: 'GET', url: '/api/logs?correlationId=timeline-1' })).json().items;
    expect(logs[0]).toMatchObject({ correlationId: 'timeline-1', level: 'info' });
    expect(Object.keys(logs[0]).sort()).toEqual(
      expect.arrayContaining([
        'ts',
        'agent',
        'instance',
        'taskId',
        'workflowId',
        'correlationId',
        'level',
        'message',
      ]),
    );
  });

  it('shows agents with live instances and queue depth', async () => {
    const body = await waitFor(async () => {
      const b = (await inject({ method: 'GET', url: '/api/agents' })).json();
      return b.agents.every((a: any) => a.instances.some((i: any) => i.status === 'online')) ? b : undefined;
    });
    const be = body.agents.find((a: any) => a.name === 'backend_agent');
    expect(be.capabilities).toEqual(['api_creation']);
    expect(be.instances[0]).toMatchObject({ status: 'online', pid: process.pid });
    expect(typeof be.queueDepth).toBe('number');
  });

  it('lists dead letters with their reasons', async () => {
    await t.h.redis.xadd(t.h.deps.keys.results(), '*', 'kind', 'garbage');
    const body = await waitFor(async () => {
      const b = (await inject({ method: 'GET', url: '/api/dead-letters?limit=10' })).json();
      return b.items.length > 0 ? b : undefined;
    });
    expect(body.items[0]).toMatchObject({
      stream: t.h.deps.keys.results(),
      reason: expect.stringMatching(/envelope/),
    });
    expect(body.items[0].fields).toMatchObject({ kind: 'garbage' });
  });

  it('answers health, readiness, metrics and the OpenAPI document', async () => {
    expect((await inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    const ready = await inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.headers['content-type']).toMatch(/application\/health\+json/);
    expect(ready.json().checks).toMatchObject({
      postgres: { status: 'pass' },
      redis: { status: 'pass' },
      migrations: { status: 'pass' },
    });
    const metrics = (await inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/hive_http_request_duration_seconds_bucket\{.*route="\/api\/workflows"/);
    expect(metrics).toMatch(/hive_queue_depth\{agent="backend_agent"\}/);
    expect(metrics).toMatch(
      /hive_task_duration_seconds_bucket\{[^}]*agent="backend_agent",type="api_creation",outcome="completed"/,
    );
    expect(metrics).toMatch(/hive_task_queued_to_started_seconds_count\{agent="frontend_agent"\} [1-9]/);
    expect(metrics).toMatch(/hive_workflows_finished_total\{status="completed"\} [1-9]/);
    expect(metrics).toMatch(/hive_event_loop_lag_seconds/);
    // Labels carry route templates, agents and types, never IDs.
    expect(metrics).not.toMatch(/api-cid-1|timeline-1|[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    const doc = (await inject({ method: 'GET', url: '/api/openapi.json' })).json();
    expect(doc.openapi).toMatch(/^3/);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/workflows',
        '/api/workflows/{id}',
        '/api/correlations/{cid}',
        '/api/events',
      ]),
    );
    expect((await inject({ method: 'GET', url: '/docs' })).statusCode).toBeLessThan(400);
    t.api.setDraining();
    expect((await inject({ method: 'GET', url: '/ready' })).statusCode).toBe(503);
  });
});
