import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, apiHarness } from '../helpers/api.js';
import { waitFor } from '../helpers/engine.js';
import { ROOT } from '../helpers/processes.js';

describe('slash commands over HTTP', () => {
  let t: ApiHarness;
  beforeAll(async () => {
    t = await apiHarness({ commandsDir: path.join(ROOT, '.hive/commands') });
  });
  afterAll(async () => {
    await t.close();
  });
  const run = (command: string, cid?: string) =>
    t.api.app.inject({
      method: 'POST',
      url: '/api/commands/run',
      payload: { command },
      headers: cid ? { 'x-correlation-id': cid } : {},
    });

  it('lists the shipped commands with descriptions and hints', async () => {
    const body = (await t.api.app.inject({ method: 'GET', url: '/api/commands' })).json();
    const feature = body.commands.find((c: any) => c.name === '/feature');
    expect(feature).toMatchObject({ argumentHint: '<name>', kind: 'workflow' });
    expect(body.commands.map((c: any) => c.name)).toEqual(
      expect.arrayContaining(['/review', '/hive:status', '/hive:trace']),
    );
    expect(body.errors).toEqual([]);
  });

  it('starts a workflow under the run’s correlation ID, with command.invoked first in its timeline', async () => {
    const r = await run('/feature "api cart"', 'cmd-api-1');
    expect(r.statusCode).toBe(202);
    const { workflowId, correlationId } = r.json();
    expect(correlationId).toBe('cmd-api-1');
    await waitFor(
      async () =>
        (await t.api.app.inject({ method: 'GET', url: `/api/workflows/${workflowId}` })).json().status ===
        'completed',
    );
    const tl = (await t.api.app.inject({ method: 'GET', url: '/api/correlations/cmd-api-1' })).json();
    expect(tl.events[0]).toMatchObject({
      type: 'command.invoked',
      data: { command: '/feature', arguments: '"api cart"', args: ['api cart'] },
    });
    expect(tl.events[0].data.file).toMatch(/feature\.md$/);
    expect(tl.commands[0]).toMatchObject({ command: '/feature', workflowId });
    expect(tl.workflows[0].id).toBe(workflowId);
    expect(tl.tasks.every((x: any) => x.status === 'completed')).toBe(true);
  });

  it('answers built-ins directly and reports errors with codes', async () => {
    const status = await run('/hive:status');
    expect(status.statusCode).toBe(200);
    expect(status.json().result.agents.length).toBe(2);
    const trace = await run('/hive:trace cmd-api-1');
    expect(trace.json().result.correlationId).toBe('cmd-api-1');
    const unknown = await run('/featur x');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.details.suggestions).toContain('/feature');
    const missing = await run('/feature');
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.message).toMatch(/<name>/);
  });
});
