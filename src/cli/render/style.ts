import pc from 'picocolors';

/** Colour only on a TTY and never with NO_COLOR (picocolors checks both). */
export const color = pc.createColors(
  pc.isColorSupported && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
);

export function isLiveTerminal(): boolean {
  return Boolean(process.stdout.isTTY) && process.env.TERM !== 'dumb';
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${Math.round((ms % 60_000) / 1_000)}s`;
}

const STATUS_COLORS: Record<string, (s: string) => string> = {
  completed: color.green,
  running: color.cyan,
  queued: color.blue,
  pending: color.dim,
  failed: color.red,
  cancelled: color.yellow,
  skipped: color.dim,
  compensating: color.magenta,
  compensated: color.magenta,
  rolled_back: color.magenta,
  rollback_failed: color.red,
};

const STATUS_MARKS: Record<string, string> = {
  completed: '✔',
  running: '●',
  queued: '◌',
  pending: '·',
  failed: '✖',
  cancelled: '⊘',
  skipped: '-',
  compensated: '↺',
};

export function status(s: string): string {
  return (STATUS_COLORS[s] ?? ((x: string) => x))(s);
}

export function mark(s: string): string {
  return (STATUS_COLORS[s] ?? ((x: string) => x))(STATUS_MARKS[s] ?? '?');
}
