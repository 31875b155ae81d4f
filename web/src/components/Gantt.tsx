import { fmtDuration, fmtTime } from '../api';

export interface Bar {
  label: string;
  start: number;
  /** null while it runs: drawn up to now. */
  end: number | null;
  status: string;
  detail?: string | undefined;
  kind?: string;
}

/** A timeline of attempts (or any spans) on one time axis; a row per bar, as a list for screen readers. */
export function Gantt({
  bars,
  now,
  empty = 'No attempts yet.',
}: {
  bars: Bar[];
  now: number;
  empty?: string;
}) {
  const valid = bars.filter((b) => Number.isFinite(b.start));
  if (valid.length === 0) return <p class="muted">{empty}</p>;
  const t0 = Math.min(...valid.map((b) => b.start));
  const t1 = Math.max(...valid.map((b) => Math.max(b.start, b.end ?? now)));
  const span = Math.max(1, t1 - t0);
  return (
    <div class="gantt">
      <ul class="plain" aria-label="Timeline">
        {valid.map((b, i) => {
          const end = b.end ?? now;
          const left = ((b.start - t0) / span) * 100;
          const width = Math.max(0.4, ((end - b.start) / span) * 100);
          const dur = fmtDuration(Math.max(0, end - b.start));
          return (
            <li
              class={`gantt-row${b.kind ? ` kind-${b.kind}` : ''}`}
              key={i}
              aria-label={`${b.label}: ${b.status}${b.end === null ? ' (running)' : ''}, ${dur}, from ${fmtTime(new Date(b.start).toISOString())}${b.detail ? `, ${b.detail}` : ''}`}
            >
              <span class="gantt-label" title={b.label}>
                {b.label}
              </span>
              <span class="gantt-track" aria-hidden="true">
                <span
                  class={`gantt-bar s-${b.status}${b.end === null ? ' open' : ''}`}
                  style={{
                    left: `${Math.min(left, 99.6)}%`,
                    width: `${Math.min(width, 100 - Math.min(left, 99.6))}%`,
                  }}
                  title={`${b.label} · ${b.status} · ${dur}${b.detail ? ` · ${b.detail}` : ''}`}
                />
              </span>
              <span class="gantt-dur">{dur}</span>
            </li>
          );
        })}
      </ul>
      <div class="gantt-axis muted" aria-hidden="true">
        <span>{fmtTime(new Date(t0).toISOString())}</span>
        <span>+{fmtDuration(span / 2)}</span>
        <span>+{fmtDuration(span)}</span>
      </div>
    </div>
  );
}
