import { SdkRunner, type TaskHandler } from '../agents/runners/sdk-runner.js';
import { AgentWorker } from '../agents/worker.js';
import { Keys } from '../bus/keys.js';
import { configSchema, type EngineConfig } from '../core/config-file.js';
import { createLogger, type Logger } from '../core/logger.js';
import { initTracing } from '../telemetry/tracing.js';

export interface RunAgentOptions {
  name: string;
  handle: TaskHandler;
  concurrency?: number;
  /** Defaults to HIVE_REDIS_URL, then redis://127.0.0.1:6379. */
  redisUrl?: string;
  /** Defaults to HIVE_KEY_PREFIX, then "hive". Must match the coordinator's. */
  keyPrefix?: string;
  engine?: Partial<EngineConfig>;
  logger?: Logger;
  drainTimeoutMs?: number;
}

export interface RunningAgent {
  readonly instanceId: string;
  /** Stops taking tasks, finishes or releases the ones it holds. */
  close(): Promise<void>;
}

/** Runs an agent instance in this process (CONTRACT §10). */
export async function runAgent(opts: RunAgentOptions): Promise<RunningAgent> {
  const engine = configSchema.shape.engine.parse(opts.engine ?? {});
  initTracing(`hive-agent:${opts.name}`);
  const worker = new AgentWorker({
    name: opts.name,
    redisUrl: opts.redisUrl ?? process.env.HIVE_REDIS_URL ?? 'redis://127.0.0.1:6379',
    keys: new Keys(opts.keyPrefix ?? process.env.HIVE_KEY_PREFIX ?? 'hive'),
    engine,
    runner: new SdkRunner(opts.handle),
    concurrency: opts.concurrency ?? 1,
    logger: opts.logger ?? createLogger({ level: process.env.HIVE_LOG_LEVEL ?? 'info' }),
    ...(opts.drainTimeoutMs !== undefined ? { drainTimeoutMs: opts.drainTimeoutMs } : {}),
  });
  await worker.start();
  return { instanceId: worker.instanceId, close: () => worker.close() };
}
