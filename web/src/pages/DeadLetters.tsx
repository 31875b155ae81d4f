import { useState } from 'preact/hooks';
import { fmtTime } from '../api';
import { useApi } from '../hooks';
import type { DeadLetter } from '../types';

/** Entries moved to the dead-letter stream, newest first, with their reasons; refreshed on task.dead_lettered. */
export function DeadLetters() {
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const { data, error } = useApi<{ items: DeadLetter[]; nextCursor?: string | null }>(
    `/api/dead-letters?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    (e) => e.type === 'task.dead_lettered',
    [],
    1000,
  );
  return (
    <section aria-labelledby="dl-h">
      <h1 id="dl-h">Dead letters</h1>
      {error && <p class="error">{error}</p>}
      {!data && !error && <p class="muted">Loading…</p>}
      {data && data.items.length === 0 && <p class="muted">No dead letters.</p>}
      {data && data.items.length > 0 && (
        <table aria-labelledby="dl-h">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Stream / entry</th>
              <th scope="col">Reason</th>
              <th scope="col">Workflow / task</th>
              <th scope="col">Correlation</th>
              <th scope="col">Fields</th>
            </tr>
          </thead>
          <tbody>
            {data.items.map((d) => (
              <tr key={d.id} data-dead-letter={d.id}>
                <td>{fmtTime(d.ts)}</td>
                <td>
                  <code>{d.stream}</code> <span class="muted mono">{d.entryId}</span>
                </td>
                <td>{d.reason}</td>
                <td>
                  {d.workflowId ? (
                    <a href={`#/workflows/${encodeURIComponent(d.workflowId)}`}>{d.workflowId}</a>
                  ) : (
                    '—'
                  )}
                  {d.taskId ? ` / ${d.taskId}` : ''}
                </td>
                <td>
                  {d.correlationId ? (
                    <a href={`#/correlation/${encodeURIComponent(d.correlationId)}`}>{d.correlationId}</a>
                  ) : (
                    '—'
                  )}
                </td>
                <td>
                  <details>
                    <summary>
                      <code class="small">{JSON.stringify(d.fields).slice(0, 80)}</code>
                    </summary>
                    <pre class="small">{JSON.stringify(d.fields, null, 2)}</pre>
                  </details>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
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
