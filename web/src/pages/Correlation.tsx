import { useEffect, useRef, useState } from 'preact/hooks';
import { fmtDuration, fmtTime } from '../api';
import { type Bar, Gantt } from '../components/Gantt';
import { useApi, useNow } from '../hooks';
import type { CorrelationView } from '../types';

const CID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

interface Item {
  ts: string;
  kind: 'command' | 'request' | 'event' | 'log';
  text: string;
  seq?: number;
  href?: string;
}

function timelineBars(data: CorrelationView): Bar[] {
  const bars: Bar[] = [];
  for (const c of data.commands ?? [])
    bars.push({
      kind: 'command',
      label: `command ${c.command}`,
      start: Date.parse(c.ts),
      end: Date.parse(c.ts),
      status: c.error ? 'failed' : 'completed',
      detail: c.args || undefined,
    });
  for (const r of data.requests)
    bars.push({
      kind: 'request',
      label: `${r.method} ${r.route}`,
      // A request is recorded when it ends, with its duration.
      start: Date.parse(r.ts) - (r.durationMs ?? 0),
      end: Date.parse(r.ts),
      status: r.status < 400 ? 'completed' : 'failed',
      detail: `HTTP ${r.status}`,
    });
  for (const w of data.workflows)
    bars.push({
      kind: 'workflow',
      label: `workflow ${w.name ?? w.id}`,
      start: Date.parse(w.startedAt ?? w.createdAt ?? ''),
      end: w.finishedAt ? Date.parse(w.finishedAt) : null,
      status: w.status,
    });
  for (const t of data.tasks)
    if (t.startedAt)
      bars.push({
        kind: 'task',
        label: `task ${t.id}${t.attempt > 1 ? ` #${t.attempt}` : ''}`,
        start: Date.parse(t.startedAt),
        end: t.finishedAt ? Date.parse(t.finishedAt) : null,
        status: t.status,
        detail: t.agent ?? undefined,
      });
  return bars.sort((a, b) => a.start - b.start);
}

function timelineItems(data: CorrelationView): Item[] {
  return [
    ...(data.commands ?? []).map(
      (c): Item => ({
        ts: c.ts,
        kind: 'command',
        text: `${c.command} ${c.args ?? ''}`.trim(),
        ...(c.workflowId ? { href: `#/workflows/${encodeURIComponent(c.workflowId)}` } : {}),
      }),
    ),
    ...data.requests.map(
      (r): Item => ({
        ts: new Date(Date.parse(r.ts) - (r.durationMs ?? 0)).toISOString(),
        kind: 'request',
        text: `${r.method} ${r.url ?? r.route} → ${r.status} in ${fmtDuration(r.durationMs)}`,
      }),
    ),
    ...data.events.map(
      (e): Item => ({
        ts: e.ts,
        kind: 'event',
        seq: e.seq,
        text: [e.type, e.taskId, e.agent ? `@${e.agent}` : ''].filter(Boolean).join(' '),
      }),
    ),
    ...data.logs.map(
      (l): Item => ({
        ts: l.ts,
        kind: 'log',
        text: `[${l.level}] ${l.agent}${l.taskId ? ` ${l.taskId}` : ''}: ${l.message}`,
      }),
    ),
  ].sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts) || (a.seq ?? 0) - (b.seq ?? 0));
}

