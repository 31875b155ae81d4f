// An offered load: `rate` submissions per second for `seconds`, in ticks of 10 ms, then waits for all of them.
import { sleep } from './common.mjs';

/**
 * `submit(count)` submits `count` workflows and resolves to their IDs; `system.waitAll(ids)` resolves once they
 * completed. Returns the IDs in submission order and when each was submitted, by `clock` (performance.now by
 * default; Date.now to compare with events' timestamps).
 */
export async function offer(system, rate, seconds, submit, clock = () => performance.now()) {
  const startedAt = new Map();
  const ids = [];
  const total = Math.round(rate * seconds);
  const t0 = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
    if (due > sent) {
      const at = clock();
      for (const id of await submit(due - sent)) {
        startedAt.set(id, at);
        ids.push(id);
      }
      sent = due;
    }
    await sleep(10);
  }
  await system.waitAll(ids);
  return { ids, startedAt };
}
