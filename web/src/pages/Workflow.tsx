import { useState } from 'preact/hooks';
import { api, fmtDuration, fmtTime } from '../api';
import { type Bar, Gantt } from '../components/Gantt';
import { TaskGraph } from '../components/TaskGraph';
import { useApi, useNow } from '../hooks';

/** One workflow: its task graph, a timeline of attempts, events and agent logs as they arrive; cancel and retry. */
export function Workflow({ id }: { id: string }) {
  const now = useNow(500);
  const mine = (e: { workflowId?: string }) => e.workflowId === id;
  const wf = useApi<any>(`/api/workflows/${encodeURIComponent(id)}`, mine, [id]);
  const tl = useApi<any>(
    wf.data ? `/api/correlations/${encodeURIComponent(wf.data.correlationId)}` : null,
    mine,
    [wf.data?.correlationId],
  );
  const [message, setMessage] = useState<string | null>(null);
  if (wf.error) return <p class="error">{wf.error}</p>;
  if (!wf.data) return <p class="muted">Loading…</p>;
  const w = wf.data;
  const events = (tl.data?.events ?? []).filter((e: any) => e.workflowId === id);
  const logs = (tl.data?.logs ?? []).filter((l: any) => l.workflowId === id);
  const bars: Bar[] = [];
  const open = new Map<string, Bar>();
  for (const e of events) {
    if (e.type === 'task.started') {
      const b: Bar = {
        label: `${e.taskId} #${e.data.attempt}`,
        start: Date.parse(e.ts),
        end: null,
        status: 'running',
        detail: e.agent,
      };
      open.set(e.taskId, b);
      bars.push(b);
    } else if (
      ['task.completed', 'task.failed', 'task.retrying', 'task.cancelled', 'task.dead_lettered'].includes(
        e.type,
      )
    ) {
      const b = open.get(e.taskId);
      if (b) {
        b.end = Date.parse(e.ts);
        b.status =
          e.type === 'task.completed' ? 'completed' : e.type === 'task.cancelled' ? 'cancelled' : 'failed';
        open.delete(e.taskId);
      }
    }
  }
  const final = ['completed', 'failed', 'cancelled', 'rolled_back', 'rollback_failed'].includes(w.status);
  const act = async (what: 'cancel' | 'retry') => {
    try {
      if (what === 'cancel') {
        const r = await api<any>(`/api/workflows/${id}/cancel`, { method: 'POST' });
        setMessage(`Workflow ${r.status}.`);
      } else {
        const r = await api<any>('/api/commands/run', {
          method: 'POST',
          body: { command: `/hive:retry ${id}` },
        });
        location.hash = `#/workflows/${r.result.id}`;
      }
    } catch (e) {
      setMessage(String((e as Error).message));
    }
  };
  return (
    <section aria-labelledby="w-h">
      <h1 id="w-h">
        {w.name ?? w.id}{' '}
        <span class={`badge s-${w.status}`} data-testid="workflow-status">
          {w.status}
        </span>
      </h1>
      <p class="muted">
        {w.id} · correlation{' '}
        <a href={`#/correlation/${encodeURIComponent(w.correlationId)}`}>{w.correlationId}</a> ·{' '}
        {fmtDuration(w.durationMs ?? (w.startedAt ? now - Date.parse(w.startedAt) : null))}
        {w.usage?.costUsd ? ` · $${w.usage.costUsd.toFixed(4)}` : ''}
      </p>
      {w.error && (
        <p class="error">
          {w.error.code}: {w.error.message}
        </p>
      )}
      <div class="actions">
        <button type="button" disabled={final} onClick={() => act('cancel')}>
          Cancel
        </button>
        <button type="button" disabled={!final} onClick={() => act('retry')}>
          Retry
        </button>
        {message && <span role="status">{message}</span>}
      </div>
      <h2>Tasks</h2>
      <TaskGraph tasks={w.tasks} />
      <table>
        <thead>
          <tr>
            <th scope="col">Task</th>
            <th scope="col">Type</th>
            <th scope="col">Agent</th>
            <th scope="col">Status</th>
            <th scope="col">Attempt</th>
            <th scope="col">Duration</th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {w.tasks.map((t: any) => (
            <tr key={t.id} data-task={t.id} data-status={t.status}>
              <th scope="row">{t.id}</th>
              <td>{t.type}</td>
              <td>{t.agent ?? '—'}</td>
              <td>
                <span class={`badge s-${t.status}`}>{t.status}</span>
              </td>
              <td>{t.attempt}</td>
              <td>{fmtDuration(t.durationMs)}</td>
              <td>{t.error ? `${t.error.code}: ${t.error.message}` : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Timeline</h2>
      <Gantt bars={bars} now={now} />
      <div class="grid2">
        <div>
          <h2>Events</h2>
          <ol class="feed" aria-live="polite">
            {events.map((e: any) => (
              <li key={e.seq} data-seq={e.seq}>
                <span class="muted">{fmtTime(e.ts)}</span> <code>{e.type}</code> {e.taskId ?? ''}
              </li>
            ))}
          </ol>
        </div>
        <div>
          <h2>Agent logs</h2>
          <ol class="feed logs">
            {logs.length === 0 && <li class="muted">No log lines yet.</li>}
            {logs.map((l: any) => (
              <li key={l.id} class={`lvl-${l.level}`}>
                <span class="muted">{fmtTime(l.ts)}</span> {l.agent} {l.taskId}: {l.message}
              </li>
            ))}
          </ol>
        </div>
      </div>
    </section>
  );
}
