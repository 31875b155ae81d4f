import type { Keys } from './keys.js';
import type { Redis } from './redis.js';

export interface DeadLetter {
  stream: string;
  entryId: string;
  reason: string;
  fields: Record<string, string>;
}

const DLQ_MAXLEN = 10_000;

/**
 * Moves an entry that cannot be processed to the dead-letter stream with its reason. The coordinator copies
 * dead letters into PostgreSQL; the stream itself is capped so poison input cannot grow Redis without bound.
 */
export function deadLetterArgs(keys: Keys, dl: DeadLetter): (string | number)[] {
  const f = dl.fields;
  const out: (string | number)[] = [keys.deadLetters(), 'MAXLEN', '~', DLQ_MAXLEN, '*'];
  out.push(
    'stream',
    dl.stream,
    'entryId',
    dl.entryId,
    'reason',
    dl.reason.slice(0, 2_000),
    'fields',
    JSON.stringify(f).slice(0, 65_536),
    'ts',
    String(Date.now()),
  );
  if (f.cid) out.push('cid', f.cid.slice(0, 128));
  if (f.wf) out.push('wf', f.wf.slice(0, 256));
  if (f.task) out.push('task', f.task.slice(0, 256));
  return out;
}

export async function deadLetter(redis: Redis, keys: Keys, dl: DeadLetter): Promise<void> {
  const [key, ...rest] = deadLetterArgs(keys, dl);
  await redis.xadd(key as string, ...(rest as string[]));
}

export function fieldsToRecord(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[String(list[i])] = String(list[i + 1]);
  return out;
}
