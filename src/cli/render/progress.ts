import type { HiveEvent } from '../../engine/events.js';
import { color, formatDuration, mark, status } from './style.js';
import { table } from './table.js';

export interface TaskView {
  id: string;
  type: string;
  agent: string | null;
  status: string;
  attempt: number;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  error: { code: string; message: string } | null;
  logs: string[];
}

export interface WorkflowView {
  id: string;
  correlationId: string;
  name?: string | null;
  status: string;
  durationMs?: number | null;
  error?: { code: string; message: string } | null;
  tasks: TaskView[];
}

const FINAL = new Set(['completed', 'failed', 'cancelled', 'rolled_back', 'rollback_failed']);

export function isFinal(s: string): boolean {
  return FINAL.has(s);
}

/** Folds one live event into the view; returns a plain-text line describing it (for non-TTY output). */
export function applyEvent(view: WorkflowView, e: HiveEvent): string | undefined {
  const d = e.data as Record<string, any>;
  if (e.type.startsWith('workflow.')) {
    const s = e.type.slice('workflow.'.length);
    if (s !== 'submitted') view.status = s === 'started' ? 'running' : s;
    if (d.error) view.error = d.error;
    if (typeof d.durationMs === 'number') view.durationMs = d.durationMs;
    return `workflow ${s}${d.error ? `: ${d.error.code} ${d.error.message}` : ''}`;
  }
  if (!e.taskId) return undefined;
  let t = view.tasks.find((x) => x.id === e.taskId);
  if (!t) {
    t = {
      id: e.taskId,
      type: String(d.type ?? ''),
      agent: e.agent ?? null,
      status: 'pending',
      attempt: 0,
      startedAt: null,
      finishedAt: null,
      durationMs: null,
      error: null,
      logs: [],
    };
    view.tasks.push(t);
  }
  if (e.agent) t.agent = e.agent;
  if (typeof d.attempt === 'number') t.attempt = d.attempt;
  switch (e.type) {
    case 'task.queued':
      t.status = 'queued';
      break;
    case 'task.started':
      t.status = 'running';
      t.startedAt = e.ts;
      break;
    case 'task.completed':
      t.status = 'completed';
      t.finishedAt = e.ts;
      t.durationMs =
        typeof d.durationMs === 'number'
          ? d.durationMs
          : t.startedAt
            ? Date.parse(e.ts) - Date.parse(t.startedAt)
            : null;
      t.error = null;
      break;
    case 'task.retrying':
      t.status = 'pending';
      t.error = d.error ?? null;
      break;
    case 'task.failed':
    case 'task.dead_lettered':
      t.status = 'failed';
      t.finishedAt = e.ts;
      t.error = d.error ?? { code: 'HIVE_ERR_DEAD_LETTERED', message: String(d.reason ?? 'dead-lettered') };
      break;
    case 'task.cancelled':
      t.status = 'cancelled';
      break;
    // task.progress (a coding CLI's step) changes nothing in the view: it is a line of its own.
    default:
      break;
  }
  const extra =
    e.type === 'task.retrying'
      ? ` (attempt ${d.attempt} failed: ${d.error?.message ?? ''}; retrying in ${d.delayMs} ms)`
      : e.type === 'task.progress'
        ? `: [${String(d.kind ?? 'step')}] ${String(d.summary ?? '')}`
        : '';
  return `${e.taskId} ${e.type.slice(5)}${t.agent ? ` on ${t.agent}` : ''}${t.attempt ? ` attempt ${t.attempt}` : ''}${extra}`;
}

/** The live task list: one line per task, its newest log lines under it. */
export function renderTasks(view: WorkflowView, now = Date.now(), logLines = 3): string {
  const lines = [
    `${color.bold(view.name || view.id)} ${color.dim(`(${view.id}, correlation ${view.correlationId})`)} ${status(view.status)}`,
  ];
  for (const t of view.tasks) {
    let detail = '';
    if (t.status === 'running' && t.startedAt) detail = formatDuration(now - Date.parse(t.startedAt));
    else if (t.status === 'completed') detail = formatDuration(t.durationMs);
    else if (t.error) detail = color.red(`${t.error.code}: ${t.error.message}`);
    lines.push(
      `  ${mark(t.status)} ${t.id.padEnd(14)} ${status(t.status).padEnd(20)} ${(t.agent ?? '').padEnd(16)} ${detail}`,
    );
    for (const l of t.logs.slice(-logLines)) lines.push(color.dim(`      │ ${l}`));
  }
  return lines.join('\n');
}

export function renderSummary(view: WorkflowView): string {
  const rows = view.tasks.map((t) => [
    t.id,
    t.type,
    t.agent,
    t.status,
    t.attempt,
    formatDuration(t.durationMs),
    t.error ? `${t.error.code}: ${t.error.message}` : '',
  ]);
  const head = `${view.name || view.id}: ${view.status}${view.durationMs ? ` in ${formatDuration(view.durationMs)}` : ''}${view.error ? ` (${view.error.code}: ${view.error.message})` : ''}`;
  return `${head}\n${table(['task', 'type', 'agent', 'status', 'attempts', 'duration', 'error'], rows)}`;
}

/** Redraws a block in place on a TTY (cursor up + clear), instead of scrolling. */
export class LiveBlock {
  private lines = 0;
  draw(text: string): void {
    if (this.lines > 0) process.stdout.write(`\x1b[${this.lines}A\x1b[0J`);
    process.stdout.write(`${text}\n`);
    this.lines = text.split('\n').length;
  }
}
