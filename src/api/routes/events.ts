import type {} from '@fastify/websocket';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { HiveEvent } from '../../engine/events.js';
import type { ApiContext, App } from '../context.js';
import { type EventFilter, waitWritable } from '../event-hub.js';

const KEEPALIVE_MS = 15_000;

const filters = z.object({
  correlationId: z.string().max(128).optional(),
  workflowId: z.string().max(256).optional(),
  agent: z.string().max(64).optional(),
  after: z.coerce.number().int().min(0).optional(),
  access_token: z.string().optional(),
});

function resumeFrom(lastEventId: unknown, after: number | undefined): number | undefined {
  const header = Array.isArray(lastEventId) ? lastEventId[0] : lastEventId;
  if (typeof header === 'string' && /^\d{1,18}$/.test(header.trim())) return Number(header.trim());
  return after;
}

export function eventRoutes(app: App, ctx: ApiContext): void {
  app.get(
    '/api/events',
    {
      schema: {
        tags: ['events'],
        summary:
          'Live events (Server-Sent Events); `id:` is the sequence number; Last-Event-ID or ?after= resumes without gaps',
        querystring: filters,
      },
    },
    async (req, reply) => {
      const filter: EventFilter = {
        correlationId: req.query.correlationId,
        workflowId: req.query.workflowId,
        agent: req.query.agent,
      };
      const after = resumeFrom(req.headers['last-event-id'], req.query.after);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-correlation-id': req.hive.correlationId,
      });
      res.write(`retry: 1000\n: connected, last seq ${ctx.hub.lastSeq}\n\n`);
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        clearInterval(keepalive);
        unsubscribe?.();
        res.end();
      };
      const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
      let unsubscribe: (() => void) | undefined;
      req.raw.on('close', close);
      try {
        unsubscribe = await ctx.hub.subscribe(
          {
            filter,
            send(e: HiveEvent) {
              if (closed) return true;
              res.write(`id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
              // Over the bound, the hub stops writing until the client has read (whenWritable): memory stays bounded.
              return res.writableLength < ctx.env.HIVE_SSE_BUFFER_BYTES;
            },
            whenWritable: () =>
              waitWritable({
                unsent: () => res.writableLength,
                closed: () => closed || res.destroyed,
                bound: ctx.env.HIVE_SSE_BUFFER_BYTES,
                onDrain: (wake) => {
                  res.on('drain', wake);
                  return () => res.off('drain', wake);
                },
                onClose: (wake) => {
                  res.on('close', wake);
                  return () => res.off('close', wake);
                },
              }),
            close(reason: string) {
              if (!closed) res.write(`: closing (${reason})\n\n`);
              close();
              res.destroy();
            },
          },
          after,
        );
      } catch (err) {
        // The replay could not be read (database down): the client reconnects with its Last-Event-ID.
        req.log.warn({ err }, 'live events: replay failed');
        if (!closed) res.write(': replay failed, reconnect\n\n');
        close();
        return;
      }
      if (closed) unsubscribe();
    },
  );

  app.get(
    '/api/ws',
    {
      websocket: true,
      schema: {
        tags: ['events'],
        summary: 'Live events over WebSocket (same filters)',
        querystring: filters,
      },
    },
    async (socket: WebSocket, req) => {
      const q = req.query as z.infer<typeof filters>;
      const filter: EventFilter = {
        correlationId: q.correlationId,
        workflowId: q.workflowId,
        agent: q.agent,
      };
      let closed = false;
      socket.on('close', () => {
        closed = true;
        unsubscribe?.();
      });
      let unsubscribe: (() => void) | undefined;
      try {
        unsubscribe = await ctx.hub.subscribe(
          {
            filter,
            send(e) {
              if (closed) return true;
              socket.send(JSON.stringify(e));
              return socket.bufferedAmount < ctx.env.HIVE_SSE_BUFFER_BYTES;
            },
            // ws has no drain event of its own: bufferedAmount is polled (every 10 ms, only while over the bound).
            whenWritable: () =>
              waitWritable({
                unsent: () => socket.bufferedAmount,
                closed: () => closed || socket.readyState !== socket.OPEN,
                bound: ctx.env.HIVE_SSE_BUFFER_BYTES,
                onClose: (wake) => {
                  socket.on('close', wake);
                  return () => socket.off('close', wake);
                },
              }),
            close(reason) {
              socket.close(1013, reason);
            },
          },
          resumeFrom(req.headers['last-event-id'], q.after),
        );
      } catch (err) {
        req.log.warn({ err }, 'live events: replay failed');
        socket.close(1011, 'replay failed, reconnect');
        return;
      }
      if (closed) unsubscribe();
    },
  );
}
