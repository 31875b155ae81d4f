import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { PreparedRun } from '../../src/commands/service.js';
import { parseConfig } from '../../src/core/config-file.js';

/** The agents the shipped examples name, as the repository's hive.yaml defines them (runners irrelevant here). */
export function testConfig(baseDir: string, commands: string[] = ['cmds']) {
  return parseConfig(
    {
      agents: {
        backend_agent: { capabilities: ['api_creation'], runner: 'sdk' },
        frontend_agent: { capabilities: ['ui_integration'], runner: 'sdk' },
        reviewer: { capabilities: ['review'], runner: 'sdk' },
      },
      commands,
    },
    baseDir,
  );
}

/** A temp folder with `cmds/<rel>` files; returns the folder (the config's baseDir). */
export function commandTree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'hive-cmds-'));
  mkdirSync(path.join(dir, 'cmds'), { recursive: true });
  for (const [rel, text] of Object.entries(files)) writeCommand(dir, rel, text);
  return dir;
}

export function writeCommand(dir: string, rel: string, text: string): string {
  const p = path.join(dir, 'cmds', rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, text);
  return p;
}

export const agentCommand = (body: string, extra = '', hint = '<path>') =>
  `---\ndescription: test\nargument-hint: ${hint}\nagent: reviewer\n${extra}---\n${body}\n`;

/** The single task's input of an `agent:` command's run. */
export function taskInput(run: PreparedRun): Record<string, unknown> {
  if (run.kind !== 'workflow') throw new Error(`expected a workflow run, got ${run.kind}`);
  return (run.spec.tasks as { input: Record<string, unknown> }[])[0]!.input;
}
