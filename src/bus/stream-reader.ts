import type { Redis } from './redis.js';

export type StreamEntry = [id: string, fields: string[]];

/** Creates the consumer group if missing (reading from the stream's start, so earlier entries are kept). */
export async function ensureGroup(redis: Redis, stream: string, group: string): Promise<void> {
  try {
    await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
  } catch (err) {
    if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
  }
}

/**
 * XREADGROUP on a dedicated (blocking) connection. A group that vanished (a Redis restarted without its
 * data) is recreated instead of stopping the consumer.
 */
export async function readGroup(
  redis: Redis,
  stream: string,
  group: string,
  consumer: string,
  count: number,
  blockMs: number,
  id = '>',
): Promise<StreamEntry[]> {
  try {
    const res = (await redis.xreadgroup(
      'GROUP',
      group,
      consumer,
      'COUNT',
      count,
      'BLOCK',
      blockMs,
      'STREAMS',
      stream,
      id,
    )) as [string, StreamEntry[]][] | null;
    return res?.[0]?.[1]?.filter((e) => e[1] !== null) ?? [];
  } catch (err) {
    if (String((err as Error).message).includes('NOGROUP')) {
      await ensureGroup(redis, stream, group);
      return [];
    }
    throw err;
  }
}

/** XAUTOCLAIM entries idle longer than `minIdleMs` (their consumer is presumed dead). Deleted entries are dropped. */
export async function autoClaim(
  redis: Redis,
  stream: string,
  group: string,
  consumer: string,
  minIdleMs: number,
  count: number,
): Promise<StreamEntry[]> {
  try {
    // XAUTOCLAIM examines at most COUNT × 10 pending entries per call: follow its cursor through the whole
    // pending list, so idle entries behind many live ones (long tasks kept alive) are found too.
    const found: StreamEntry[] = [];
    let cursor = '0-0';
    do {
      const res = (await redis.xautoclaim(
        stream,
        group,
        consumer,
        minIdleMs,
        cursor,
        'COUNT',
        count - found.length,
      )) as [string, StreamEntry[], string[]?];
      found.push(...(res?.[1] ?? []).filter((e) => e && e[1] !== null));
      cursor = res?.[0] ?? '0-0';
    } while (cursor !== '0-0' && found.length < count);
    return found;
  } catch (err) {
    if (String((err as Error).message).includes('NOGROUP')) {
      await ensureGroup(redis, stream, group);
      return [];
    }
    throw err;
  }
}

/** Delivery counts of pending entries (XPENDING extended form), for the dead-letter bound. */
export async function deliveryCounts(
  redis: Redis,
  stream: string,
  group: string,
  ids: readonly string[],
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (ids.length === 0) return out;
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.xpending(stream, group, id, id, 1);
  const replies = (await pipeline.exec()) ?? [];
  replies.forEach(([err, rows], i) => {
    const row =
      !err && Array.isArray(rows) ? (rows[0] as [string, string, number, number] | undefined) : undefined;
    out.set(ids[i]!, row ? Number(row[3]) : 1);
  });
  return out;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
