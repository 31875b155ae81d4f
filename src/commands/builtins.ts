import { HiveError } from '../core/errors.js';

/** Operational commands under /hive:, answered directly by the server. */
export interface BuiltinOperations {
  status(): Promise<unknown>;
  agents(): Promise<unknown>;
  cancel(workflowId: string): Promise<unknown>;
  retry(workflowId: string): Promise<unknown>;
  trace(correlationId: string): Promise<unknown>;
}

export const BUILTINS: Record<
  string,
  {
    description: string;
    argumentHint?: string;
    run: (ops: BuiltinOperations, args: string[]) => Promise<unknown>;
  }
> = {
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

export function requireOperations(ops: BuiltinOperations | undefined): BuiltinOperations {
  if (!ops) throw new HiveError('HIVE_ERR_NOT_READY', 'built-in commands are not available in this process');
  return ops;
}
