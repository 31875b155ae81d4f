import { color, formatDuration, status } from './style.js';

interface Span {
  label: string;
  start: number;
  end: number;
  detail: string;
}

/**
 * `hive trace`: the command, HTTP requests, the workflow and each task attempt as bars on one time axis,
 * then events and log lines in order.
 */
export function renderTimeline(data: any, width = 100): string {
  const spans: Span[] = [];
  const t = (v: unknown) => (v ? Date.parse(String(v)) : Number.NaN);
  for (const c of data.commands ?? [])
    spans.push({ label: `command ${c.command}`, start: t(c.ts), end: t(c.ts), detail: c.args ?? '' });
  for (const r of data.requests ?? []) {
    const end = t(r.ts);
    spans.push({
      label: `${r.method} ${r.route}`,
      start: end - Number(r.durationMs ?? 0),
      end,
      detail: `${r.status} ${formatDuration(r.durationMs)}`,
    });
  }
  for (const w of data.workflows ?? []) {
    spans.push({
      label: `workflow ${w.name ?? w.id}`,
      start: t(w.startedAt ?? w.createdAt),
      end: t(w.finishedAt) || Date.now(),
      detail: `${status(w.status)} ${formatDuration(w.durationMs)}`,
    });
  }
  for (const k of data.tasks ?? []) {
    if (!k.startedAt) continue;
    spans.push({
      label: `  task ${k.id}`,
      start: t(k.startedAt),
      end: t(k.finishedAt) || Date.now(),
      detail: `${status(k.status)} ${k.agent ?? ''} attempt ${k.attempt} ${formatDuration(k.durationMs)}`,
    });
  }
  const valid = spans.filter((s) => Number.isFinite(s.start));
  const lines = [color.bold(`correlation ${data.correlationId}`)];
  if (valid.length) {
    const t0 = Math.min(...valid.map((s) => s.start));
    const t1 = Math.max(...valid.map((s) => (Number.isFinite(s.end) ? s.end : s.start)));
    const total = Math.max(1, t1 - t0);
    const labelW = Math.min(36, Math.max(...valid.map((s) => s.label.length)));
    const barW = Math.max(10, width - labelW - 34);
    lines.push(
      `${''.padEnd(labelW)}  0${' '.repeat(Math.max(0, barW - 1 - formatDuration(total).length))}${formatDuration(total)}`,
    );
    for (const s of valid.sort((a, b) => a.start - b.start)) {
      const from = Math.round(((s.start - t0) / total) * (barW - 1));
      const to = Math.max(
        from,
        Math.round((((Number.isFinite(s.end) ? s.end : s.start) - t0) / total) * (barW - 1)),
      );
      const bar = `${' '.repeat(from)}${color.cyan('█'.repeat(to - from + 1))}${' '.repeat(Math.max(0, barW - to - 1))}`;
      lines.push(`${s.label.slice(0, labelW).padEnd(labelW)}  ${bar}  ${s.detail}`);
    }
  }
  const items = [
    ...(data.events ?? []).map((e: any) => ({
      ts: t(e.ts),
      line: `${color.dim(String(e.ts))} ${e.type}${e.taskId ? ` ${e.taskId}` : ''}${e.agent ? ` ${e.agent}` : ''}`,
    })),
    ...(data.logs ?? []).map((l: any) => ({
      ts: t(l.ts),
      line: `${color.dim(String(l.ts))}   ${color.cyan(l.agent)} ${l.taskId ?? ''} │ ${l.message}`,
    })),
  ].sort((a, b) => a.ts - b.ts);
  if (items.length) lines.push('', color.bold('Events and logs'), ...items.map((i) => i.line));
  return lines.join('\n');
}
