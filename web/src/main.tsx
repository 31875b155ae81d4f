import { type JSX, render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { tokenPrompt } from './api';
import { live } from './live';
import { Commands } from './pages/Commands';
import { Correlation } from './pages/Correlation';
import { DeadLetters } from './pages/DeadLetters';
import { Overview } from './pages/Overview';
import { Workflow } from './pages/Workflow';
import { Workflows } from './pages/Workflows';
import './style.css';

function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function TokenPrompt() {
  const [resolve, setResolve] = useState<((t: string | null) => void) | null>(null);
  const [value, setValue] = useState('');
  useEffect(() => {
    tokenPrompt.open = (r) => setResolve(() => r);
  }, []);
  if (!resolve) return null;
  return (
    <div class="modal" role="dialog" aria-modal="true" aria-labelledby="tok-h">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          resolve(value.trim() || null);
          setResolve(null);
          live.restart();
        }}
      >
        <h2 id="tok-h">This Hive needs a token</h2>
        <label>
          API token{' '}
          <input
            type="password"
            value={value}
            onInput={(e) => setValue((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit">Continue</button>
      </form>
    </div>
  );
}

function App() {
  const hash = useHash();
  const [connected, setConnected] = useState(false);
  useEffect(() => live.onStatus(setConnected), []);
  useEffect(() => live.start(), []);
  const [, route, arg] = /^#\/([a-z-]*)\/?(.*)$/.exec(hash) ?? [];
  let page: JSX.Element;
  if (route === 'workflows' && arg) page = <Workflow id={decodeURIComponent(arg)} />;
  else if (route === 'workflows') page = <Workflows />;
  else if (route === 'correlation') page = <Correlation cid={arg ? decodeURIComponent(arg) : null} />;
  else if (route === 'commands') page = <Commands />;
  else if (route === 'dead-letters') page = <DeadLetters />;
  else page = <Overview />;
  const link = (href: string, label: string) => (
    <a
      href={href}
      aria-current={hash === href || (href !== '#/' && hash.startsWith(href)) ? 'page' : undefined}
    >
      {label}
    </a>
  );
  return (
    <>
      <header>
        <strong class="brand">⬡ Hive</strong>
        <nav aria-label="Main">
          {link('#/', 'Overview')}
          {link('#/workflows', 'Workflows')}
          {link('#/correlation', 'Correlation')}
          {link('#/commands', 'Commands')}
          {link('#/dead-letters', 'Dead letters')}
        </nav>
        <span class={`live ${connected ? 'on' : 'off'}`} role="status" aria-live="polite">
          {connected ? 'live' : 'reconnecting…'}
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
      <TokenPrompt />
    </>
  );
}

render(<App />, document.getElementById('app')!);
