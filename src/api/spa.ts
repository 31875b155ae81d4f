import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The dashboard is a single-page app: a browser opening one of its deep links (`/workflows/…`) gets
 * index.html and the app's router takes over. Only GET/HEAD requests that ask for HTML, outside the API and
 * the docs and not for a file, get it; everything else keeps the JSON 404 of CONTRACT §6.
 */
export function spaFallback(req: FastifyRequest, reply: FastifyReply): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (!/\btext\/html\b/.test(req.headers.accept ?? '')) return false;
  const path = req.url.split('?')[0] ?? '';
  if (path === '/api' || path.startsWith('/api/') || path.startsWith('/docs')) return false;
  if (/\.[A-Za-z0-9]{1,8}$/.test(path)) return false;
  void reply.type('text/html; charset=utf-8').sendFile('index.html');
  return true;
}
