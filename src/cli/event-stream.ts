import { createParser } from 'eventsource-parser';
import type { HiveEvent } from '../engine/events.js';
import type { HiveClient } from '../sdk/hive-client.js';

export interface FollowOptions {
  filters: Record<string, string | undefined>;
  /** Resume after this sequence number. */
  after?: number;
  signal: AbortSignal;
  onEvent: (event: HiveEvent) => void;
  onError?: (err: unknown) => void;
}

/**
 * Follows GET /api/events (SSE) and reconnects with Last-Event-ID after a dropped connection, so no event is
 * missed or seen twice (the server resumes from PostgreSQL by sequence number).
 */
export async function followEvents(client: HiveClient, opts: FollowOptions): Promise<void> {
  let last = opts.after;
  while (!opts.signal.aborted) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.filters)) if (v) params.set(k, v);
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (client.token) headers.authorization = `Bearer ${client.token}`;
    if (last !== undefined) headers['last-event-id'] = String(last);
    try {
      const res = await fetch(`${client.baseUrl}/api/events?${params}`, { headers, signal: opts.signal });
      if (!res.ok || !res.body) throw new Error(`events stream answered ${res.status}`);
      const parser = createParser({
        onEvent(msg) {
          if (!msg.data) return;
          let event: HiveEvent;
          try {
            event = JSON.parse(msg.data) as HiveEvent;
          } catch {
            return;
          }
          if (typeof event.seq !== 'number' || (last !== undefined && event.seq <= last)) return;
          last = event.seq;
          opts.onEvent(event);
        },
      });
      const decoder = new TextDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
        parser.feed(decoder.decode(chunk, { stream: true }));
    } catch (err) {
      if (opts.signal.aborted) return;
      opts.onError?.(err);
    }
    if (!opts.signal.aborted) await new Promise((r) => setTimeout(r, 500));
  }
}
