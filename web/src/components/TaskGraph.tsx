/** The task graph: tasks in layers by dependency depth (left to right), edges for dependsOn. */
export interface GraphTask {
  id: string;
  status: string;
  dependsOn?: string[];
  agent?: string | null;
  attempt?: number;
}

const W = 180;
const H = 46;
const GAP_X = 48;
const GAP_Y = 14;

export function TaskGraph({ tasks }: { tasks: GraphTask[] }) {
  if (tasks.length === 0) return <p class="muted">No tasks.</p>;
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const depth = new Map<string, number>();
  const d = (id: string, seen: Set<string>): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (seen.has(id)) return 0; // a cycle cannot be submitted; never loop on one anyway
    seen.add(id);
    const deps = (byId.get(id)?.dependsOn ?? []).filter((x) => byId.has(x));
    const v = deps.length ? 1 + Math.max(...deps.map((x) => d(x, seen))) : 0;
    depth.set(id, v);
    return v;
  };
  for (const t of tasks) d(t.id, new Set());
  const layers: GraphTask[][] = [];
  for (const t of tasks) {
    const i = depth.get(t.id) ?? 0;
    layers[i] ??= [];
    layers[i].push(t);
  }
  // One barycentre pass: a task sits near the tasks it depends on, which keeps edges from crossing much.
  const row = new Map<string, number>();
  for (const [i, layer] of layers.entries()) {
    if (!layer) continue;
    if (i > 0) {
      const bary = (t: GraphTask) => {
        const ys = (t.dependsOn ?? []).map((x) => row.get(x)).filter((y): y is number => y !== undefined);
        return ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : 0;
      };
      layer.sort((a, b) => bary(a) - bary(b));
    }
    for (const [j, t] of layer.entries()) row.set(t.id, j);
  }
  const pos = new Map<string, { x: number; y: number }>();
  for (const [i, layer] of layers.entries())
    for (const [j, t] of (layer ?? []).entries())
      pos.set(t.id, { x: 10 + i * (W + GAP_X), y: 10 + j * (H + GAP_Y) });
  const width = 20 + layers.length * (W + GAP_X) - GAP_X;
  const height = 20 + Math.max(1, ...layers.map((l) => l?.length ?? 0)) * (H + GAP_Y) - GAP_Y;
  const summary = `Task graph: ${tasks.length} tasks in ${layers.length} layer${layers.length === 1 ? '' : 's'}`;
  return (
    <div class="graph-wrap">
      <svg
        class="graph"
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={summary}
      >
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto"
          >
            <path d="M0,0 L10,5 L0,10 z" class="arrow" />
          </marker>
        </defs>
        {tasks.flatMap((t) =>
          (t.dependsOn ?? []).map((dep) => {
            const a = pos.get(dep);
            const b = pos.get(t.id);
            if (!a || !b) return null;
            const x1 = a.x + W;
            const y1 = a.y + H / 2;
            const x2 = b.x - 2;
            const y2 = b.y + H / 2;
            const mx = (x1 + x2) / 2;
            return (
              <path
                key={`${dep}->${t.id}`}
                d={`M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`}
                class={`edge ${byId.get(dep)?.status === 'completed' ? 'done' : ''}`}
                marker-end="url(#arrow)"
              />
            );
          }),
        )}
        {tasks.map((t) => {
          const p = pos.get(t.id);
          if (!p) return null;
          return (
            <g key={t.id} transform={`translate(${p.x},${p.y})`} class={`s-${t.status}`} data-node={t.id}>
              <title>
                {t.id}: {t.status}
                {t.agent ? ` on ${t.agent}` : ''}
                {t.dependsOn?.length ? `, after ${t.dependsOn.join(', ')}` : ''}
              </title>
              <rect width={W} height={H} rx={6} class={`node s-${t.status}`} />
              <text x={8} y={18} class="node-title">
                {t.id.length > 22 ? `${t.id.slice(0, 21)}…` : t.id}
              </text>
              <text x={8} y={36} class="node-sub">
                {t.status}
                {t.attempt && t.attempt > 1 ? ` #${t.attempt}` : ''}
                {t.agent ? ` · ${t.agent.length > 13 ? `${t.agent.slice(0, 12)}…` : t.agent}` : ''}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
