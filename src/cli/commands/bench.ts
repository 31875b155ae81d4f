import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { HiveError } from '../../core/errors.js';

const RUNNER = fileURLToPath(new URL('../../../bench/run.mjs', import.meta.url));

export function register(program: Command): void {
  program
    .command('bench')
    .description('run the benchmark suite against the built output (docs/benchmarks.md)')
    .option('--json', 'print JSON')
    .option('--quick', 'smaller runs')
    .option('--cold', 'measure from a standing start (no warm-up before each measured run)')
    .option(
      '--only <names>',
      'comma-separated scenarios: throughput,latency,dispatch,events,scale,overhead,soak',
    )
    .action(async (opts: { json?: boolean; quick?: boolean; cold?: boolean; only?: string }) => {
      if (!existsSync(RUNNER))
        throw new HiveError(
          'HIVE_ERR_NOT_FOUND',
          'bench/ is not part of this installation: run it from a clone of the repository',
        );
      const args = [
        RUNNER,
        ...(opts.json ? ['--json'] : []),
        ...(opts.quick ? ['--quick'] : []),
        ...(opts.cold ? ['--cold'] : []),
        ...(opts.only ? [`--only=${opts.only}`] : []),
      ];
      const code = await new Promise<number>((resolve) =>
        spawn(process.execPath, args, { stdio: 'inherit' }).on('exit', (c) => resolve(c ?? 1)),
      );
      process.exitCode = code;
    });
}
