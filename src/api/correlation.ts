import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type HiveContext, newContext, runInContext } from '../core/context.js';
import { HiveError } from '../core/errors.js';
import { isValidCorrelationId } from '../core/ids.js';

declare module 'fastify' {
  interface FastifyRequest {
    hive: HiveContext;
  }
}

/**
 * CONTRACT §6: a valid X-Correlation-ID is used, an invalid one is a 400, an absent one is generated; a valid
 * traceparent is continued. The rest of the request (hooks, handler, SQL, logs) runs inside the context.
 */
export function correlationPlugin(app: FastifyInstance): void {
  app.decorateRequest('hive', null as unknown as HiveContext);
  app.addHook('onRequest', (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
    const header = req.headers['x-correlation-id'];
    const given = Array.isArray(header) ? header[0] : header;
    const invalid = given !== undefined && !isValidCorrelationId(given);
    const tp = req.headers.traceparent;
    req.hive = newContext({
      correlationId: invalid ? undefined : given,
      traceparent: Array.isArray(tp) ? tp[0] : tp,
    });
    reply.header('x-correlation-id', req.hive.correlationId);
    runInContext(req.hive, () => {
      if (invalid)
        done(
          new HiveError(
            'HIVE_ERR_CORRELATION_ID_INVALID',
            'X-Correlation-ID must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$',
          ),
        );
      else done();
    });
  });
}
