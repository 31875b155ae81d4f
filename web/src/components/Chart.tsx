import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef } from 'preact/hooks';

/** A small uPlot line chart; `data` is [x seconds[], y[]]. */
export function Chart({
  title,
  data,
  unit,
}: {
  title: string;
  data: [number[], (number | null)[]];
  unit: string;
}) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    if (!el.current) return;
    plot.current = new uPlot(
      {
        title,
        width: Math.max(280, el.current.clientWidth || 420),
        height: 180,
        series: [{}, { label: unit, stroke: '#e0a100', width: 2, fill: 'rgba(224,161,0,0.12)' }],
        axes: [{ stroke: '#888' }, { stroke: '#888' }],
        legend: { show: false },
      },
      data as uPlot.AlignedData,
      el.current,
    );
    return () => plot.current?.destroy();
  }, []);
  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);
  return <div class="chart" ref={el} role="img" aria-label={`${title} chart`} />;
}
