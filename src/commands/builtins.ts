import { HiveError } from '../core/errors.js';
import { checkRequired } from './hint.js';

/**
 * Operational commands under /hive:, answered directly by the server instead of starting a workflow.
 * The API implements these against the engine and the read model (src/api/builtins.ts); tests inject fakes.
 */
export interface BuiltinOperations {
  status(): Promise<unknown>;
  agents(): Promise<unknown>;
  cancel(workflowId: string): Promise<unknown>;
  retry(workflowId: string): Promise<unknown>;
  trace(correlationId: string): Promise<unknown>;
}

export const BUILTIN_NAMESPACE = 'hive';

export interface Builtin {
  description: string;
  argumentHint?: string;
  run: (ops: BuiltinOperations, args: readonly string[]) => Promise<unknown>;
}

/** By name without the slash. Each takes exactly the arguments its hint names. */
export const BUILTINS: Readonly<Record<string, Builtin>> = {
  'hive:status': { description: 'Agents, queues and running workflows', run: (ops) => ops.status() },
  'hive:agents': { description: 'Agents and their instances', run: (ops) => ops.agents() },
  'hive:cancel': {
    description: 'Cancel a workflow',
    argumentHint: '<workflow-id>',
    run: (ops, a) => ops.cancel(a[0]!),
  },
  'hive:retry': {
    description: 'Run a finished workflow again',
    argumentHint: '<workflow-id>',
    run: (ops, a) => ops.retry(a[0]!),
  },
  'hive:trace': {
    description: 'Everything under one correlation ID',
    argumentHint: '<correlation-id>',
    run: (ops, a) => ops.trace(a[0]!),
  },
};

export function isBuiltin(name: string): boolean {
  return Object.hasOwn(BUILTINS, name);
}

/**
 * Runs a built-in. Extra arguments are refused rather than ignored: `/hive:cancel a b` cancelling only `a`
 * would be a surprise with consequences.
 */
export async function runBuiltin(
  name: string,
  args: readonly string[],
  ops: BuiltinOperations | undefined,
): Promise<unknown> {
  const builtin = BUILTINS[name];
  if (!builtin) throw new HiveError('HIVE_ERR_COMMAND_NOT_FOUND', `unknown built-in /${name}`);
  const command = `/${name}`;
  checkRequired(command, builtin.argumentHint, args);
  const expected = builtin.argumentHint ? 1 : 0;
  if (args.length > expected)
    throw new HiveError(
      'HIVE_ERR_COMMAND_ARGS',
      `${command} takes ${expected === 0 ? 'no arguments' : `one argument (usage: ${command} ${builtin.argumentHint})`}`,
      { details: { command, hint: builtin.argumentHint ?? null, given: args.length } },
    );
  return builtin.run(requireOperations(ops), args);
}

export function requireOperations(ops: BuiltinOperations | undefined): BuiltinOperations {
  if (!ops) throw new HiveError('HIVE_ERR_NOT_READY', 'built-in commands are not available in this process');
  return ops;
}
