import { useRef, useState } from 'preact/hooks';
import { fmtDuration, fmtTime } from '../api';
import { Chart } from '../components/Chart';
import { EventRow } from '../components/EventRow';
import { useApi, useLive, useNow } from '../hooks';
import { type HiveEvent, live } from '../live';
import type { AgentsView, UsageSummary, WorkflowList } from '../types';

const WINDOW = 60;
const RECENT = 10;

function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? null;
}

/** Agents and instances, queues, running workflows, live throughput and latency, and the event feed. */
export function Overview() {
  const now = useNow();
  const agents = useApi<AgentsView>(
    '/api/agents',
    (e) => e.type.startsWith('agent.') || e.type.startsWith('task.'),
    [],
    1000,
    5000,
  );
  const usage = useApi<UsageSummary>(
    '/api/usage',
    (e) => e.type === 'task.completed' || e.type === 'task.failed' || e.type === 'task.retrying',
    [],
    1000,
    10000,
  );
  const costOf = (agent: string) => usage.data?.agents.find((u) => u.agent === agent);
  const running = useApi<WorkflowList>(
    '/api/workflows?status=running&limit=50',
    (e) => e.type.startsWith('workflow.') || e.type === 'task.completed',
    [],
    500,
  );
  // Per-second buckets of task.completed (count, durations) filled from live events outside render state; the
  // charts redraw with the once-a-second clock, so a burst costs the page nothing but the feed's update.
  const series = useRef({ done: new Map<number, number>(), lat: new Map<number, number[]>() }).current;
  useLive((batch) => {
    for (const e of batch) {
      if (e.type !== 'task.completed') continue;
      const sec = Math.floor(Date.parse(e.ts) / 1000);
      series.done.set(sec, (series.done.get(sec) ?? 0) + 1);
      const d = e.data?.durationMs;
      if (typeof d === 'number' && Number.isFinite(d)) {
        const l = series.lat.get(sec);
        if (l) l.push(d);
        else series.lat.set(sec, [d]);
      }
    }
  });
  const nowSec = Math.floor(now / 1000);
  const firstKnown = Math.ceil(live.since / 1000);
  for (const k of series.done.keys()) if (k < nowSec - 2 * WINDOW) series.done.delete(k);
  for (const k of series.lat.keys()) if (k < nowSec - 2 * WINDOW) series.lat.delete(k);
  // The last whole second is the newest point; seconds before the page listened are unknown (null, a gap).
  const xs = Array.from({ length: WINDOW }, (_, i) => nowSec - WINDOW + i);
  const known = (x: number) => x >= firstKnown;
  const perSec = xs.map((x) => (known(x) ? (series.done.get(x) ?? 0) : null));
  const sortedLat = xs.map((x) => [...(series.lat.get(x) ?? [])].sort((a, b) => a - b));
  const p50 = sortedLat.map((s) => quantile(s, 0.5));
  const p99 = sortedLat.map((s) => quantile(s, 0.99));
  const recentXs = xs.slice(-RECENT).filter(known);
  const recentDone = recentXs.reduce((n, x) => n + (series.done.get(x) ?? 0), 0);
  const recentLat = recentXs.flatMap((x) => series.lat.get(x) ?? []).sort((a, b) => a - b);
  const throughputSummary = recentXs.length
    ? `${(recentDone / recentXs.length).toFixed(1)} tasks/s over the last ${recentXs.length} s`
    : '—';
  const latencySummary = recentLat.length
    ? `p50 ${fmtDuration(quantile(recentLat, 0.5))} · p99 ${fmtDuration(quantile(recentLat, 0.99))} (last ${RECENT} s)`
    : '—';
  const totalRunning = agents.data?.agents.reduce(
    (n, a) => n + a.instances.reduce((m, i) => m + (i.running ?? 0), 0),
    0,
  );
  const totalQueued = agents.data?.agents.reduce((n, a) => n + (a.queueDepth ?? 0), 0);
  return (
    <section aria-labelledby="overview-h">
      <h1 id="overview-h">Overview</h1>
      <dl class="stats" aria-label="Totals">
        <div>
          <dt>Agents online</dt>
          <dd>
            {agents.data
              ? agents.data.agents.filter((a) => a.instances.some((i) => i.status === 'online')).length
              : '—'}
          </dd>
        </div>
        <div>
          <dt>Tasks running</dt>
          <dd>{totalRunning ?? '—'}</dd>
        </div>
        <div>
          <dt>Queued</dt>
          <dd>{totalQueued ?? '—'}</dd>
        </div>
        <div>
          <dt>Workflows running</dt>
          <dd>{running.data ? `${running.data.items.length}${running.data.nextCursor ? '+' : ''}` : '—'}</dd>
        </div>
      </dl>
      <div class="grid2">
        <Chart
          title="Throughput (task.completed per second)"
          data={[xs, perSec]}
          series={[{ label: 'tasks/s', color: '#e0a100' }]}
          summary={throughputSummary}
        />
        <Chart
          title="Task duration (task.completed durationMs)"
          data={[xs, p50, p99]}
          series={[
            { label: 'p50 ms', color: '#3a8fd6' },
            { label: 'p99 ms', color: '#d0573f' },
          ]}
          summary={latencySummary}
        />
      </div>
      <h2 id="agents-h">Agents</h2>
      {agents.error && <p class="error">{agents.error}</p>}
      {!agents.data ? (
        !agents.error && <p class="muted">Loading…</p>
      ) : agents.data.agents.length === 0 ? (
        <p class="muted">No agents are configured.</p>
      ) : (
        <table aria-labelledby="agents-h">
          <thead>
            <tr>
              <th scope="col">Agent</th>
              <th scope="col">Capabilities</th>
              <th scope="col">Instances (heartbeat age)</th>
              <th scope="col" class="num">
                Running
              </th>
              <th scope="col" class="num">
                Queue depth
              </th>
              <th scope="col" class="num">
                Pending
              </th>
              <th scope="col" class="num">
                Cost (tokens in/out)
              </th>
            </tr>
          </thead>
          <tbody>
            {agents.data.agents.map((a) => (
              <tr key={a.name} data-agent={a.name}>
                <th scope="row">
                  {a.name}
                  {a.runner && <span class="muted small"> · {a.runner}</span>}
                </th>
                <td>
                  {a.capabilities.length ? (
                    a.capabilities.map((c) => (
                      <code key={c} class="tag">
                        {c}
                      </code>
                    ))
                  ) : (
                    <span class="muted">—</span>
                  )}
                </td>
                <td>
                  {a.instances.length === 0 ? (
                    <span class="muted">no instance</span>
                  ) : (
                    <ul class="plain">
                      {a.instances.map((i) => {
                        const age = i.lastHeartbeat ? now - Date.parse(i.lastHeartbeat) : null;
                        return (
                          <li key={i.id} data-instance={i.id} data-status={i.status}>
                            <span class={`dot s-${i.status}`} aria-hidden="true" /> <code>{i.id}</code>{' '}
                            <span class={`s-${i.status}`}>{i.status}</span>
                            <span class="muted">
                              {' '}
                              · {i.host ?? '—'}
                              {i.pid ? `:${i.pid}` : ''} · heartbeat{' '}
                              {age === null ? '—' : `${fmtDuration(Math.max(0, age))} ago`} · {i.running ?? 0}
                              /{i.concurrency ?? '—'} running
                            </span>
                          </li>
                        );
                      })}
                    </ul>
                  )}
                </td>
                <td class="num">{a.instances.reduce((m, i) => m + (i.running ?? 0), 0)}</td>
                <td class="num">{a.queueDepth ?? '—'}</td>
                <td class="num">{a.pending ?? '—'}</td>
                <td class="num" data-testid="agent-cost">
                  {(() => {
                    const u = costOf(a.name);
                    return u ? `$${u.costUsd.toFixed(4)} (${u.inputTokens}/${u.outputTokens})` : '—';
                  })()}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2 id="running-h">Running now</h2>
      {running.error && <p class="error">{running.error}</p>}
      {running.data && running.data.items.length === 0 && <p class="muted">No workflow is running.</p>}
      {running.data && running.data.items.length > 0 && (
        <table aria-labelledby="running-h">
          <thead>
            <tr>
              <th scope="col">Workflow</th>
              <th scope="col">Progress</th>
              <th scope="col">Started</th>
              <th scope="col" class="num">
                Running for
              </th>
            </tr>
          </thead>
          <tbody>
            {running.data.items.map((w) => (
              <tr key={w.id} data-workflow={w.id}>
                <th scope="row">
                  <a href={`#/workflows/${encodeURIComponent(w.id)}`}>{w.name ?? w.id}</a>
                </th>
                <td>
                  <Progress done={w.progress?.done} total={w.progress?.total} />
                </td>
                <td>{fmtTime(w.startedAt)}</td>
                <td class="num">{fmtDuration(w.startedAt ? now - Date.parse(w.startedAt) : null)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <EventFeed />
    </section>
  );
}

export function Progress({ done, total }: { done: number | undefined; total: number | undefined }) {
  if (done === undefined || total === undefined) return <span class="muted">—</span>;
  return (
    <span class="progress">
      <progress max={Math.max(1, total)} value={done} aria-label={`${done} of ${total} tasks done`} /> {done}/
      {total}
    </span>
  );
}

const FEED_SIZE = 200;

/**
 * The live feed (last 200 events): its own state, so a burst re-renders only this list, once per animation
 * frame. Each row carries data-seq and data-created (the event's ts in ms) for the render-latency benchmark.
 */
function EventFeed() {
  const [feed, setFeed] = useState<HiveEvent[]>([]);
  const [paused, setPaused] = useState(false);
  const pausedRef = useRef(false);
  pausedRef.current = paused;
  useLive((batch) => {
    if (pausedRef.current) return;
    setFeed((f) => {
      // A copy: the batch is shared with every other listener, in seq order.
      const fresh = batch.slice(-FEED_SIZE).reverse();
      return [...fresh, ...f].slice(0, FEED_SIZE);
    });
  });
  return (
    <>
      <div class="row-between">
        <h2 id="feed-h">Events</h2>
        <button type="button" aria-pressed={paused} onClick={() => setPaused(!paused)}>
          {paused ? 'Resume feed' : 'Pause feed'}
        </button>
      </div>
      <ol
        class="feed"
        aria-live={paused ? 'off' : 'polite'}
        aria-relevant="additions"
        aria-labelledby="feed-h"
      >
        {feed.length === 0 && <li class="muted">Waiting for events…</li>}
        {feed.map((e) => (
          <EventRow key={e.seq} e={e} />
        ))}
      </ol>
    </>
  );
}
