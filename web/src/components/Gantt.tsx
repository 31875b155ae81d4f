import { fmtDuration } from '../api';

export interface Bar {
  label: string;
  start: number;
  end: number | null;
  status: string;
  detail?: string;
}

/** A timeline of attempts (or any spans) on one time axis. */
export function Gantt({ bars, now }: { bars: Bar[]; now: number }) {
  const valid = bars.filter((b) => Number.isFinite(b.start));
  if (valid.length === 0) return <p class="muted">No attempts yet.</p>;
  const t0 = Math.min(...valid.map((b) => b.start));
  const t1 = Math.max(...valid.map((b) => b.end ?? now));
  const span = Math.max(1, t1 - t0);
  return (
    <ul class="gantt plain" aria-label="Timeline">
      {valid.map((b, i) => {
        const left = ((b.start - t0) / span) * 100;
        const width = Math.max(0.6, (((b.end ?? now) - b.start) / span) * 100);
        return (
          <li
            class="gantt-row"
            key={i}
            aria-label={`${b.label}: ${b.status}, ${fmtDuration((b.end ?? now) - b.start)}`}
          >
            <span class="gantt-label">{b.label}</span>
            <span class="gantt-track" aria-hidden="true">
              <span
                class={`gantt-bar s-${b.status}`}
                style={{ left: `${left}%`, width: `${width}%` }}
                title={b.detail}
              />
            </span>
            <span class="gantt-dur">{fmtDuration((b.end ?? now) - b.start)}</span>
          </li>
        );
      })}
      <li class="gantt-axis muted">0 — {fmtDuration(span)}</li>
    </ul>
  );
}
