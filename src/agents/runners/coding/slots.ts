/**
 * `maxParallel`: runs of one runner (claude-code, codex…) at once on this host, across every agent and
 * instance process. Each run holds a slot file `<dir>/<n>.slot`, created with O_EXCL and holding its pid; a
 * slot whose pid is gone (a SIGKILLed instance) is taken over. Files rather than Redis because the limit is
 * about this machine's CPU and the CLI account's concurrent sessions, and runners have no Redis connection.
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function tryTake(file: string): Promise<boolean> {
  try {
    const fh = await open(file, 'wx');
    await fh.writeFile(String(process.pid));
    await fh.close();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const pid = Number(await readFile(file, 'utf8').catch(() => ''));
  // An empty file is a slot being written right now; only a dead owner's slot is taken over.
  if (pid > 0 && pid !== process.pid && !alive(pid)) {
    await rm(file, { force: true });
    return tryTake(file);
  }
  return false;
}

export interface Slot {
  release(): Promise<void>;
}

/** Waits for a free slot (polling every 100 ms), or rejects when the signal aborts. */
export async function acquireSlot(
  dir: string,
  max: number,
  signal: AbortSignal,
  onWait: () => void,
  // Slots held by this process: pids are the same for every run in it, so they are tracked here.
  held: Set<string> = HELD,
): Promise<Slot> {
  await mkdir(dir, { recursive: true });
  let waited = false;
  for (;;) {
    for (let n = 0; n < max; n++) {
      const file = path.join(dir, `${n}.slot`);
      if (held.has(file)) continue;
      if (await tryTake(file)) {
        held.add(file);
        return {
          async release() {
            held.delete(file);
            await rm(file, { force: true });
          },
        };
      }
    }
    if (signal.aborted) throw signal.reason ?? new Error('aborted');
    if (!waited) onWait();
    waited = true;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const HELD = new Set<string>();
