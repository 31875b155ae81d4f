import { builtinOperations } from '../../src/api/builtins.js';
import { type ApiServer, createApiServer } from '../../src/api/server.js';
import { CommandService } from '../../src/commands/service.js';
import { loadEnv } from '../../src/core/config-env.js';
import { createLogger } from '../../src/core/logger.js';
import { type RunningAgent, runAgent } from '../../src/sdk/index.js';
import { type EngineHarness, engineHarness } from './engine.js';
import { REDIS_URL } from './redis.js';

export interface ApiHarness {
  h: EngineHarness;
  api: ApiServer;
  url: string;
  agents: RunningAgent[];
  close(): Promise<void>;
}

export const API_CONFIG = {
  agents: {
    backend_agent: { capabilities: ['api_creation'], runner: 'sdk', instances: 0 },
    frontend_agent: { capabilities: ['ui_integration', 'slow'], runner: 'sdk', instances: 0 },
  },
  engine: { heartbeatMs: 500, retryBaseMs: 10 },
};

/** API + coordinator + SDK agents on a real PostgreSQL database and Redis prefix. */
export async function apiHarness(
  opts: { env?: Record<string, string>; config?: unknown; commandsDir?: string; withAgents?: boolean } = {},
): Promise<ApiHarness> {
  const raw = {
    ...((opts.config as object) ?? API_CONFIG),
    ...(opts.commandsDir ? { commands: [opts.commandsDir] } : { commands: [] }),
  };
  const h = await engineHarness(raw);
  await h.startCoordinator();
  const env = loadEnv({ HIVE_KEY_PREFIX: h.prefix, ...opts.env });
  const commands = new CommandService({ config: h.config, builtins: builtinOperations(h.deps) });
  const api = await createApiServer({ deps: h.deps, env, commands, redisUrl: REDIS_URL });
  const url = await api.start('127.0.0.1', 0);
  const agents: RunningAgent[] = [];
  if (opts.withAgents !== false) {
    const logger = createLogger({ level: 'silent' });
    const common = {
      redisUrl: REDIS_URL,
      keyPrefix: h.prefix,
      engine: { heartbeatMs: 500 },
      logger,
      concurrency: 16,
    };
    agents.push(
      await runAgent({
        ...common,
        name: 'backend_agent',
        handle: async (t, ctx) => {
          ctx.log.info(`api for ${JSON.stringify(t.input)}`);
          return { api: true };
        },
      }),
      await runAgent({
        ...common,
        name: 'frontend_agent',
        handle: async (t, ctx) => {
          if (t.type === 'slow')
            await new Promise((r) => setTimeout(r, Number((t.input as { ms?: number }).ms ?? 200)));
          ctx.log.info('ui');
          return { ui: true };
        },
      }),
    );
  }
  return {
    h,
    api,
    url,
    agents,
    async close() {
      await Promise.all(agents.map((a) => a.close()));
      await api.close();
      await h.close();
    },
  };
}
