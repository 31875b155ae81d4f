import { HiveError } from '../core/errors.js';

/** Arguments named in angle brackets in `argument-hint` are required: `<name> [--flag]` needs one. */
export function requiredArguments(hint: string | undefined): string[] {
  return [...(hint ?? '').matchAll(/<([^<>]+)>/g)].map((m) => m[1]!.trim());
}

/**
 * Throws HIVE_ERR_COMMAND_ARGS naming the missing arguments and the usage line. Arguments are counted by
 * position: an explicit empty argument (`""`) is a value the user chose, so it counts as given.
 */
export function checkRequired(command: string, hint: string | undefined, args: readonly string[]): void {
  const required = requiredArguments(hint);
  if (args.length >= required.length) return;
  const missing = required.slice(args.length);
  throw new HiveError(
    'HIVE_ERR_COMMAND_ARGS',
    `${command} needs ${missing.map((m) => `<${m}>`).join(' ')} (usage: ${command} ${hint})`,
    { details: { command, missing, hint } },
  );
}
