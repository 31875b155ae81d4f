import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertSafeBind } from '../../src/api/auth.js';
import { loadEnv } from '../../src/core/config-env.js';
import { HiveError } from '../../src/core/errors.js';
import { type ApiHarness, apiHarness } from '../helpers/api.js';

describe('auth', () => {
  let t: ApiHarness;
  const FULL = 'full-token-123456';
  const READ = 'read-token-123456';
  beforeAll(async () => {
    t = await apiHarness({ env: { HIVE_API_TOKEN: FULL, HIVE_READ_TOKEN: READ }, withAgents: false });
  });
  afterAll(async () => {
    await t.close();
  });
  const call = (method: 'GET' | 'POST', url: string, token?: string) =>
    t.api.app.inject({
      method,
      url,
      ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
      ...(method === 'POST' ? { payload: { tasks: [{ type: 'api_creation' }] } } : {}),
    });

  it('401 without a token, 403 with a wrong one, each with a code', async () => {
    const none = await call('GET', '/api/workflows');
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('HIVE_ERR_UNAUTHORIZED');
    const wrong = await call('GET', '/api/workflows', 'nope-nope-nope');
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().error.code).toBe('HIVE_ERR_FORBIDDEN');
    expect((await call('GET', '/api/workflows', FULL)).statusCode).toBe(200);
    expect((await call('POST', '/api/workflows', FULL)).statusCode).toBe(202);
  });

  it('lets the read-only token read but not submit or cancel', async () => {
    expect((await call('GET', '/api/workflows', READ)).statusCode).toBe(200);
    const post = await call('POST', '/api/workflows', READ);
    expect(post.statusCode).toBe(403);
    expect(post.json().error.code).toBe('HIVE_ERR_FORBIDDEN');
    expect((await call('POST', '/api/workflows/x/cancel', READ)).statusCode).toBe(403);
  });

  it('keeps health and metrics open, and accepts ?access_token= on the events stream', async () => {
    expect((await call('GET', '/health')).statusCode).toBe(200);
    const res = await fetch(`${t.url}/api/events?access_token=${READ}`);
    expect(res.status).toBe(200);
    await res.body?.cancel();
  });

  it('sets security headers and leaves CORS off', async () => {
    const r = await call('GET', '/health');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['content-security-policy']).toBeDefined();
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses to bind a non-loopback host without a token', () => {
    expect(() => assertSafeBind('0.0.0.0', loadEnv({}))).toThrow(HiveError);
    expect(() => assertSafeBind('0.0.0.0', loadEnv({ HIVE_API_TOKEN: FULL }))).not.toThrow();
    expect(() => assertSafeBind('127.0.0.1', loadEnv({}))).not.toThrow();
  });
});
