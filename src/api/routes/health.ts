import { sql } from 'kysely';
import { COORDINATOR_GROUP } from '../../bus/keys.js';
import { currentVersion, headVersion } from '../../store/migrator.js';
import { registry } from '../../telemetry/metrics.js';
import type { ApiContext, App, ReadyCheckResult as Check } from '../context.js';

async function timed<T>(fn: () => Promise<T>, ms = 2_000): Promise<T> {
  return Promise.race([
    fn(),
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)),
  ]);
}

/** /health: liveness only. /ready: dependencies (health+json), 503 on fail and while starting or draining. /metrics. */
export function healthRoutes(app: App, ctx: ApiContext): void {
  app.get('/health', { schema: { tags: ['health'], summary: 'Liveness' } }, async () => ({ status: 'pass' }));

  app.get(
    '/ready',
    { schema: { tags: ['health'], summary: 'Readiness (application/health+json)' } },
    async (_req, reply) => {
      const checks: Record<string, Check> = {};
      const head = headVersion();
      await Promise.all([
        timed(() => sql`SELECT 1`.execute(ctx.deps.db)).then(
          () => (checks.postgres = { status: 'pass' }),
          (e) => (checks.postgres = { status: 'fail', output: String((e as Error).message) }),
        ),
        timed(() => ctx.deps.redis.ping()).then(
          () => (checks.redis = { status: 'pass' }),
          (e) => (checks.redis = { status: 'fail', output: String((e as Error).message) }),
        ),
        timed(() => currentVersion(ctx.deps.db)).then(
          (v) =>
            (checks.migrations =
              v === head
                ? { status: 'pass', observedValue: v }
                : {
                    status: 'fail',
                    observedValue: v,
                    output: `schema at ${v}, head is ${head}: run hive migrate up`,
                  }),
          (e) => (checks.migrations = { status: 'fail', output: String((e as Error).message) }),
        ),
        timed(async () => {
          const groups = (await ctx.deps.redis.xinfo('GROUPS', ctx.deps.keys.results())) as unknown[][];
          return groups.some((g) => g[1] === COORDINATOR_GROUP);
        }).then(
          (ok) =>
            (checks.consumerGroups = ok
              ? { status: 'pass' }
              : { status: 'warn', output: 'no coordinator group yet: is a coordinator running?' }),
          () =>
            (checks.consumerGroups = {
              status: 'warn',
              output: 'results stream not created yet: is a coordinator running?',
            }),
        ),
        ...Object.entries(ctx.readyChecks).map(([name, check]) =>
          timed(check).then(
            (r) => (checks[name] = r),
            (e) => (checks[name] = { status: 'fail', output: String((e as Error).message) }),
          ),
        ),
      ]);
      if (!ctx.state.started) checks.lifecycle = { status: 'fail', output: 'starting' };
      else if (ctx.state.draining) checks.lifecycle = { status: 'fail', output: 'draining' };
      const values = Object.values(checks).map((c) => c.status);
      const status = values.includes('fail') ? 'fail' : values.includes('warn') ? 'warn' : 'pass';
      return reply
        .status(status === 'fail' ? 503 : 200)
        .type('application/health+json')
        .send({ status, checks });
    },
  );

  app.get(
    '/metrics',
    { schema: { tags: ['health'], summary: 'Prometheus metrics', hide: true } },
    async (_req, reply) => {
      return reply.type(registry.contentType).send(await registry.metrics());
    },
  );
}
