import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HiveEnv } from '../core/config-env.js';
import { HiveError } from '../core/errors.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time comparison: digests have equal length whatever the inputs. */
function same(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** Routes that take `?access_token=`: EventSource and browser WebSockets cannot send headers. */
const TOKEN_IN_QUERY = new Set(['/api/events', '/api/ws']);

function bearer(req: FastifyRequest, route: string): string | undefined {
  const h = req.headers.authorization;
  if (typeof h === 'string') {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(h);
    if (m) return m[1];
  }
  if (TOKEN_IN_QUERY.has(route)) {
    const t = new URL(req.url, 'http://x').searchParams.get('access_token');
    if (t) return t;
  }
  return undefined;
}

/** True for names and addresses that only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (h.startsWith('::ffff:')) return isLoopback(h.slice(7));
  return isIP(h) === 4 && h.startsWith('127.');
}

export function assertSafeBind(host: string, env: HiveEnv): void {
  if (!isLoopback(host) && !env.HIVE_API_TOKEN) {
    throw new HiveError(
      'HIVE_ERR_CONFIG_INVALID',
      `refusing to listen on ${host || '(all interfaces)'} without HIVE_API_TOKEN: anyone who reaches it could run work; set a token or bind 127.0.0.1`,
    );
  }
}

/**
 * With HIVE_API_TOKEN set, every /api route needs it (401 without, 403 with a wrong one). HIVE_READ_TOKEN may
 * read (GET) but not submit or cancel.
 *
 * Which routes are protected is decided on the matched route template, not the raw URL: the router decodes
 * the path (`/%61pi/workflows` finds `/api/workflows`), so a prefix test on `req.url` could be walked around.
 */
export function authPlugin(app: FastifyInstance, env: HiveEnv): void {
  if (!env.HIVE_API_TOKEN) return;
  const full = env.HIVE_API_TOKEN;
  const read = env.HIVE_READ_TOKEN;
  app.addHook('onRequest', (req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
    // An unmatched request has no template: its decoded path decides (a 404 still needs the token under /api).
    let route = req.routeOptions.url;
    if (route === undefined) {
      try {
        route = decodeURIComponent(req.url.split('?')[0] ?? '');
      } catch {
        route = req.url;
      }
    }
    if (!(route === '/api' || route.startsWith('/api/')) || route === '/api/openapi.json') return done();
    const token = bearer(req, route);
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
