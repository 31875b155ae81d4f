import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { createRedis } from '../bus/redis.js';
import type { HiveEnv } from '../core/config-env.js';
import type { EngineDeps } from '../engine/deps.js';
import { Router } from '../engine/router.js';
import { queueCounts } from '../store/queries/agents.js';
import { clearMetricsSource, type MetricsSource, setMetricsSource } from '../telemetry/metrics.js';
import { assertSafeBind, authPlugin } from './auth.js';
import type { ApiContext, App, CommandsPort, ReadyCheck } from './context.js';
import { correlationPlugin } from './correlation.js';
import { clientErrorHandler, errorPlugin, frameworkErrors } from './errors.js';
import { EventHub } from './event-hub.js';
import { requestLogPlugin } from './request-log.js';
import { commandRoutes } from './routes/commands.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { readRoutes } from './routes/reads.js';
import { workflowRoutes } from './routes/workflows.js';
import { spaFallback } from './spa.js';

export interface ApiServerOptions {
  deps: EngineDeps;
  env: HiveEnv;
  commands?: CommandsPort | undefined;
  /** Extra /ready checks by name, run beside postgres, redis, migrations and consumerGroups (2 s limit each). */
  readyChecks?: Record<string, ReadyCheck>;
  /** Folder of the built dashboard; defaults to web/dist of this package. */
  webRoot?: string;
  /** Redis URL for the live-event tail (its own blocking connection). */
  redisUrl?: string;
  rateLimitPerMinute?: number;
}

export interface ApiServer {
  app: App;
  /** Listens; resolves with the base URL. */
  start(host: string, port: number): Promise<string>;
  /** /ready answers 503 from now on (load balancers stop sending), requests in flight finish. */
  setDraining(): void;
  close(): Promise<void>;
}

/** How long close() lets requests in flight finish before their connections are closed. */
const CLOSE_GRACE_MS = 5_000;

const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../web/dist/', import.meta.url));

export async function createApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const app = Fastify({
    // Hive's logger (its mixin stamps the correlation context on every line); one line per request would be
    // noise next to http_requests, which records every request already.
    loggerInstance: opts.deps.logger.child({ component: 'api' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // 1 MiB: a spec's limit (CONTRACT §5); the submit routes raise it for themselves.
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    frameworkErrors,
    clientErrorHandler,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // The live tail blocks (XREAD BLOCK): it gets its own connection with the same settings.
  const hubConnection = opts.redisUrl
    ? createRedis(opts.redisUrl, 'api:events')
    : opts.deps.redis.duplicate({ connectionName: 'api:events' });
  const hub = new EventHub(opts.deps, hubConnection);
  const ctx: ApiContext = {
    deps: opts.deps,
    env: opts.env,
    hub,
    router: new Router(),
    commands: opts.commands,
    readyChecks: opts.readyChecks ?? {},
    state: { draining: false, started: false },
  };

  correlationPlugin(app);
  const errors = errorPlugin(app);
  authPlugin(app, opts.env);
  const requests = requestLogPlugin(app, opts.deps.db);
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
      },
    },
  });
  if (opts.env.HIVE_CORS_ORIGIN) await app.register(cors, { origin: opts.env.HIVE_CORS_ORIGIN.split(',') });
  await app.register(rateLimit, {
    max: opts.rateLimitPerMinute ?? 20_000,
    timeWindow: '1 minute',
    allowList: (req) => req.url === '/health' || req.url === '/ready' || req.url === '/metrics',
    errorResponseBuilder: (_req, context) => {
      const err = new Error(`rate limit of ${context.max} requests per ${context.after} reached`) as Error & {
        statusCode: number;
      };
      err.statusCode = 429;
      return err;
    },
  });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Hive API',
        version: '1',
        description: 'Workflows of tasks across agents (CONTRACT §6).',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: opts.env.HIVE_API_TOKEN ? [{ bearer: [] }] : [],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(websocket);
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  workflowRoutes(app, ctx);
  readRoutes(app, ctx);
  eventRoutes(app, ctx);
  commandRoutes(app, ctx);
  healthRoutes(app, ctx);

  const webRoot = opts.webRoot ?? DEFAULT_WEB_ROOT;
  if (existsSync(path.join(webRoot, 'index.html'))) {
    await app.register(fastifyStatic, { root: webRoot, prefix: '/', wildcard: false, index: ['index.html'] });
    errors.setNotFoundFallback(spaFallback);
  }

  const metricsSource: MetricsSource = {
    queues: () => queueCounts(opts.deps),
    deadLetters: async () => {
      const r = await opts.deps.db
        .selectFrom('dead_letters')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirst();
      return Number(r?.n ?? 0);
    },
  };
  setMetricsSource(metricsSource);

  const sockets = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  await hub.start();
  return {
    app,
    async start(host: string, port: number) {
      assertSafeBind(host, opts.env);
      const address = await app.listen({ host, port });
      ctx.state.started = true;
      return address.replace('[::1]', 'localhost');
    },
    setDraining() {
      ctx.state.draining = true;
    },
    async close() {
      ctx.state.draining = true;
      await hub.close();
      // Requests in flight get a grace period; a client that keeps a connection busy past it (an unread
      // response body, a stuck upload) is cut off rather than hold the shutdown forever.
      // Sockets are tracked by hand because an upgraded one (a WebSocket, or an upgrade answered 401) is no
      // longer the HTTP server's to close.
      const deadline = setTimeout(() => {
        for (const socket of sockets) socket.destroy();
      }, CLOSE_GRACE_MS);
      try {
        await app.close();
      } finally {
        clearTimeout(deadline);
      }
      await requests.flush();
      await opts.commands?.close?.();
      clearMetricsSource(metricsSource);
    },
  };
}
