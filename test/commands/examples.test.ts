import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CommandService } from '../../src/commands/service.js';
import { parseConfigText } from '../../src/core/config-file.js';
import { taskInput } from './helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The shipped /feature and /review, against the repository's own hive.yaml (as `npm start` runs them). */
describe('shipped example commands', () => {
  const file = path.join(ROOT, 'hive.yaml');
  const s = new CommandService({ config: parseConfigText(readFileSync(file, 'utf8'), file), watch: false });
  afterAll(() => s.close());

  it('parse without problems', async () => {
    const { commands, errors } = await s.list();
    expect(errors).toEqual([]);
    expect(commands.find((c) => c.name === '/feature')).toMatchObject({
      kind: 'workflow',
      argumentHint: '<name>',
    });
    expect(commands.find((c) => c.name === '/review')).toMatchObject({ kind: 'agent', agent: 'reviewer' });
  });

  it('/feature NAME runs backend api_creation then frontend ui_integration for that feature', async () => {
    const run = await s.prepare('/feature "todo list"');
    expect(run.kind === 'workflow' && run.spec).toMatchObject({
      tasks: [
        { type: 'api_creation', agent: 'backend_agent', input: { feature: 'todo list' } },
        { type: 'ui_integration', agent: 'frontend_agent', input: { feature: 'todo list' } },
      ],
    });
    // No dependsOn: the tasks run in the listed order (CONTRACT §5).
    expect(run.kind === 'workflow' && (run.spec.tasks as object[]).some((t) => 'dependsOn' in t)).toBe(false);
    await expect(s.prepare('/feature')).rejects.toMatchObject({ code: 'HIVE_ERR_COMMAND_ARGS' });
  });

  it('/review PATH sends one task to the reviewer with the expanded prompt', async () => {
    const run = await s.prepare('/review src/engine');
    expect(run.kind === 'workflow' && run.spec.tasks).toEqual([
      expect.objectContaining({ type: 'command:review', agent: 'reviewer' }),
    ]);
    expect(taskInput(run).prompt).toMatch(/^Review the code at src\/engine\./);
  });
});
