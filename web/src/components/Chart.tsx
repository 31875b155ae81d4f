import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef } from 'preact/hooks';

export interface SeriesSpec {
  label: string;
  color: string;
}

/**
 * A small uPlot line chart over time. `data` is [x seconds[], ...y[]] with null where nothing is known (drawn as
 * a gap, never as zero). The plot is created once and fed with setData; it follows its container's width.
 */
export function Chart({
  title,
  data,
  series,
  summary,
}: {
  title: string;
  data: [number[], ...(number | null)[][]];
  series: SeriesSpec[];
  /** A text equivalent for screen readers and for a glance: the latest values. */
  summary: string;
}) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const box = el.current;
    if (!box) return;
    const axis = { stroke: '#8a8a96', grid: { stroke: 'rgba(128,128,140,0.18)' } };
    const u = new uPlot(
      {
        width: Math.max(260, box.clientWidth - 12 || 420),
        height: 170,
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 2,
            spanGaps: false,
            points: { show: false },
          })),
        ],
        axes: [axis, { ...axis, size: 50 }],
        legend: { show: series.length > 1, live: false },
        cursor: { show: false },
      },
      data as uPlot.AlignedData,
      box,
    );
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(260, box.clientWidth - 12);
      if (Math.abs(w - u.width) > 4) u.setSize({ width: w, height: 170 });
    });
    ro.observe(box);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, []);
  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);
  return (
    <figure class="chart-card">
      <figcaption>
        <span class="chart-title">{title}</span> <span class="chart-summary">{summary}</span>
      </figcaption>
      <div class="chart" ref={el} role="img" aria-label={`${title}: ${summary}`} />
    </figure>
  );
}
