import { fmtTime } from '../api';
import { useApi } from '../hooks';

export function DeadLetters() {
  const { data, error } = useApi<{ items: any[] }>(
    '/api/dead-letters?limit=200',
    (e) => e.type === 'task.dead_lettered',
  );
  return (
    <section aria-labelledby="dl-h">
      <h1 id="dl-h">Dead letters</h1>
      {error && <p class="error">{error}</p>}
      {data && data.items.length === 0 && <p class="muted">No dead letters.</p>}
      <table>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Stream</th>
            <th scope="col">Reason</th>
            <th scope="col">Correlation</th>
            <th scope="col">Fields</th>
          </tr>
        </thead>
        <tbody>
          {data?.items.map((d) => (
            <tr key={d.id}>
              <td>{fmtTime(d.ts)}</td>
              <td>
                <code>{d.stream}</code> {d.entryId}
              </td>
              <td>{d.reason}</td>
              <td>
                {d.correlationId ? (
                  <a href={`#/correlation/${encodeURIComponent(d.correlationId)}`}>{d.correlationId}</a>
                ) : (
                  '—'
                )}
              </td>
              <td>
                <code class="small">{JSON.stringify(d.fields).slice(0, 160)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
