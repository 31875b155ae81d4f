import { HiveError } from '../core/errors.js';
import type { EngineDeps } from './deps.js';
import { Router } from './router.js';
import { runUnitOfWork } from './unit-of-work.js';

const router = new Router();

/**
 * Cancels a workflow: waiting tasks are cancelled, running ones are cancelled and their agents signalled
 * (processes killed, SDK handlers see ctx.signal). Already-final workflows are returned unchanged.
 */
export async function cancelWorkflow(
  deps: EngineDeps,
  id: string,
  reason = 'cancelled by request',
): Promise<{ id: string; status: string; changed: boolean }> {
  const { workflows, changed } = await runUnitOfWork(deps, router, [id], (machine, wfs) => {
    const wf = wfs.get(id);
    if (wf) machine.cancel(wf, reason);
  });
  const wf = workflows.get(id);
  if (!wf) throw new HiveError('HIVE_ERR_WORKFLOW_NOT_FOUND', `no workflow with id "${id}"`);
  return { id, status: wf.status, changed: changed.has(id) };
}
