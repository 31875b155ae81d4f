import { useState } from 'preact/hooks';
import { api } from '../api';
import { useApi } from '../hooks';

/** Slash commands with descriptions and argument hints; run one and follow the workflow it starts. */
export function Commands() {
  const { data, error } = useApi<{ commands: any[]; errors: any[] }>('/api/commands');
  const [args, setArgs] = useState<Record<string, string>>({});
  const [result, setResult] = useState<string | null>(null);
  const run = async (name: string) => {
    setResult(null);
    try {
      const r = await api<any>('/api/commands/run', {
        method: 'POST',
        body: { command: `${name} ${args[name] ?? ''}`.trim() },
      });
      if (r.workflowId) location.hash = `#/workflows/${r.workflowId}`;
      else setResult(JSON.stringify(r.result, null, 2));
    } catch (e) {
      setResult(String((e as Error).message));
    }
  };
  return (
    <section aria-labelledby="cmd-h">
      <h1 id="cmd-h">Commands</h1>
      {error && <p class="error">{error}</p>}
      {data?.errors.length ? (
        <div class="error" role="alert">
          <p>Broken command files:</p>
          <ul>
            {data.errors.map((e, i) => (
              <li key={i}>
                {e.path}: {e.message}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <table>
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
          {data?.commands.map((c) => (
            <tr key={c.name}>
              <th scope="row">
                <code>{c.name}</code>
              </th>
              <td>{c.description ?? '—'}</td>
              <td>
                <input
                  aria-label={`Arguments for ${c.name}`}
                  placeholder={c.argumentHint ?? ''}
                  value={args[c.name] ?? ''}
                  onInput={(e) => setArgs({ ...args, [c.name]: (e.target as HTMLInputElement).value })}
                  onKeyDown={(e) => e.key === 'Enter' && run(c.name)}
                />
              </td>
              <td>
                <button type="button" onClick={() => run(c.name)} data-command={c.name}>
                  Run
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {result && <pre role="status">{result}</pre>}
    </section>
  );
}
