import { token } from './api';

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

type Listener = (events: HiveEvent[]) => void;

/**
 * The one live connection of the page: GET /api/events as SSE. EventSource reconnects on its own and sends
 * Last-Event-ID, so the server resumes from PostgreSQL without a gap; events are de-duplicated by seq anyway.
 * Listeners get events batched per animation frame, so a burst of hundreds per second redraws once a frame.
 */
class LiveEvents {
  private source: EventSource | null = null;
  private last = 0;
  private queue: HiveEvent[] = [];
  private frame = 0;
  private readonly listeners = new Set<Listener>();
  connected = false;
  private readonly statusListeners = new Set<(c: boolean) => void>();

  start(): void {
    if (this.source) return;
    const params = new URLSearchParams();
    if (this.last) params.set('after', String(this.last));
    const t = token();
    if (t) params.set('access_token', t);
    const es = new EventSource(`/api/events?${params}`);
    this.source = es;
    es.onopen = () => this.setConnected(true);
    es.onerror = () => this.setConnected(false);
    es.onmessage = (m) => this.receive(m.data);
    // Named events (event: task.completed …) do not reach onmessage; listen for each type.
    for (const type of TYPES) es.addEventListener(type, (m) => this.receive((m as MessageEvent).data));
  }

  restart(): void {
    this.source?.close();
    this.source = null;
    this.start();
  }

  private setConnected(c: boolean): void {
    this.connected = c;
    for (const l of this.statusListeners) l(c);
  }

  onStatus(l: (c: boolean) => void): () => void {
    this.statusListeners.add(l);
    return () => this.statusListeners.delete(l);
  }

  private receive(data: string): void {
    let e: HiveEvent;
    try {
      e = JSON.parse(data);
    } catch {
      return;
    }
    if (e.seq <= this.last) return;
    this.last = e.seq;
    this.queue.push(e);
    this.frame ||= requestAnimationFrame(() => {
      this.frame = 0;
      const batch = this.queue;
      this.queue = [];
      for (const l of this.listeners) l(batch);
    });
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
  'agent.online',
  'agent.offline',
  'command.invoked',
];

export const live = new LiveEvents();
