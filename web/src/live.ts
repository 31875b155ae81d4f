import { api, token } from './api';

export interface HiveEvent {
  seq: number;
  ts: string;
  type: string;
  correlationId: string;
  workflowId?: string;
  taskId?: string;
  agent?: string;
  data: Record<string, any>;
}

export type LiveStatus = 'connecting' | 'live' | 'reconnecting';
type Listener = (events: HiveEvent[]) => void;

/** A hidden tab gets no animation frames: its queue is flushed on a timer instead, so it cannot grow. */
const HIDDEN_FLUSH_MS = 500;
/** A frame that does not come within this (a busy or throttled compositor) is not waited for. */
const FRAME_DEADLINE_MS = 20;

/**
 * The one live connection of the page: GET /api/events as SSE.
 *
 * - Resume: EventSource reconnects on its own after a dropped connection and sends Last-Event-ID (the server
 *   resumes from PostgreSQL without a gap). When it gives up for good (an HTTP error such as 401 or 503), the
 *   connection is opened again with `?after=<last seq>` after a backoff, and a 401 brings up the token prompt.
 * - De-duplication: events arrive in seq order; anything at or below the last seq seen is dropped.
 * - Batching: listeners get the events of one animation frame at once, so a burst of hundreds per second costs
 *   one render per frame.
 */
class LiveEvents {
  private source: EventSource | null = null;
  private last = 0;
  private queue: HiveEvent[] = [];
  private frame = 0;
  private timer = 0;
  private retryTimer = 0;
  private backoff = 500;
  private readonly listeners = new Set<Listener>();
  private readonly statusListeners = new Set<(s: LiveStatus) => void>();
  status: LiveStatus = 'connecting';
  /** When this page started listening (ms): rates before it are unknown, not zero. */
  readonly since = Date.now();

  get lastSeq(): number {
    return this.last;
  }

  start(): void {
    if (this.source) return;
    clearTimeout(this.retryTimer);
    const params = new URLSearchParams();
    if (this.last) params.set('after', String(this.last));
    const t = token();
    if (t) params.set('access_token', t);
    const qs = params.toString();
    const es = new EventSource(`/api/events${qs ? `?${qs}` : ''}`);
    this.source = es;
    es.onopen = () => {
      this.backoff = 500;
      this.setStatus('live');
    };
    es.onerror = () => {
      this.setStatus('reconnecting');
      // CONNECTING: the browser retries by itself with Last-Event-ID. CLOSED: it gave up (non-200 answer).
      if (es.readyState === EventSource.CLOSED) this.recover();
    };
    // The server names every event (event: task.completed …); those never reach onmessage.
    es.onmessage = (m) => this.receive(m.data);
    for (const type of TYPES) es.addEventListener(type, (m) => this.receive((m as MessageEvent).data));
  }

  /** Opens the stream again (a new token, or after the browser gave up), resuming after the last seq. */
  restart(): void {
    this.source?.close();
    this.source = null;
    this.start();
  }

  private recover(): void {
    this.source?.close();
    this.source = null;
    clearTimeout(this.retryTimer);
    const wait = this.backoff;
    this.backoff = Math.min(this.backoff * 2, 10_000);
    this.retryTimer = window.setTimeout(() => {
      // A cheap authenticated call: a 401 opens the token prompt and waits for it; anything else just retries.
      api('/api/agents').then(
        () => this.start(),
        () => this.start(),
      );
    }, wait);
  }

  private setStatus(s: LiveStatus): void {
    if (s === this.status) return;
    this.status = s;
    for (const l of this.statusListeners) l(s);
  }

  onStatus(l: (s: LiveStatus) => void): () => void {
    this.statusListeners.add(l);
    l(this.status);
    return () => this.statusListeners.delete(l);
  }

  private receive(raw: string): void {
    let e: HiveEvent;
    try {
      e = JSON.parse(raw);
    } catch {
      return;
    }
    if (typeof e?.seq !== 'number' || e.seq <= this.last) return;
    this.last = e.seq;
    this.queue.push(e);
    this.schedule();
  }

  private schedule(): void {
    if (this.frame || this.timer) return;
    if (document.hidden) {
      this.timer = window.setTimeout(() => this.flush(), HIDDEN_FLUSH_MS);
      return;
    }
    // Normally the next animation frame; a timer bounds the wait when frames are late. Either way one flush.
    this.frame = requestAnimationFrame(() => this.flush());
    this.timer = window.setTimeout(() => this.flush(), FRAME_DEADLINE_MS);
  }

  private flush(): void {
    if (this.frame) cancelAnimationFrame(this.frame);
    if (this.timer) clearTimeout(this.timer);
    this.frame = 0;
    this.timer = 0;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    for (const l of this.listeners) {
      try {
        l(batch);
      } catch (err) {
        console.error('live listener failed', err);
      }
    }
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    this.start();
    return () => this.listeners.delete(l);
  }
}

export const TYPES = [
  'workflow.submitted',
  'workflow.started',
  'workflow.completed',
  'workflow.failed',
  'workflow.cancelled',
  'workflow.compensating',
  'workflow.rolled_back',
  'workflow.rollback_failed',
  'task.queued',
  'task.routed',
  'task.dispatched',
  'task.started',
  'task.completed',
  'task.failed',
  'task.retrying',
  'task.timed_out',
  'task.cancelled',
  'task.dead_lettered',
  'task.progress',
  'agent.online',
  'agent.offline',
  'command.invoked',
];

export const FINAL_WORKFLOW = new Set(['completed', 'failed', 'cancelled', 'rolled_back', 'rollback_failed']);

/** Milliseconds since the epoch of an event's creation (its `ts`), as stamped into the DOM as data-created. */
export const createdAt = (e: { ts: string }): number => Date.parse(e.ts);

export const live = new LiveEvents();
