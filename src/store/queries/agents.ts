import { WORKER_GROUP } from '../../bus/keys.js';
import type { EngineDeps } from '../../engine/deps.js';

/**
 * Agents as configured, their instances as recorded from heartbeats, and liveness straight from Redis (an
 * instance is online only while its heartbeat key exists), with queue depth and pending count per stream.
 */
export async function agentsView(deps: EngineDeps) {
  const names = Object.keys(deps.config.agents);
  const instances = names.length
    ? await deps.db
        .selectFrom('agent_instances')
        .selectAll()
        .where('agent', 'in', names)
        .where('stopped_at', 'is', null)
        .execute()
    : [];
  const recent = names.length
    ? await deps.db
        .selectFrom('agent_instances')
        .selectAll()
        .where('agent', 'in', names)
        .where('stopped_at', '>', new Date(Date.now() - 10 * 60_000))
        .execute()
    : [];
  const all = [...instances, ...recent];
  const pipeline = deps.redis.pipeline();
  for (const i of all) pipeline.pttl(deps.keys.instance(i.agent, i.id));
  for (const n of names) {
    pipeline.xlen(deps.keys.agentTasks(n));
    pipeline.xpending(deps.keys.agentTasks(n), WORKER_GROUP);
  }
  const replies = ((await pipeline.exec()) ?? []).map(([err, v]) => (err ? null : v));
  const alive = all.map((_, i) => Number(replies[i]) > 0);
  const base = all.length;
  return {
    agents: names.map((name, n) => {
      const a = deps.config.agents[name]!;
      const pending = replies[base + n * 2 + 1] as [number] | null;
      return {
        name,
        runner: a.runner,
        capabilities: a.capabilities,
        concurrency: a.concurrency,
        configuredInstances: a.instances,
        queueDepth: Number(replies[base + n * 2] ?? 0),
        pending: Number(pending?.[0] ?? 0),
        instances: all
          .map((i, k) => ({ i, live: alive[k] }))
          .filter(({ i }) => i.agent === name)
          .map(({ i, live }) => ({
            id: i.id,
            host: i.host,
            pid: i.pid,
            concurrency: i.concurrency,
            startedAt: i.started_at.toISOString(),
            lastHeartbeat: i.last_heartbeat.toISOString(),
            status: live ? 'online' : 'offline',
            running: live ? i.running : 0,
          })),
      };
    }),
  };
}

/** Queue depth (XLEN) and pending count (XPENDING of the workers group) of every configured agent's stream. */
export async function queueCounts(
  deps: EngineDeps,
): Promise<Array<{ agent: string; depth: number; pending: number }>> {
  const names = Object.keys(deps.config.agents);
  if (names.length === 0) return [];
  const pipeline = deps.redis.pipeline();
  for (const n of names)
    pipeline.xlen(deps.keys.agentTasks(n)).xpending(deps.keys.agentTasks(n), WORKER_GROUP);
  const replies = (await pipeline.exec()) ?? [];
  const out: Array<{ agent: string; depth: number; pending: number }> = [];
  names.forEach((agent, i) => {
    const [depthErr, depth] = replies[i * 2] ?? [];
    const [pendingErr, pending] = replies[i * 2 + 1] ?? [];
    // No stream or group yet (nothing ever queued): an honest zero; a Redis error: no sample at all.
    if (depthErr || pendingErr) {
      if (!/NOGROUP|no such key/i.test(String(depthErr ?? pendingErr))) return;
    }
    out.push({
      agent,
      depth: depthErr ? 0 : Number(depth ?? 0),
      pending: pendingErr ? 0 : Number((pending as [number] | null)?.[0] ?? 0),
    });
  });
  return out;
}
