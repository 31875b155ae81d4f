import { useEffect, useRef, useState } from 'preact/hooks';
import { api, fmtDuration, fmtTime } from '../api';
import { EventRow } from '../components/EventRow';
import { type Bar, Gantt } from '../components/Gantt';
import { TaskGraph } from '../components/TaskGraph';
import { useApi, useLive, useNow } from '../hooks';
import { FINAL_WORKFLOW, type HiveEvent } from '../live';
import type { CorrelationView, LogLine, WorkflowDetail } from '../types';

const END_STATUS: Record<string, string> = {
  'task.completed': 'completed',
  'task.failed': 'failed',
  'task.retrying': 'failed',
  'task.timed_out': 'timed_out',
  'task.cancelled': 'cancelled',
  'task.dead_lettered': 'failed',
};

/** Attempts as bars: task.started opens one, the attempt's first terminal event closes it. */
export function attemptBars(events: HiveEvent[]): Bar[] {
  const bars = new Map<string, Bar>();
  for (const e of events) {
    if (!e.taskId) continue;
    const attempt = e.data?.attempt ?? '?';
    const key = `${e.taskId}#${attempt}`;
    const ts = Date.parse(e.ts);
    if (e.type === 'task.started') {
      const b = bars.get(key);
      if (b) b.start = Math.min(b.start, ts);
      else
        bars.set(key, {
          label: `${e.taskId} #${attempt}`,
          start: ts,
          end: null,
          status: 'running',
          detail: [e.agent, e.data?.instance].filter(Boolean).join(' · ') || undefined,
        });
      continue;
    }
    const status = END_STATUS[e.type];
    if (!status) continue;
    const b = bars.get(key);
    if (b) {
      if (b.end === null) {
        b.end = Math.max(b.start, ts);
        b.status = status;
      }
    } else if (typeof e.data?.durationMs === 'number') {
      // The start was not seen (an agent's result can prove the start): the duration places it.
      bars.set(key, {
        label: `${e.taskId} #${attempt}`,
        start: ts - e.data.durationMs,
        end: ts,
        status,
        detail: e.agent,
      });
    }
  }
  return [...bars.values()].sort((a, b) => a.start - b.start);
}

function mergeEvents(a: HiveEvent[], b: HiveEvent[]): HiveEvent[] {
  const bySeq = new Map<number, HiveEvent>();
  for (const e of a) bySeq.set(e.seq, e);
  for (const e of b) bySeq.set(e.seq, e);
  return [...bySeq.values()].sort((x, y) => x.seq - y.seq);
}

const SHOWN_EVENTS = 300;
const SHOWN_LOGS = 500;

