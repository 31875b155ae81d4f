/**
 * The `prompt:` template of a coding agent: `{{task.input.prompt}}`, `{{task.type}}`, `{{task.id}}`,
 * `{{task.workflowId}}`, `{{task.correlationId}}`, `{{task.attempt}}`, any `{{task.input.a.b}}`. Strings are
 * inserted as they are, other values as JSON. A placeholder the task does not have is an error rather than an
 * empty string: a prompt with a hole in it would still run, and cost money, doing the wrong thing.
 */
import type { RunnerTask } from '../../runner.js';

export const DEFAULT_PROMPT = '{{task.input.prompt}}';

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

export type Rendered = { ok: true; text: string } | { ok: false; message: string };

function lookup(root: unknown, dotted: string): unknown {
  let v: unknown = root;
  for (const key of dotted.split('.')) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, key)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

export function renderPrompt(template: string, task: RunnerTask): Rendered {
  const scope = { task };
  const missing: string[] = [];
  const text = template.replace(PLACEHOLDER, (_m, key: string) => {
    const v = lookup(scope, key);
    if (v === undefined || v === null) {
      missing.push(key);
      return '';
    }
    return typeof v === 'string' ? v : JSON.stringify(v);
  });
  if (missing.length > 0)
    return {
      ok: false,
      message: `the prompt template uses ${missing.map((k) => `{{${k}}}`).join(', ')}, which this task does not have`,
    };
  if (text.trim() === '') return { ok: false, message: 'the prompt is empty' };
  return { ok: true, text };
}
