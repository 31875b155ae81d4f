import { type JSX, render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { tokenPrompt } from './api';
import { type LiveStatus, live } from './live';
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

/** Asked for when an /api call answers 401 (or 403 on a read); the token lives in sessionStorage. */
function TokenPrompt() {
  const [ask, setAsk] = useState<{ resolve: (t: string | null) => void; reason: string } | null>(null);
  const [value, setValue] = useState('');
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    tokenPrompt.open = (resolve, reason) => {
      setValue('');
      setAsk({ resolve, reason });
    };
  }, []);
  useEffect(() => {
    if (ask) input.current?.focus();
  }, [ask]);
  if (!ask) return null;
  const close = (token: string | null) => {
    ask.resolve(token);
    setAsk(null);
    if (token) live.restart();
  };
  return (
    <div class="modal" role="dialog" aria-modal="true" aria-labelledby="tok-h" aria-describedby="tok-d">
      <form
        onKeyDown={(e) => e.key === 'Escape' && close(null)}
        onSubmit={(e) => {
          e.preventDefault();
          close(value.trim() || null);
        }}
      >
        <h2 id="tok-h">API token</h2>
        <p id="tok-d">{ask.reason} It is kept for this tab only (sessionStorage).</p>
        <label>
          Token{' '}
          <input
            ref={input}
            type="password"
            autocomplete="off"
            value={value}
            onInput={(e) => setValue((e.target as HTMLInputElement).value)}
          />
        </label>
        <div class="actions">
          <button type="submit" class="primary">
            Continue
          </button>
          <button type="button" onClick={() => close(null)}>
            Cancel
          </button>
        </div>
      </form>
    </div>
  );
}

const STATUS_TEXT: Record<LiveStatus, string> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
};

function App() {
  const hash = useHash();
  const [status, setStatus] = useState<LiveStatus>(live.status);
  useEffect(() => live.onStatus(setStatus), []);
  useEffect(() => live.start(), []);
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  // On navigation, focus moves to the page (skip on the first load) so keyboard and screen-reader users land on it.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus({ preventScroll: false });
  }, [hash]);
  const [, route, arg] = /^#\/([a-z-]*)\/?(.*)$/.exec(hash) ?? [];
  let page: JSX.Element;
  let title = 'Overview';
  if (route === 'workflows' && arg) {
    page = <Workflow id={decodeURIComponent(arg)} />;
    title = 'Workflow';
  } else if (route === 'workflows') {
    page = <Workflows />;
    title = 'Workflows';
  } else if (route === 'correlation') {
    page = <Correlation cid={arg ? decodeURIComponent(arg) : null} />;
    title = 'Correlation';
  } else if (route === 'commands') {
    page = <Commands />;
    title = 'Commands';
  } else if (route === 'dead-letters') {
    page = <DeadLetters />;
    title = 'Dead letters';
  } else page = <Overview />;
  useEffect(() => {
    document.title = `${title} · Hive`;
  }, [title]);
  const link = (href: string, label: string) => {
    const current =
      href === '#/' ? hash === '#/' || hash === '#' : hash === href || hash.startsWith(`${href}/`);
    return (
      <a href={href} aria-current={current ? 'page' : undefined}>
        {label}
      </a>
    );
  };
  return (
    <>
      <header>
        <a class="brand" href="#/" aria-label="Hive overview">
          ⬡ Hive
        </a>
        <nav aria-label="Main">
          {link('#/', 'Overview')}
          {link('#/workflows', 'Workflows')}
          {link('#/correlation', 'Correlation')}
          {link('#/commands', 'Commands')}
          {link('#/dead-letters', 'Dead letters')}
        </nav>
        <span
          class={`live ${status === 'live' ? 'on' : 'off'}`}
          role="status"
          aria-live="polite"
          title={live.lastSeq ? `last event seq ${live.lastSeq}` : undefined}
        >
          {STATUS_TEXT[status]}
        </span>
      </header>
      <main id="main" tabIndex={-1} ref={main}>
        {page}
      </main>
      <TokenPrompt />
    </>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
