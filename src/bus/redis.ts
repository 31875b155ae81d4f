import { type ChainableCommander, Redis, type RedisOptions } from 'ioredis';
import { redactUrl } from '../core/logger.js';
import { leanPipeline } from './lean-pipeline.js';

export type { Redis };
/** Commands queued to go out in one write (`redis.pipeline()`). */
export type Pipeline = ChainableCommander;
/** What `pipeline.exec()` resolves to: one `[error, result]` per queued command. */
export type PipelineReplies = [error: Error | null, result: unknown][];

/**
 * One factory for every Redis connection. Blocking readers (XREADGROUP BLOCK) get their own connection so they
 * never delay ordinary commands; auto-pipelining batches the many small commands issued in one tick.
 */
export function createRedis(url: string, name: string, options: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    connectionName: name,
    // Commands wait through a reconnect instead of failing: a Redis restart pauses work, it does not lose it.
    maxRetriesPerRequest: null,
    enableAutoPipelining: true,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 1_000),
    lazyConnect: false,
    ...options,
  });
  // Connection errors are retried by ioredis; without a listener they would be thrown as unhandled.
  redis.on('error', () => {});
  // Every pipeline of this connection, explicit or auto-pipelined, is a lean one (see lean-pipeline.ts).
  redis.pipeline = ((commands?: unknown[][]) => leanPipeline(redis, commands)) as Redis['pipeline'];
  return redis;
}

/**
 * SUBSCRIBE once the connection is ready, never during its handshake. ioredis writes SUBSCRIBE at once on a
 * connection still in its handshake (the command is allowed while Redis loads); the ready check's INFO that
 * follows is then refused in subscriber mode, ioredis reconnects, and as that connection had never been ready it
 * does not subscribe again (ioredis#2037). subscribe() has resolved, nothing is received: every cancel and
 * timeout sent to this instance is lost and its task processes run on.
 */
export async function subscribeWhenReady(redis: Redis, channel: string): Promise<void> {
  while (redis.status !== 'ready') {
    if (redis.status === 'end') throw new Error(`cannot subscribe to ${channel}: connection closed`);
    await new Promise<void>((resolve) => {
      const done = () => {
        redis.off('ready', done);
        redis.off('end', done);
        resolve();
      };
      redis.on('ready', done);
      redis.on('end', done);
    });
  }
  await redis.subscribe(channel);
}

export function describeRedisUrl(url: string): string {
  return redactUrl(url);
}

/** Parses INFO output into key → value. */
export function parseInfo(info: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of info.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}
