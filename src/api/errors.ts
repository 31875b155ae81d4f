import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { currentContext, newContext } from '../core/context.js';
import { ERROR_CODES, type ErrorCode, HiveError, isHiveError } from '../core/errors.js';

/** Fastify's own client errors, by status, mapped to stable codes. */
function codeForStatus(status: number, fastifyCode: string | undefined): ErrorCode {
  if (status === 413) return 'HIVE_ERR_PAYLOAD_TOO_LARGE';
  if (status === 429) return 'HIVE_ERR_RATE_LIMITED';
  if (status === 404) return 'HIVE_ERR_NOT_FOUND';
  if (status === 408) return 'HIVE_ERR_REQUEST_TIMEOUT';
  if (status === 431) return 'HIVE_ERR_HEADERS_TOO_LARGE';
  if (fastifyCode?.startsWith('FST_ERR_CTP') || status === 415) return 'HIVE_ERR_BODY_INVALID';
  return 'HIVE_ERR_VALIDATION';
}

/** Every error answers `{"error": {code, message, details?}, "correlationId"}` (CONTRACT §6); bad input is never a 5xx. */
export function errorPlugin(app: FastifyInstance): {
  /** A handler that may answer an unmatched request instead of the 404 (the dashboard's SPA fallback). */
  setNotFoundFallback(fn: (req: FastifyRequest, reply: FastifyReply) => boolean): void;
} {
  let fallback: ((req: FastifyRequest, reply: FastifyReply) => boolean) | undefined;
  app.setErrorHandler((err: FastifyError | HiveError, req, reply) => {
    const correlationId = req.hive?.correlationId ?? currentContext()?.correlationId;
    let body: { code: string; message: string; details?: unknown };
    let status: number;
    if (isHiveError(err)) {
      status = err.status;
      body = err.toJSON();
    } else if (hasZodFastifySchemaValidationErrors(err)) {
      status = 400;
      const where = err.validationContext ?? 'request';
      body = {
        code: 'HIVE_ERR_VALIDATION',
        message: `invalid ${where}`,
        details: err.validation.map((v) => ({
          path: [where, ...v.instancePath.split('/').filter(Boolean)].join('.'),
          message: v.message,
        })),
      };
    } else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      status = err.statusCode;
      body = { code: codeForStatus(status, err.code), message: err.message };
    } else {
      status = 500;
      body = { code: 'HIVE_ERR_INTERNAL', message: 'internal error' };
      req.log.error({ err }, 'request failed');
    }
    if (status === 429 && !reply.hasHeader('retry-after')) reply.header('retry-after', '1');
    void reply.status(status).send({ error: body, correlationId });
  });
  app.setNotFoundHandler((req, reply) => {
    if (fallback?.(req, reply)) return;
    void reply.status(404).send({
      error: { code: 'HIVE_ERR_ROUTE_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` },
      correlationId: req.hive?.correlationId,
    });
  });
  return {
    setNotFoundFallback(fn) {
      fallback = fn;
    },
  };
}

/**
 * Errors Fastify raises before any hook runs (a URL that does not decode, a path parameter over its length
 * limit): no correlation context exists yet, so one is made here from the request's header, as §6 says.
 */
export function frameworkErrors(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const header = req.headers['x-correlation-id'];
  const ctx = newContext({ correlationId: Array.isArray(header) ? header[0] : header });
  const status = typeof err.statusCode === 'number' && err.statusCode < 500 ? err.statusCode : 400;
  void reply
    .status(status)
    .header('x-correlation-id', ctx.correlationId)
    .send({
      error: { code: codeForStatus(status, err.code), message: err.message },
      correlationId: ctx.correlationId,
    });
}

/**
 * Requests Node's HTTP parser refuses (headers over the limit, a request not received in time, bytes that are
 * not HTTP) never reach Fastify: answered here in the same error shape, then the connection is closed.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ErrorCode =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? 'HIVE_ERR_HEADERS_TOO_LARGE'
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'HIVE_ERR_REQUEST_TIMEOUT'
        : 'HIVE_ERR_VALIDATION';
  const status = ERROR_CODES[code].status;
  const correlationId = newContext().correlationId;
  const body = JSON.stringify({
    error: {
      code,
      message: code === 'HIVE_ERR_VALIDATION' ? 'malformed HTTP request' : ERROR_CODES[code].message,
    },
    correlationId,
  });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nX-Correlation-ID: ${correlationId}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

export { HiveError };
