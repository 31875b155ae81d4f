/** How long a process whose parent has gone may take to drain before it exits anyway. */
const ORPHAN_GRACE_MS = 30_000;

/**
 * SIGTERM / SIGINT run the shutdown once (drain, then close); a second signal exits at once.
 * A process started with an IPC channel (an agent instance under `hive up`) runs the same shutdown when the
 * channel closes: its supervisor has exited or been killed, and nothing would otherwise ever stop it.
 */
export function onShutdown(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals | 'disconnect') => {
    if (stopping) process.exit(130);
    stopping = true;
    stop().then(
      () => process.exit(0),
      (err) => {
        console.error(`shutdown after ${signal} failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  if (process.channel) {
    process.channel.unref(); // the channel alone does not keep the process alive
    process.once('disconnect', () => {
      setTimeout(() => process.exit(1), ORPHAN_GRACE_MS).unref();
      if (!stopping) handler('disconnect');
    });
    if (!process.connected) handler('disconnect');
  }
}
