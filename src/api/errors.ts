import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { currentContext } from '../core/context.js';
import { type ErrorCode, HiveError, isHiveError } from '../core/errors.js';

/** Fastify's own client errors, by status, mapped to stable codes. */
function codeForStatus(status: number, fastifyCode: string | undefined): ErrorCode {
  if (status === 413) return 'HIVE_ERR_PAYLOAD_TOO_LARGE';
  if (status === 429) return 'HIVE_ERR_RATE_LIMITED';
  if (status === 404) return 'HIVE_ERR_NOT_FOUND';
  if (fastifyCode?.startsWith('FST_ERR_CTP') || status === 415) return 'HIVE_ERR_BODY_INVALID';
  return 'HIVE_ERR_VALIDATION';
}

/** Every error answers `{"error": {code, message, details?}, "correlationId"}` (CONTRACT §6); bad input is never a 5xx. */
export function errorPlugin(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | HiveError, req, reply) => {
    const correlationId = req.hive?.correlationId ?? currentContext()?.correlationId;
    let body: { code: string; message: string; details?: unknown };
    let status: number;
    if (isHiveError(err)) {
      status = err.status;
      body = err.toJSON();
    } else if (hasZodFastifySchemaValidationErrors(err)) {
      status = 400;
      body = {
        code: 'HIVE_ERR_VALIDATION',
        message: `invalid ${err.validationContext ?? 'request'}`,
        details: err.validation.map((v) => ({
          path: `${err.validationContext}${v.instancePath.replace(/\//g, '.')}`,
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
    void reply.status(404).send({
      error: { code: 'HIVE_ERR_ROUTE_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` },
      correlationId: req.hive?.correlationId,
    });
  });
}

export { HiveError };