/** One workflow: its task graph, a timeline of attempts, events and agent logs as they arrive; cancel and retry. */
export function Workflow({ id }: { id: string }) {
  const now = useNow(500);
  const mine = (e: HiveEvent) => e.workflowId === id;
  const wf = useApi<WorkflowDetail>(`/api/workflows/${encodeURIComponent(id)}`, mine, [id], 250);
  const w = wf.data;
  const events = useWorkflowEvents(id, w?.correlationId);
  const logs = useWorkflowLogs(id, w ? FINAL_WORKFLOW.has(w.status) : false);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (wf.error && !w)
    return (
      <p class="error" role="alert">
        {wf.error}
      </p>
    );
  if (!w) return <p class="muted">Loading…</p>;
  const final = FINAL_WORKFLOW.has(w.status);
  const done = w.tasks.filter((t) => t.status === 'completed').length;
  const act = async (what: 'cancel' | 'retry') => {
    setBusy(true);
    setMessage(null);
    try {
      if (what === 'cancel') {
        const r = await api<{ status?: string }>(`/api/workflows/${encodeURIComponent(id)}/cancel`, {
          method: 'POST',
        });
        setMessage(`Cancel requested${r.status ? `: ${r.status}` : ''}.`);
      } else {
        const r = await api<{ workflowId?: string; result?: { id?: string } }>('/api/commands/run', {
          method: 'POST',
          body: { command: `/hive:retry ${id}` },
        });
        const next = r.workflowId ?? r.result?.id;
        if (next) location.hash = `#/workflows/${encodeURIComponent(next)}`;
        else setMessage('Retry started.');
      }
    } catch (e) {
      setMessage(String((e as Error).message));
    } finally {
      setBusy(false);
    }
  };
  const shownEvents = events.slice(-SHOWN_EVENTS).reverse();
  const shownLogs = logs.slice(-SHOWN_LOGS);
  const cost = w.usage?.costUsd;
  return (
    <section aria-labelledby="w-h">
      <p class="crumbs">
        <a href="#/workflows">Workflows</a> /
      </p>
      <h1 id="w-h">
        {w.name ?? w.id}{' '}
        <span class={`badge s-${w.status}`} data-testid="workflow-status">
          {w.status}
        </span>
      </h1>
      <dl class="meta">
        <dt>ID</dt>
        <dd>
          <code>{w.id}</code>
        </dd>
        <dt>Correlation</dt>
        <dd>
          <a href={`#/correlation/${encodeURIComponent(w.correlationId)}`}>{w.correlationId}</a>
        </dd>
        <dt>Progress</dt>
        <dd>
          {done}/{w.tasks.length} tasks
        </dd>
        <dt>Created</dt>
        <dd>{fmtTime(w.createdAt)}</dd>
        <dt>Duration</dt>
        <dd>{fmtDuration(w.durationMs ?? (w.startedAt && !final ? now - Date.parse(w.startedAt) : null))}</dd>
        {typeof cost === 'number' && cost > 0 && (
          <>
            <dt>Cost</dt>
            <dd>
              ${cost.toFixed(4)} · {w.usage?.inputTokens ?? 0} in / {w.usage?.outputTokens ?? 0} out tokens
              {w.usageByAgent && Object.keys(w.usageByAgent).length > 1 && (
                <span class="muted" data-testid="cost-by-agent">
                  {' '}
                  (
                  {Object.entries(w.usageByAgent)
                    .map(([agent, u]) => `${agent} $${(u.costUsd ?? 0).toFixed(4)}`)
                    .join(', ')}
                  )
                </span>
              )}
            </dd>
          </>
        )}
      </dl>
      {w.error && (
        <p class="error">
          {w.error.code}: {w.error.message}
        </p>
      )}
      <div class="actions">
        <button
          type="button"
          disabled={final || busy}
          onClick={() => act('cancel')}
          aria-label={`Cancel workflow ${w.name ?? w.id}`}
        >
          Cancel
        </button>
        <button
          type="button"
          disabled={!final || busy}
          onClick={() => act('retry')}
          aria-label={`Retry workflow ${w.name ?? w.id}`}
        >
          Retry
        </button>
        <span role="status" aria-live="polite">
          {message}
        </span>
      </div>
      <h2 id="tasks-h">Tasks</h2>
      <TaskGraph tasks={w.tasks} />
      <table aria-labelledby="tasks-h">
        <thead>
          <tr>
            <th scope="col">Task</th>
            <th scope="col">Type</th>
            <th scope="col">Agent</th>
            <th scope="col">Status</th>
            <th scope="col" class="num">
              Attempt
            </th>
            <th scope="col" class="num">
              Duration
            </th>
            <th scope="col">Depends on</th>
            <th scope="col" class="num">
              Cost
            </th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {w.tasks.map((t) => (
            <tr key={t.id} data-task={t.id} data-status={t.status}>
              <th scope="row">{t.id}</th>
              <td>{t.type}</td>
              <td>{t.agent ?? '—'}</td>
              <td>
                <span class={`badge s-${t.status}`}>{t.status}</span>
              </td>
              <td class="num">{t.attempt}</td>
              <td class="num">
                {fmtDuration(
                  t.durationMs ??
                    (t.startedAt && t.status === 'running' ? now - Date.parse(t.startedAt) : null),
                )}
              </td>
              <td>{t.dependsOn?.length ? t.dependsOn.join(', ') : '—'}</td>
              <td class="num" data-testid="task-cost">
                {t.usage
                  ? `${t.usage.costUsd !== undefined ? `$${t.usage.costUsd.toFixed(4)} · ` : ''}${t.usage.inputTokens ?? 0}/${t.usage.outputTokens ?? 0} tok`
                  : '—'}
              </td>
              <td class="error">{t.error ? `${t.error.code ?? ''}: ${t.error.message ?? ''}` : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Timeline of attempts</h2>
      <Gantt bars={attemptBars(events)} now={now} />
      <div class="grid2">
        <div>
          <h2 id="wev-h">Events</h2>
          <ol class="feed" aria-live="polite" aria-relevant="additions" aria-labelledby="wev-h">
            {shownEvents.length === 0 && <li class="muted">No events yet.</li>}
            {shownEvents.map((e) => (
              <EventRow key={e.seq} e={e} showWorkflow={false} />
            ))}
          </ol>
        </div>
        <div>
          <h2 id="wlog-h">Agent logs</h2>
          <ol class="feed logs" aria-labelledby="wlog-h">
            {shownLogs.length === 0 && <li class="muted">No log lines yet.</li>}
            {shownLogs.map((l, i) => (
              <li key={l.id ?? i} class={`lvl-${l.level}`}>
                <span class="muted mono">{fmtTime(l.ts)}</span> <span class="badge">{l.level}</span> {l.agent}
                {l.taskId ? ` ${l.taskId}` : ''}: {l.message}
              </li>
            ))}
          </ol>
        </div>
      </div>
    </section>
  );
}

/**
 * The workflow's events: those recorded so far (from its correlation's timeline) merged with live ones, by seq.
 * The live subscription is open before the fetch, so nothing falls between the two.
 */
function useWorkflowEvents(id: string, correlationId: string | undefined): HiveEvent[] {
  const [events, setEvents] = useState<HiveEvent[]>([]);
  useEffect(() => setEvents([]), [id]);
  useLive(
    (batch) => {
      const mine = batch.filter((e) => e.workflowId === id);
      if (mine.length) setEvents((prev) => mergeEvents(prev, mine));
    },
    [id],
  );
  useEffect(() => {
    if (!correlationId) return;
    let alive = true;
    api<CorrelationView>(`/api/correlations/${encodeURIComponent(correlationId)}`).then(
      (c) => {
        if (alive)
          setEvents((prev) =>
            mergeEvents(
              prev,
              c.events.filter((e) => e.workflowId === id),
            ),
          );
      },
      () => {},
    );
    return () => {
      alive = false;
    };
  }, [id, correlationId]);
  return events;
}

/**
 * Agent log lines of the workflow: all so far, then only newer ones (`after` the last id), fetched shortly
 * after each of its events and every few seconds while it runs (log lines are not events).
 */
function useWorkflowLogs(id: string, final: boolean): LogLine[] {
  const [logs, setLogs] = useState<LogLine[]>([]);
  const state = useRef({ after: 0, busy: false, timer: 0, id });
  const fetchLogs = useRef<() => void>(() => {});
  useEffect(() => {
    const s = { after: 0, busy: false, timer: 0, id };
    state.current = s;
    setLogs([]);
    let alive = true;
    fetchLogs.current = () => {
      if (s.busy || !alive) return;
      s.busy = true;
      const q = new URLSearchParams({ workflowId: id, limit: '2000' });
      if (s.after) q.set('after', String(s.after));
      api<{ items: LogLine[] }>(`/api/logs?${q}`)
        .then((r) => {
          if (!alive || r.items.length === 0) return;
          s.after = Math.max(s.after, ...r.items.map((l) => l.id ?? 0));
          setLogs((prev) => [...prev, ...r.items].slice(-2 * SHOWN_LOGS));
        })
        .catch(() => {})
        .finally(() => {
          s.busy = false;
        });
    };
    fetchLogs.current();
    return () => {
      alive = false;
      clearTimeout(s.timer);
    };
  }, [id]);
  useLive(
    (batch) => {
      const s = state.current;
      if (s.timer || !batch.some((e) => e.workflowId === id && e.type.startsWith('task.'))) return;
      s.timer = window.setTimeout(() => {
        s.timer = 0;
        fetchLogs.current();
      }, 300);
    },
    [id],
  );
  useEffect(() => {
    // While it runs (and a little after it ends, for the last lines to land), a slow poll as a safety net.
    let left = final ? 2 : Number.POSITIVE_INFINITY;
    const t = setInterval(() => {
      if (left-- <= 0) return clearInterval(t);
      fetchLogs.current();
    }, 2000);
    return () => clearInterval(t);
  }, [id, final]);
  return logs;
}
