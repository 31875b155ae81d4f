/** REST calls to the Hive API. A 401 asks for a token once and retries; the token lives in sessionStorage. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function token(): string | null {
  return sessionStorage.getItem('hive-token');
}

let asking: Promise<string | null> | null = null;
/** Set by the page's token dialog; `reason` says why it is asked (none yet, or the last one was refused). */
export const tokenPrompt = { open: (_resolve: (t: string | null) => void, _reason: string) => {} };

function askToken(reason: string): Promise<string | null> {
  asking ??= new Promise<string | null>((resolve) => tokenPrompt.open(resolve, reason)).finally(() => {
    asking = null;
  });
  return asking;
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const headers: Record<string, string> = {};
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const t = token();
    if (t) headers.authorization = `Bearer ${t}`;
    const res = await fetch(path, {
      method: init.method ?? 'GET',
      headers,
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    // 401: no token sent. 403 on a read: the token is not valid (a read-only token may read). A 403 on a write
    // with a token is the read-only token refusing a change: reported, not prompted.
    const method = init.method ?? 'GET';
    if (res.status === 401 || (res.status === 403 && (!t || method === 'GET'))) {
      const given = await askToken(
        res.status === 401 ? 'This Hive needs an API token.' : 'The token was refused; enter another.',
      );
      if (!given) throw new ApiError(401, 'HIVE_ERR_UNAUTHORIZED', 'a token is needed');
      sessionStorage.setItem('hive-token', given);
      continue;
    }
    const body = await res.json().catch(() => ({}));
    if (!res.ok)
      throw new ApiError(
        res.status,
        body?.error?.code ?? 'HIVE_ERR_INTERNAL',
        body?.error?.message ?? `HTTP ${res.status}`,
      );
    return body as T;
  }
  throw new ApiError(401, 'HIVE_ERR_UNAUTHORIZED', 'a token is needed');
}

export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} m ${Math.round((ms % 60_000) / 1000)} s`;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Local wall-clock time with milliseconds (HH:MM:SS.mmm); plain arithmetic, cheap enough for every feed row. */
export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}
