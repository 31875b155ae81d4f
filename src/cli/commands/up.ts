import type { Command } from 'commander';
import { HiveError } from '../../core/errors.js';
import { Coordinator } from '../../engine/coordinator.js';
import type { EngineDeps } from '../../engine/deps.js';
import { dispatcherFor } from '../../engine/dispatcher.js';
import { createRuntime } from '../../runtime/runtime.js';
import { AgentSupervisor } from '../../supervisor/agent-supervisor.js';
import { onShutdown } from '../shutdown.js';

const ROLES = ['all', 'api', 'coordinator', 'agents'] as const;
type Role = (typeof ROLES)[number];

export function register(program: Command): void {
  program
    .command('up')
    .description('run the hive: API and dashboard, coordinator and agent processes')
    .option('--config <file>', 'hive.yaml to read')
    .option('--port <n>', 'API port (default HIVE_PORT)', (v) => Number.parseInt(v, 10))
    .option('--role <role>', `what this process runs: ${ROLES.join(' | ')}`, 'all')
    .action(async (opts: { config?: string; port?: number; role: string }) => {
      if (!ROLES.includes(opts.role as Role))
        throw new HiveError(
          'HIVE_ERR_VALIDATION',
          `--role expects one of ${ROLES.join(', ')} (got "${opts.role}")`,
        );
      if (opts.port !== undefined && !(Number.isInteger(opts.port) && opts.port >= 0 && opts.port <= 65535)) {
        throw new HiveError('HIVE_ERR_VALIDATION', '--port expects a port number from 0 to 65535');
      }
      const role = opts.role as Role;
      const has = (r: Role) => role === 'all' || role === r;
      const runtime = await createRuntime({
        ...(opts.config ? { configPath: opts.config } : {}),
        needDb: role !== 'agents',
      });
      const log = runtime.logger.child({ component: 'hive' });
      const stops: (() => Promise<void>)[] = [];
      let deps: EngineDeps | undefined;
      if (runtime.store) {
        deps = {
          db: runtime.store.db,
          redis: runtime.redis('hive:cmd'),
          keys: runtime.keys,
          config: runtime.config,
          logger: runtime.logger,
        };
      }
      if (has('coordinator') && deps) {
        const coordinator = new Coordinator(deps, { connect: (name) => runtime.redis(name) });
        await coordinator.start();
        stops.push(() => coordinator.close());
      }
      if (has('agents')) {
        const agents = Object.entries(runtime.config.agents)
          .filter(([, a]) => a.runner !== 'sdk' && a.instances > 0)
          .map(([name, a]) => ({ name, instances: a.instances }));
        const supervisor = new AgentSupervisor(agents, {
          configPath: runtime.config.file ?? runtime.env.HIVE_CONFIG,
          env: { ...process.env, HIVE_REDIS_URL: runtime.redisUrl },
          logger: log,
        });
        supervisor.start();
        stops.unshift(() => supervisor.stop());
      }
      if (has('api') && deps) {
        // Loaded only by processes that serve HTTP: agent and coordinator processes start faster without it.
        const { createApiServer } = await import('../../api/server.js');
        const { CommandService } = await import('../../commands/service.js');
        const { builtinOperations } = await import('../../api/builtins.js');
        const commands = new CommandService({ config: runtime.config, builtins: builtinOperations(deps) });
        const api = await createApiServer({ deps, env: runtime.env, commands, redisUrl: runtime.redisUrl });
        const port = opts.port ?? runtime.env.HIVE_PORT;
        const address = await api.start(runtime.env.HIVE_HOST, port);
        stops.unshift(async () => {
          await api.close();
          await commands.close();
        });
        // The one line people look for after `npm start`.
        console.log(`Hive is up: dashboard at ${address}/  (API ${address}/api, docs ${address}/docs)`);
      }
      // Sends not yet recorded (held for the next unit of work on their workflow) are recorded before the
      // database closes, in every role that dispatches (the API submits, the coordinator advances).
      const dispatching = deps;
      if (dispatching) stops.push(() => dispatcherFor(dispatching).flush());
      log.info({ role }, 'hive up');
      onShutdown(async () => {
        for (const stop of stops) await stop().catch((err) => log.warn({ err }, 'stopping a part failed'));
        await runtime.close();
      });
    });
}
