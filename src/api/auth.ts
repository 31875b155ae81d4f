import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HiveEnv } from '../core/config-env.js';
import { HiveError } from '../core/errors.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time comparison: digests have equal length whatever the inputs. */
function same(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h === 'string' && h.startsWith('Bearer ')) return h.slice(7).trim();
  // EventSource cannot send headers: the live events route also accepts ?access_token=.
  if (req.url.startsWith('/api/events') || req.url.startsWith('/api/ws')) {
    const t = new URL(req.url, 'http://x').searchParams.get('access_token');
    if (t) return t;
  }
  return undefined;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function assertSafeBind(host: string, env: HiveEnv): void {
  if (!LOOPBACK.has(host) && !env.HIVE_API_TOKEN) {
    throw new HiveError(
      'HIVE_ERR_CONFIG_INVALID',
      `refusing to listen on ${host} without HIVE_API_TOKEN: anyone who reaches it could run work; set a token or bind 127.0.0.1`,
    );
  }
}

/**
 * With HIVE_API_TOKEN set, every /api route needs it (401 without, 403 with a wrong one). HIVE_READ_TOKEN may
 * read (GET) but not submit or cancel.
 */
export function authPlugin(app: FastifyInstance, env: HiveEnv): void {
  if (!env.HIVE_API_TOKEN) return;
  const full = env.HIVE_API_TOKEN;
  const read = env.HIVE_READ_TOKEN;
  app.addHook('onRequest', (req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
    if (!req.url.startsWith('/api/') || req.url.startsWith('/api/openapi.json')) return done();
    const token = bearer(req);
    if (!token)
      return done(new HiveError('HIVE_ERR_UNAUTHORIZED', 'this route needs Authorization: Bearer <token>'));
    if (same(token, full)) return done();
    if (read && same(token, read)) {
      if (req.method === 'GET' || req.method === 'HEAD') return done();
      return done(new HiveError('HIVE_ERR_FORBIDDEN', 'the read-only token may not change anything'));
    }
    done(new HiveError('HIVE_ERR_FORBIDDEN', 'the token is not valid'));
  });
}
