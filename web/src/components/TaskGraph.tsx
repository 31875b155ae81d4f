/** The task graph: tasks in layers by dependency depth, edges for dependsOn. */
export interface GraphTask {
  id: string;
  status: string;
  dependsOn?: string[];
  agent?: string | null;
}

export function TaskGraph({ tasks }: { tasks: GraphTask[] }) {
  const depth = new Map<string, number>();
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const d = (id: string, seen = new Set<string>()): number => {
    if (depth.has(id)) return depth.get(id)!;
    if (seen.has(id)) return 0;
    seen.add(id);
    const deps = byId.get(id)?.dependsOn ?? [];
    const v = deps.length ? 1 + Math.max(...deps.map((x) => d(x, seen))) : 0;
    depth.set(id, v);
    return v;
  };
  for (const t of tasks) d(t.id);
  const layers: GraphTask[][] = [];
  for (const t of tasks) {
    const i = depth.get(t.id)!;
    layers[i] ??= [];
    layers[i].push(t);
  }
  const W = 150;
  const H = 46;
  const pos = new Map<string, { x: number; y: number }>();
  for (const [i, layer] of layers.entries()) {
    for (const [j, t] of (layer ?? []).entries())
      pos.set(t.id, { x: 10 + i * (W + 40), y: 10 + j * (H + 14) });
  }
  const width = 20 + layers.length * (W + 40);
  const height = 20 + Math.max(1, ...layers.map((l) => l.length)) * (H + 14);
  return (
    <svg class="graph" width={width} height={height} role="img" aria-label="Task graph">
      {tasks.flatMap((t) =>
        (t.dependsOn ?? []).map((dep) => {
          const a = pos.get(dep);
          const b = pos.get(t.id);
          if (!a || !b) return null;
          return (
            <line
              key={`${dep}-${t.id}`}
              x1={a.x + W}
              y1={a.y + H / 2}
              x2={b.x}
              y2={b.y + H / 2}
              class="edge"
            />
          );
        }),
      )}
      {tasks.map((t) => {
        const p = pos.get(t.id)!;
        return (
          <g key={t.id} transform={`translate(${p.x},${p.y})`}>
            <rect width={W} height={H} rx={6} class={`node s-${t.status}`} />
            <text x={8} y={18} class="node-title">
              {t.id.length > 18 ? `${t.id.slice(0, 17)}…` : t.id}
            </text>
            <text x={8} y={36} class="node-sub">
              {t.status}
              {t.agent ? ` · ${t.agent}` : ''}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
