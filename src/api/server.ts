import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import Fastify from 'fastify';
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
import { assertSafeBind, authPlugin } from './auth.js';
import type { ApiContext, App, CommandsPort } from './context.js';
import { correlationPlugin } from './correlation.js';
import { errorPlugin } from './errors.js';
import { EventHub } from './event-hub.js';
import { requestLogPlugin } from './request-log.js';
import { commandRoutes } from './routes/commands.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { readRoutes } from './routes/reads.js';
import { workflowRoutes } from './routes/workflows.js';

export interface ApiServerOptions {
  deps: EngineDeps;
  env: HiveEnv;
  commands?: CommandsPort | undefined;
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

const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../web/dist/', import.meta.url));

export async function createApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const app = Fastify({
    logger: false,
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
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
    state: { draining: false, started: false },
  };

  correlationPlugin(app);
  errorPlugin(app);
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
  if (existsSync(webRoot)) {
    await app.register(fastifyStatic, { root: webRoot, prefix: '/', wildcard: false, index: ['index.html'] });
  }

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
      await app.close();
      await requests.flush();
      await opts.commands?.close?.();
    },
  };
}
