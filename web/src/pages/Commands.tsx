import { useState } from 'preact/hooks';
import { api } from '../api';
import { useApi } from '../hooks';
import type { CommandList } from '../types';

interface RunResult {
  workflowId?: string;
  correlationId?: string;
  command?: string;
  result?: unknown;
}

/** Slash commands with descriptions and argument hints; run one and follow the workflow it starts. */
export function Commands() {
  const { data, error } = useApi<CommandList>('/api/commands');
  const [args, setArgs] = useState<Record<string, string>>({});
  const [running, setRunning] = useState<string | null>(null);
  const [result, setResult] = useState<{
    command: string;
    text: string;
    error?: boolean;
    cid?: string;
  } | null>(null);
  const run = async (name: string) => {
    if (running) return;
    const command = `${name} ${args[name] ?? ''}`.trim();
    setResult(null);
    setRunning(name);
    try {
      const r = await api<RunResult>('/api/commands/run', { method: 'POST', body: { command } });
      // A workflow command answers 202 {workflowId, correlationId}: follow it. A built-in answers at once.
      if (r.workflowId) location.hash = `#/workflows/${encodeURIComponent(r.workflowId)}`;
      else
        setResult({
          command,
          text: JSON.stringify(r.result ?? r, null, 2),
          ...(r.correlationId ? { cid: r.correlationId } : {}),
        });
    } catch (e) {
      setResult({ command, text: String((e as Error).message), error: true });
    } finally {
      setRunning(null);
    }
  };
  return (
    <section aria-labelledby="cmd-h">
      <h1 id="cmd-h">Commands</h1>
      {error && <p class="error">{error}</p>}
      {!data && !error && <p class="muted">Loading…</p>}
      {data?.errors.length ? (
        <div class="error" role="alert">
          <p>Command files with problems:</p>
          <ul>
            {data.errors.map((e, i) => (
              <li key={i}>
                <code>{e.path}</code>
                {e.line ? `:${e.line}` : ''}: {e.message}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {data && data.commands.length === 0 && <p class="muted">No commands are defined.</p>}
      {data && data.commands.length > 0 && (
        <table aria-labelledby="cmd-h">
          <thead>
            <tr>
              <th scope="col">Command</th>
              <th scope="col">Description</th>
              <th scope="col">Arguments</th>
              <th scope="col">
                <span class="sr-only">Run</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data.commands.map((c) => (
              <tr key={c.name} data-command-row={c.name}>
                <th scope="row">
                  <code>{c.name}</code>
                  {c.kind && (
                    <span class="muted small"> · {c.kind === 'agent' && c.agent ? c.agent : c.kind}</span>
                  )}
                </th>
                <td>{c.description ?? <span class="muted">—</span>}</td>
                <td>
                  <form
                    class="inline"
                    onSubmit={(e) => {
                      e.preventDefault();
                      void run(c.name);
                    }}
                  >
                    <input
                      aria-label={`Arguments for ${c.name}`}
                      aria-describedby={c.argumentHint ? `hint-${c.name}` : undefined}
                      placeholder={c.argumentHint ?? 'no arguments'}
                      value={args[c.name] ?? ''}
                      onInput={(e) => setArgs({ ...args, [c.name]: (e.target as HTMLInputElement).value })}
                      size={28}
                    />
                    {c.argumentHint && (
                      <code id={`hint-${c.name}`} class="hint">
                        {c.argumentHint}
                      </code>
                    )}
                  </form>
                </td>
                <td>
                  <button
                    type="button"
                    onClick={() => run(c.name)}
                    data-command={c.name}
                    disabled={running !== null}
                    aria-label={`Run ${c.name}`}
                  >
                    {running === c.name ? 'Running…' : 'Run'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div role="status" aria-live="polite">
        {result && (
          <>
            <h2>
              <code>{result.command}</code>
            </h2>
            {result.cid && (
              <p class="muted">
                Correlation <a href={`#/correlation/${encodeURIComponent(result.cid)}`}>{result.cid}</a>
              </p>
            )}
            <pre class={result.error ? 'error' : ''}>{result.text}</pre>
          </>
        )}
      </div>
    </section>
  );
}
