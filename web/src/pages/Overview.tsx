import { useRef, useState } from 'preact/hooks';
import { fmtDuration, fmtTime } from '../api';
import { Chart } from '../components/Chart';
import { useApi, useLive, useNow } from '../hooks';
import type { HiveEvent } from '../live';

const WINDOW = 60;

/** Agents and instances, queues, running workflows, live throughput and latency, and the event feed. */
export function Overview() {
  const now = useNow();
  const agents = useApi<{ agents: any[] }>(
    '/api/agents',
    (e) => e.type.startsWith('agent.') || e.type === 'task.started' || e.type === 'task.completed',
  );
  const running = useApi<{ items: any[] }>('/api/workflows?status=running&limit=20', (e) =>
    e.type.startsWith('workflow.'),
  );
  // Chart data accumulates outside render state; the charts redraw with the once-a-second clock, so a burst of
  // events costs the page nothing but the feed's own small update.
  const series = useRef({ done: new Map<number, number>(), lat: new Map<number, number[]>() }).current;
  useLive((batch) => {
    for (const e of batch) {
      if (e.type !== 'task.completed') continue;
      const sec = Math.floor(Date.parse(e.ts) / 1000);
      series.done.set(sec, (series.done.get(sec) ?? 0) + 1);
      if (typeof e.data.durationMs === 'number')
        series.lat.set(sec, [...(series.lat.get(sec) ?? []), e.data.durationMs]);
    }
  });
  const nowSec = Math.floor(now / 1000);
  const xs = Array.from({ length: WINDOW }, (_, i) => nowSec - WINDOW + 1 + i);
  const throughput: [number[], (number | null)[]] = [xs, xs.map((x) => series.done.get(x) ?? 0)];
  const latency: [number[], (number | null)[]] = [
    xs,
    xs.map((x) => {
      const v = series.lat.get(x);
      if (!v?.length) return null;
      const s = [...v].sort((a, b) => a - b);
      return s[Math.floor(s.length / 2)]!;
    }),
  ];
  return (
    <section aria-labelledby="overview-h">
      <h1 id="overview-h">Overview</h1>
      <div class="grid2">
        <Chart title="Tasks completed per second" data={throughput} unit="tasks/s" />
        <Chart title="Task duration p50 (ms)" data={latency} unit="ms" />
      </div>
      <h2>Agents</h2>
      {agents.error && <p class="error">{agents.error}</p>}
      {!agents.data ? (
        <p class="muted">Loading…</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Agent</th>
              <th scope="col">Capabilities</th>
              <th scope="col">Instances</th>
              <th scope="col">Queue</th>
              <th scope="col">Pending</th>
            </tr>
          </thead>
          <tbody>
            {agents.data.agents.map((a) => (
              <tr key={a.name}>
                <th scope="row">{a.name}</th>
                <td>{a.capabilities.join(', ')}</td>
                <td>
                  {a.instances.length === 0 ? (
                    <span class="muted">none</span>
                  ) : (
                    <ul class="plain">
                      {a.instances.map((i: any) => (
                        <li key={i.id}>
                          <span class={`dot s-${i.status}`} aria-hidden="true" /> {i.id} · {i.status} ·
                          heartbeat {fmtDuration(now - Date.parse(i.lastHeartbeat))} ago · {i.running}/
                          {i.concurrency} running
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
                <td>{a.queueDepth}</td>
                <td>{a.pending}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Running now</h2>
      {running.data && running.data.items.length === 0 && <p class="muted">No workflow is running.</p>}
      <ul class="plain">
        {running.data?.items.map((w) => (
          <li key={w.id}>
            <a href={`#/workflows/${w.id}`}>{w.name ?? w.id}</a> · {w.progress.done}/{w.progress.total} tasks
            · started {fmtTime(w.startedAt)}
          </li>
        ))}
      </ul>
      <h2>Events</h2>
      <EventFeed />
    </section>
  );
}

/** The live feed: its own state, so a burst re-renders only this list, once per animation frame. */
function EventFeed() {
  const [feed, setFeed] = useState<HiveEvent[]>([]);
  useLive((batch) => setFeed((f) => [...[...batch].reverse(), ...f].slice(0, 200)));
  return (
    <ol class="feed" aria-live="polite" aria-label="Live events">
      {feed.length === 0 && <li class="muted">Waiting for events…</li>}
      {feed.map((e) => (
        <li key={e.seq} data-seq={e.seq} data-created={Date.parse(e.ts)}>
          <span class="muted">{fmtTime(e.ts)}</span> <code>{e.type}</code>{' '}
          {e.workflowId && <a href={`#/workflows/${e.workflowId}`}>{e.workflowId.slice(-8)}</a>}{' '}
          {e.taskId ?? ''} {e.agent ?? ''}
        </li>
      ))}
    </ol>
  );
}
