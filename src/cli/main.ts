import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { isHiveError } from '../core/errors.js';
import { register as registerAgent } from './commands/agent.js';
import { register as registerBench } from './commands/bench.js';
import { register as registerCmd } from './commands/cmd.js';
import { register as registerCompletion } from './commands/completion.js';
import { register as registerDoctor } from './commands/doctor.js';
import { register as registerInspect } from './commands/inspect.js';
import { register as registerMigrate } from './commands/migrate.js';
import { register as registerRun } from './commands/run.js';
import { register as registerUp } from './commands/up.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** Each command lives in ./commands/NAME.ts and registers itself here. */
const COMMANDS: ((program: Command) => void)[] = [
  registerUp,
  registerAgent,
  registerRun,
  registerCmd,
  registerInspect,
  registerDoctor,
  registerMigrate,
  registerBench,
  registerCompletion,
];

export function buildProgram(): Command {
  const program = new Command('hive')
    .description('Hive: workflows of tasks across agents, over Redis Streams, recorded in PostgreSQL')
    .version(pkg.version)
    .exitOverride()
    .showHelpAfterError();
  for (const register of COMMANDS) register(program);
  return program;
}

/** Runs the CLI; HiveErrors print their message (every problem listed) and exit 1, nothing else is swallowed. */
export async function run(argv: string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    if (isHiveError(err)) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  }
}
