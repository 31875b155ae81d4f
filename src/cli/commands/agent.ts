import type { Command } from 'commander';
import { createRunner } from '../../agents/create-runner.js';
import { AgentWorker } from '../../agents/worker.js';
import { HiveError } from '../../core/errors.js';
import { createRuntime } from '../../runtime/runtime.js';
import { onShutdown } from '../shutdown.js';

export function register(program: Command): void {
  program
    .command('agent')
    .description('run one instance of an agent (needs only Redis)')
    .argument('<name>', 'agent name from hive.yaml')
    .option('--config <file>', 'hive.yaml to read')
    .option('--concurrency <n>', 'tasks at once (default: the agent’s concurrency)', (v) =>
      Number.parseInt(v, 10),
    )
    .action(async (name: string, opts: { config?: string; concurrency?: number }) => {
      const runtime = await createRuntime({
        ...(opts.config ? { configPath: opts.config } : {}),
        needDb: false,
      });
      const agent = runtime.config.agents[name];
      if (!agent) {
        await runtime.close();
        throw new HiveError(
          'HIVE_ERR_CONFIG_INVALID',
          `no agent "${name}" in ${runtime.config.file ?? 'the configuration'} (known: ${Object.keys(runtime.config.agents).join(', ') || 'none'})`,
        );
      }
      const concurrency = opts.concurrency ?? agent.concurrency;
      if (!Number.isInteger(concurrency) || concurrency < 1)
        throw new HiveError('HIVE_ERR_VALIDATION', '--concurrency expects a positive integer');
      const worker = new AgentWorker({
        name,
        redisUrl: runtime.redisUrl,
        keys: runtime.keys,
        engine: runtime.config.engine,
        runner: createRunner(name, agent, runtime.config.baseDir),
        concurrency,
        logger: runtime.logger,
      });
      await worker.start();
      onShutdown(async () => {
        await worker.close();
        await runtime.close();
      });
    });
}
