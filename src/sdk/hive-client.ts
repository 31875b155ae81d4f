import { HiveError } from '../core/errors.js';

export interface HiveClientOptions {
  url?: string;
  token?: string | undefined;
}

export interface SubmitAnswer {
  id: string;
  correlationId: string;
  status: string;
}

const FINAL = new Set(['completed', 'failed', 'cancelled', 'rolled_back', 'rollback_failed']);

/** A small client of the HTTP API (CONTRACT §6, §10). Errors keep the server's code. */
export class HiveClient {
  private readonly url: string;
  get baseUrl(): string {
    return this.url;
  }

  get token(): string | undefined {
    return this.opts.token;
  }

  constructor(private readonly opts: HiveClientOptions = {}) {
    this.url = (opts.url ?? process.env.HIVE_URL ?? 'http://127.0.0.1:4483').replace(/\/$/, '');
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const h: Record<string, string> = { ...headers };
    if (body !== undefined) h['content-type'] = 'application/json';
    if (this.opts.token) h.authorization = `Bearer ${this.opts.token}`;
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: h,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      throw new HiveError(
        'HIVE_ERR_SERVER_UNREACHABLE',
        `the Hive server is not reachable at ${this.url}: start it with \`npm start\`, or set HIVE_URL`,
        {
          cause: err,
        },
      );
    }
    const text = await res.text();
    let data: any;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      data = {
        error: {
          code: 'HIVE_ERR_INTERNAL',
          message: `the server answered ${res.status} with a body that is not JSON`,
        },
      };
    }
    if (!res.ok) {
      const e = data?.error;
      const code =
        typeof e?.code === 'string' && e.code.startsWith('HIVE_ERR_') ? e.code : 'HIVE_ERR_INTERNAL';
      const hint =
        res.status === 401
          ? ' (the server needs a token: set HIVE_API_TOKEN)'
          : res.status === 403
            ? ' (this token may not do that)'
            : '';
      throw new HiveError(code, `${e?.message ?? `HTTP ${res.status}`}${hint}`, { details: e?.details });
    }
    return data as T;
  }

  submit(spec: unknown, opts: { correlationId?: string } = {}): Promise<SubmitAnswer> {
    return this.request(
      'POST',
      '/api/workflows',
      spec,
      opts.correlationId ? { 'x-correlation-id': opts.correlationId } : {},
    );
  }

  get(id: string): Promise<Record<string, unknown> & { status: string }> {
    return this.request('GET', `/api/workflows/${encodeURIComponent(id)}`);
  }

  cancel(id: string): Promise<unknown> {
    return this.request('POST', `/api/workflows/${encodeURIComponent(id)}/cancel`);
  }

  /** Resolves with the workflow once it has ended. */
  async wait(
    id: string,
    opts: { timeoutMs?: number; intervalMs?: number } = {},
  ): Promise<Record<string, unknown> & { status: string }> {
    const deadline = Date.now() + (opts.timeoutMs ?? 3_600_000);
    for (;;) {
      const wf = await this.get(id);
      if (FINAL.has(wf.status)) return wf;
      if (Date.now() > deadline)
        throw new HiveError('HIVE_ERR_TASK_TIMEOUT', `workflow ${id} still ${wf.status}`);
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 200));
    }
  }
}
