// Shared plumbing of the demo agents: read the task from stdin (CONTRACT §3), write the output file.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export async function readTask() {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return JSON.parse(text);
}

export function workspaceDir(task) {
  const root = process.env.HIVE_WORKSPACE ?? path.resolve('workspace');
  const dir = path.join(root, task.workflowId);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function writeOutput(output) {
  if (process.env.HIVE_RESULT_FILE) writeFileSync(process.env.HIVE_RESULT_FILE, JSON.stringify(output));
}

/** A safe identifier from free text: the feature name arrives from users and slash commands. */
export function slug(text, fallback = 'feature') {
  const s = String(text ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 40);
  return /^[a-z]/.test(s) ? s : `${fallback}_${s}`.replace(/_+$/, '');
}
