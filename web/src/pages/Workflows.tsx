import { useState } from 'preact/hooks';
import { fmtDuration, fmtTime } from '../api';
import { useApi, useNow } from '../hooks';
import { FINAL_WORKFLOW } from '../live';
import type { WorkflowList } from '../types';
import { Progress } from './Overview';

const STATUSES = [
  'pending',
  'running',
  'completed',
  'failed',
  'cancelled',
  'compensating',
  'rolled_back',
  'rollback_failed',
];

/** The workflow list, refreshed live (throttled) as workflow and task events arrive; newest first, paged. */
export function Workflows() {
  const [status, setStatus] = useState('');
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const now = useNow(1000);
  const q = new URLSearchParams({ limit: '50' });
  if (status) q.set('status', status);
  if (cursor) q.set('cursor', cursor);
  const { data, error } = useApi<WorkflowList>(
    `/api/workflows?${q}`,
    // Only the first page changes with new work; older pages refresh on their workflows' events.
    (e) => e.type.startsWith('workflow.') || e.type === 'task.completed' || e.type === 'task.failed',
    [],
    400,
  );
  return (
    <section aria-labelledby="wf-h">
      <h1 id="wf-h">Workflows</h1>
      <div class="toolbar">
        <label>
          Status{' '}
          <select
            value={status}
            onChange={(e) => {
              setStatus((e.target as HTMLSelectElement).value);
              setCursors([]);
            }}
          >
            <option value="">all</option>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
      </div>
      {error && <p class="error">{error}</p>}
      {!data && !error && <p class="muted">Loading…</p>}
      {data && data.items.length > 0 && (
        <table aria-labelledby="wf-h">
          <thead>
            <tr>
              <th scope="col">Workflow</th>
              <th scope="col">Status</th>
              <th scope="col">Progress</th>
              <th scope="col">Correlation</th>
              <th scope="col">Created</th>
              <th scope="col" class="num">
                Duration
              </th>
            </tr>
          </thead>
          <tbody>
            {data.items.map((w) => (
              <tr key={w.id} data-workflow={w.id} data-status={w.status}>
                <th scope="row">
                  <a href={`#/workflows/${encodeURIComponent(w.id)}`}>{w.name ?? w.id}</a>
                </th>
                <td>
                  <span class={`badge s-${w.status}`}>{w.status}</span>
                </td>
                <td>
                  <Progress done={w.progress?.done} total={w.progress?.total} />
                </td>
                <td>
                  <a href={`#/correlation/${encodeURIComponent(w.correlationId)}`} class="mono">
                    {w.correlationId}
                  </a>
                </td>
                <td>{fmtTime(w.createdAt)}</td>
                <td class="num">
                  {fmtDuration(
                    w.durationMs ??
                      (w.startedAt && !FINAL_WORKFLOW.has(w.status) ? now - Date.parse(w.startedAt) : null),
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {data && data.items.length === 0 && (
        <p class="muted">
          {status
            ? `No ${status} workflows.`
            : 'No workflows yet. Submit one with the API, the CLI or a command.'}
        </p>
      )}
      <nav class="pager" aria-label="Pages">
        <button
          type="button"
          disabled={cursors.length === 0}
          onClick={() => setCursors(cursors.slice(0, -1))}
        >
          Newer
        </button>
        <button
          type="button"
          disabled={!data?.nextCursor}
          onClick={() => data?.nextCursor && setCursors([...cursors, data.nextCursor])}
        >
          Older
        </button>
      </nav>
    </section>
  );
}
