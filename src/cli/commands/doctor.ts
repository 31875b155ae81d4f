import type { Command } from 'commander';
import { runDoctor } from '../../doctor/checks.js';
import { color } from '../render/style.js';

export function register(program: Command): void {
  program
    .command('doctor')
    .description(
      'audit configuration, database, Redis, runners and command files; non-zero exit when a check fails',
    )
    .option('--config <file>', 'hive.yaml to read')
    .option('--json', 'print JSON')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const results = await runDoctor({ processEnv: process.env, configPath: opts.config });
      const failed = results.some((r) => r.status === 'fail');
      if (opts.json)
        console.log(
          JSON.stringify(
            {
              status: failed ? 'fail' : results.some((r) => r.status === 'warn') ? 'warn' : 'pass',
              checks: results,
            },
            null,
            2,
          ),
        );
      else {
        const paint = { pass: color.green, warn: color.yellow, fail: color.red };
        for (const r of results) {
          console.log(`${paint[r.status](r.status.padEnd(4))}  ${r.name}: ${r.message}`);
          if (r.fix && r.status !== 'pass') console.log(`      fix: ${r.fix}`);
        }
      }
      process.exitCode = failed ? 1 : 0;
    });
}
