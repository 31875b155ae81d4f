import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../core/logger.js';

const HIVE_BIN = fileURLToPath(new URL('../../bin/hive', import.meta.url));

export interface SupervisedAgent {
  name: string;
  instances: number;
}

/**
 * `hive up` runs each configured agent instance as its own process (`hive agent NAME`), so a task that
 * crashes or hangs its process cannot take the coordinator or the API with it. A process that dies is
 * started again with backoff; its unfinished entries are taken over by the other instances meanwhile.
 * An instance whose supervisor dies, however it dies, exits too (see `onShutdown`).
 */
export class AgentSupervisor {
  private readonly children = new Set<ChildProcess>();
  private stopping = false;

  constructor(
    private readonly agents: SupervisedAgent[],
    private readonly opts: { configPath: string; env: NodeJS.ProcessEnv; logger: Logger },
  ) {}

  start(): void {
    for (const a of this.agents) for (let i = 0; i < a.instances; i++) this.spawn(a.name, i, 0);
  }

  get pids(): number[] {
    return [...this.children].map((c) => c.pid!).filter(Boolean);
  }

  private spawn(name: string, index: number, restarts: number): void {
    if (this.stopping) return;
    const child = spawn(process.execPath, [HIVE_BIN, 'agent', name, '--config', this.opts.configPath], {
      env: this.opts.env,
      // The IPC channel is how an instance learns that its supervisor is gone (even SIGKILLed): it then drains
      // and exits (cli/shutdown.ts) instead of living on as an orphan.
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.children.add(child);
    const started = Date.now();
    child.on('exit', (code, signal) => {
      this.children.delete(child);
      if (this.stopping) return;
      // A process that ran for a while restarts at once; one that keeps dying backs off up to 10 s.
      const next = Date.now() - started > 30_000 ? 0 : restarts + 1;
      const delay = Math.min(10_000, next === 0 ? 0 : 250 * 2 ** next);
      this.opts.logger.warn({ agent: name, index, code, signal, delay }, 'agent process exited; restarting');
      setTimeout(() => this.spawn(name, index, next), delay).unref();
    });
  }

  /** SIGTERM lets each instance drain; SIGKILL after the grace period. */
  async stop(graceMs = 30_000): Promise<void> {
    this.stopping = true;
    const exits = [...this.children].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
          setTimeout(() => c.kill('SIGKILL'), graceMs).unref();
        }),
    );
    await Promise.all(exits);
  }
}
