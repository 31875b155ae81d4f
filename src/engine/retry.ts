import { HiveError } from '../core/errors.js';
import type { EngineDeps } from './deps.js';
import { FINAL_WORKFLOW_STATUSES, type WorkflowStatus } from './state.js';
import { type SubmitResult, submitWorkflow } from './submit.js';

/**
 * Retries a finished workflow by submitting its spec again as a new workflow (without the client id, which
 * named the first run). The new run gets its own correlation ID unless one is given.
 */
export async function retryWorkflow(
  deps: EngineDeps,
  id: string,
  opts: { correlationId: string; traceparent?: string },
): Promise<SubmitResult & { retryOf: string }> {
  const row = await deps.db
    .selectFrom('workflows')
    .select(['spec', 'status'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new HiveError('HIVE_ERR_WORKFLOW_NOT_FOUND', `no workflow with id "${id}"`);
  if (!FINAL_WORKFLOW_STATUSES.has(row.status as WorkflowStatus)) {
    throw new HiveError(
      'HIVE_ERR_WORKFLOW_CONFLICT',
      `workflow "${id}" is still ${row.status}; cancel it first or wait for it to end`,
    );
  }
  const { id: _clientId, ...spec } = row.spec as Record<string, unknown>;
  const name = typeof spec.name === 'string' ? spec.name : undefined;
  const result = await submitWorkflow(deps, { ...spec, ...(name ? { name } : {}) }, opts);
  return { ...result, retryOf: id };
}
