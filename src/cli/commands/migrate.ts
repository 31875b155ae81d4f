import type { Command } from 'commander';
import { HiveError } from '../../core/errors.js';
import { createRuntime } from '../../runtime/runtime.js';
import { migrateDown, migrateUp, migrationStatus } from '../../store/migrator.js';
import { table } from '../render/table.js';

export function register(program: Command): void {
  program
    .command('migrate')
    .description('database schema migrations')
    .argument('<action>', 'up | down | status')
    .option('--to <version>', 'target version (up: default head; down: default 0)')
    .option('--config <file>', 'hive.yaml to read')
    .option('--json', 'print JSON')
    .action(async (action: string, opts: { to?: string; config?: string; json?: boolean }) => {
      if (!['up', 'down', 'status'].includes(action))
        throw new HiveError('HIVE_ERR_VALIDATION', `migrate expects up, down or status (got "${action}")`);
      const to = opts.to === undefined ? undefined : Number(opts.to);
      if (to !== undefined && !(Number.isInteger(to) && to >= 0))
        throw new HiveError('HIVE_ERR_VALIDATION', '--to expects a version number');
      // Migrations are run here explicitly: the runtime must not migrate on open.
      const runtime = await createRuntime({
        ...(opts.config ? { configPath: opts.config } : {}),
        needDb: true,
        needRedis: false,
        migrate: false,
      });
      try {
        const db = runtime.store!.db;
        if (action === 'up') {
          const done = await migrateUp(db, to);
          console.log(
            opts.json
              ? JSON.stringify({ applied: done })
              : done.length
                ? `applied ${done.join(', ')}`
                : 'already at the target version',
          );
        } else if (action === 'down') {
          const done = await migrateDown(db, to ?? 0);
          console.log(
            opts.json
              ? JSON.stringify({ reverted: done })
              : done.length
                ? `reverted ${done.join(', ')}`
                : 'nothing to revert',
          );
        } else {
          const status = await migrationStatus(db);
          if (opts.json) console.log(JSON.stringify(status));
          else
            console.log(
              table(
                ['version', 'name', 'status', 'applied at'],
                status.map((s) => [
                  s.version,
                  s.name,
                  s.applied ? 'applied' : 'pending',
                  s.appliedAt?.toISOString(),
                ]),
              ),
            );
        }
      } finally {
        await runtime.close();
      }
    });
}
