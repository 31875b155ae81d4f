import { useState } from 'preact/hooks';
import { fmtDuration, fmtTime } from '../api';
import { useApi } from '../hooks';

/** The workflow list, refreshed live as workflow and task events arrive. */
export function Workflows() {
  const [status, setStatus] = useState('');
  const { data, error } = useApi<{ items: any[] }>(
    `/api/workflows?limit=100${status ? `&status=${status}` : ''}`,
    (e) => e.type.startsWith('workflow.') || e.type === 'task.completed',
    [status],
  );
  return (
    <section aria-labelledby="wf-h">
      <h1 id="wf-h">Workflows</h1>
      <label>
        Status{' '}
        <select value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
          <option value="">all</option>
          {[
            'running',
            'completed',
            'failed',
            'cancelled',
            'compensating',
            'rolled_back',
            'rollback_failed',
          ].map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </label>
      {error && <p class="error">{error}</p>}
      <table>
        <thead>
          <tr>
            <th scope="col">Workflow</th>
            <th scope="col">Status</th>
            <th scope="col">Progress</th>
            <th scope="col">Correlation</th>
            <th scope="col">Created</th>
            <th scope="col">Duration</th>
          </tr>
        </thead>
        <tbody>
          {data?.items.map((w) => (
            <tr key={w.id} data-workflow={w.id} data-status={w.status}>
              <th scope="row">
                <a href={`#/workflows/${w.id}`}>{w.name ?? w.id}</a>
              </th>
              <td>
                <span class={`badge s-${w.status}`}>{w.status}</span>
              </td>
              <td>
                <progress
                  max={w.progress.total}
                  value={w.progress.done}
                  aria-label={`${w.progress.done} of ${w.progress.total} tasks`}
                />{' '}
                {w.progress.done}/{w.progress.total}
              </td>
              <td>
                <a href={`#/correlation/${encodeURIComponent(w.correlationId)}`}>{w.correlationId}</a>
              </td>
              <td>{fmtTime(w.createdAt)}</td>
              <td>{fmtDuration(w.durationMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && data.items.length === 0 && (
        <p class="muted">No workflows yet. Submit one with the API, the CLI or a command.</p>
      )}
    </section>
  );
}