/** Paste an ID and see everything under it: command, requests with durations, workflows, tasks, events, logs. */
export function Correlation({ cid }: { cid: string | null }) {
  const [input, setInput] = useState(cid ?? '');
  const [invalid, setInvalid] = useState(false);
  // Follows navigation to another correlation, but not on mount: an effect's first run comes after the first
  // paint, and would erase what was typed into the field meanwhile.
  const shownCid = useRef(cid);
  useEffect(() => {
    if (shownCid.current === cid) return;
    shownCid.current = cid;
    setInput(cid ?? '');
  }, [cid]);
  const now = useNow(1000);
  const { data, error } = useApi<CorrelationView>(
    cid ? `/api/correlations/${encodeURIComponent(cid)}` : null,
    (e) => e.correlationId === cid,
    [],
    500,
  );
  const items = data ? timelineItems(data) : [];
  const empty =
    data &&
    !data.workflows.length &&
    !data.events.length &&
    !data.requests.length &&
    !data.logs.length &&
    !data.commands?.length;
  return (
    <section aria-labelledby="c-h">
      <h1 id="c-h">Correlation</h1>
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          const v = input.trim();
          if (!CID.test(v)) {
            setInvalid(true);
            return;
          }
          setInvalid(false);
          location.hash = `#/correlation/${encodeURIComponent(v)}`;
        }}
      >
        <label for="cid">Correlation ID</label>
        <input
          id="cid"
          name="cid"
          value={input}
          onInput={(e) => setInput((e.target as HTMLInputElement).value)}
          size={44}
          spellcheck={false}
          autocomplete="off"
          aria-invalid={invalid}
          aria-describedby={invalid ? 'cid-err' : undefined}
        />
        <button type="submit">Show</button>
        {invalid && (
          <span id="cid-err" class="error" role="alert">
            Not a correlation ID (letters, digits and . _ : -, up to 128).
          </span>
        )}
      </form>
      {error && <p class="error">{error}</p>}
      {cid && !data && !error && <p class="muted">Loading…</p>}
      {empty && <p class="muted">Nothing is recorded under this ID.</p>}
      {data && !empty && (
        <>
          <p class="muted">
            {(data.commands ?? []).length} command(s), {data.requests.length} request(s),{' '}
            {data.workflows.length} workflow(s), {data.tasks.length} task(s), {data.events.length} event(s),{' '}
            {data.logs.length} log line(s)
          </p>
          <h2>Timeline</h2>
          <Gantt bars={timelineBars(data)} now={now} empty="Nothing has started yet." />
          {data.workflows.length > 0 && (
            <>
              <h2 id="cw-h">Workflows</h2>
              <table aria-labelledby="cw-h">
                <thead>
                  <tr>
                    <th scope="col">Workflow</th>
                    <th scope="col">Status</th>
                    <th scope="col">Created</th>
                    <th scope="col" class="num">
                      Duration
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.workflows.map((w) => (
                    <tr key={w.id}>
                      <th scope="row">
                        <a href={`#/workflows/${encodeURIComponent(w.id)}`}>{w.name ?? w.id}</a>
                      </th>
                      <td>
                        <span class={`badge s-${w.status}`}>{w.status}</span>
                      </td>
                      <td>{fmtTime(w.createdAt)}</td>
                      <td class="num">{fmtDuration(w.durationMs)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
          {data.tasks.length > 0 && (
            <>
              <h2 id="ct-h">Tasks</h2>
              <table aria-labelledby="ct-h">
                <thead>
                  <tr>
                    <th scope="col">Task</th>
                    <th scope="col">Agent</th>
                    <th scope="col">Status</th>
                    <th scope="col" class="num">
                      Attempt
                    </th>
                    <th scope="col" class="num">
                      Duration
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.tasks.map((t) => (
                    <tr key={`${t.workflowId}/${t.id}`}>
                      <th scope="row">{t.id}</th>
                      <td>{t.agent ?? '—'}</td>
                      <td>
                        <span class={`badge s-${t.status}`}>{t.status}</span>
                      </td>
                      <td class="num">{t.attempt}</td>
                      <td class="num">{fmtDuration(t.durationMs)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
          {data.requests.length > 0 && (
            <>
              <h2 id="cr-h">Requests</h2>
              <table aria-labelledby="cr-h">
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">Request</th>
                    <th scope="col" class="num">
                      Status
                    </th>
                    <th scope="col" class="num">
                      Duration
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.requests.map((r, i) => (
                    <tr key={i}>
                      <td>{fmtTime(r.ts)}</td>
                      <td>
                        <code>
                          {r.method} {r.url ?? r.route}
                        </code>
                      </td>
                      <td class={`num ${r.status < 400 ? '' : 'error'}`}>{r.status}</td>
                      <td class="num">{fmtDuration(r.durationMs)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
          <h2 id="call-h">Everything, in order</h2>
          <ol class="feed tall" data-testid="correlation-items" aria-labelledby="call-h">
            {items.map((i, n) => (
              <li key={i.seq ? `e${i.seq}` : `${i.kind}${n}`} class={`kind-${i.kind}`}>
                <span class="muted mono">{fmtTime(i.ts)}</span> <span class="kind">{i.kind}</span>{' '}
                {i.href ? <a href={i.href}>{i.text}</a> : i.text}
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
