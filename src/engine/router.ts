import { sql } from 'kysely';
import type { Db } from '../store/database.js';

export interface RouteDecision {
  agent: string;
  reason: string;
  loads: Record<string, number>;
}

/**
 * Routes a task to the least loaded capable agent. Load = the agent's queued + running tasks, read from
 * PostgreSQL at most once per second and bumped locally for every task routed in between, so a burst
 * spreads across agents instead of all landing on the one that looked idle at the last refresh.
 */
export class Router {
  private loads = new Map<string, number>();
  private refreshedAt = 0;

  constructor(private readonly refreshMs = 1_000) {}

  async refresh(db: Db, force = false): Promise<void> {
    if (!force && Date.now() - this.refreshedAt < this.refreshMs) return;
    const rows = await sql<{ agent: string; n: number }>`
      SELECT agent, count(*)::int AS n FROM tasks WHERE status IN ('queued', 'running') AND agent IS NOT NULL GROUP BY agent`.execute(
      db,
    );
    this.loads = new Map(rows.rows.map((r) => [r.agent, Number(r.n)]));
    this.refreshedAt = Date.now();
  }

  route(candidates: readonly string[]): RouteDecision {
    const loads: Record<string, number> = {};
    let best = candidates[0]!;
    for (const c of candidates) {
      loads[c] = this.loads.get(c) ?? 0;
      if (loads[c]! < loads[best]!) best = c;
    }
    this.loads.set(best, (this.loads.get(best) ?? 0) + 1);
    const reason =
      candidates.length === 1
        ? `only capable agent`
        : `least loaded of ${candidates.length} capable agents (${candidates.map((c) => `${c}: ${loads[c]}`).join(', ')})`;
    return { agent: best, reason, loads };
  }
}
