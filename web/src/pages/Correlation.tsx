import { useState } from 'preact/hooks';
import { fmtDuration, fmtTime } from '../api';
import { type Bar, Gantt } from '../components/Gantt';
import { useApi, useNow } from '../hooks';

/** Paste an ID and see everything under it: command, requests with durations, workflows, tasks, events, logs. */
export function Correlation({ cid }: { cid: string | null }) {
  const [input, setInput] = useState(cid ?? '');
  const now = useNow(1000);
  const { data, error } = useApi<any>(
    cid ? `/api/correlations/${encodeURIComponent(cid)}` : null,
    (e) => e.correlationId === cid,
    [cid],
  );
  const bars: Bar[] = [];
  if (data) {
    for (const r of data.requests)
      bars.push({
        label: `${r.method} ${r.route}`,
        start: Date.parse(r.ts) - r.durationMs,
        end: Date.parse(r.ts),
        status: r.status < 400 ? 'completed' : 'failed',
        detail: `${r.status}`,
      });
    for (const w of data.workflows)
      bars.push({
        label: `workflow ${w.name ?? w.id}`,
        start: Date.parse(w.startedAt ?? w.createdAt),
        end: w.finishedAt ? Date.parse(w.finishedAt) : null,
        status: w.status,
      });
    for (const t of data.tasks)
      if (t.startedAt)
        bars.push({
          label: `task ${t.id}`,
          start: Date.parse(t.startedAt),
          end: t.finishedAt ? Date.parse(t.finishedAt) : null,
          status: t.status,
          detail: t.agent,
        });
  }
  const items = data
    ? [
        ...data.commands.map((c: any) => ({ ts: c.ts, kind: 'command', text: `${c.command} ${c.args}` })),
        ...data.events.map((e: any) => ({
          ts: e.ts,
          kind: 'event',
          text: `${e.type} ${e.taskId ?? ''} ${e.agent ?? ''}`,
        })),
        ...data.logs.map((l: any) => ({
          ts: l.ts,
          kind: 'log',
          text: `${l.agent} ${l.taskId ?? ''}: ${l.message}`,
        })),
      ].sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts))
    : [];
  return (
    <section aria-labelledby="c-h">
      <h1 id="c-h">Correlation</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          location.hash = `#/correlation/${encodeURIComponent(input.trim())}`;
        }}
      >
        <label>
          Correlation ID{' '}
          <input
            name="cid"
            value={input}
            onInput={(e) => setInput((e.target as HTMLInputElement).value)}
            size={44}
          />
        </label>{' '}
        <button type="submit">Show</button>
      </form>
      {error && <p class="error">{error}</p>}
      {data && (
        <>
          <p class="muted">
            {data.workflows.length} workflow(s), {data.tasks.length} task(s), {data.events.length} event(s),{' '}
            {data.logs.length} log line(s), {data.requests.length} request(s)
          </p>
          <h2>Timeline</h2>
          <Gantt bars={bars} now={now} />
          <h2>Requests</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Request</th>
                <th scope="col">Status</th>
                <th scope="col">Duration</th>
              </tr>
            </thead>
            <tbody>
              {data.requests.map((r: any, i: number) => (
                <tr key={i}>
                  <td>{fmtTime(r.ts)}</td>
                  <td>
                    {r.method} {r.route}
                  </td>
                  <td>{r.status}</td>
                  <td>{fmtDuration(r.durationMs)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Everything, in order</h2>
          <ol class="feed" data-testid="correlation-items">
            {items.map((i, n) => (
              <li key={n} class={`kind-${i.kind}`}>
                <span class="muted">{fmtTime(i.ts)}</span> <strong>{i.kind}</strong> {i.text}
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
