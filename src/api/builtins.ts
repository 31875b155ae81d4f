import type { BuiltinOperations } from '../commands/builtins.js';
import { currentContext } from '../core/context.js';
import { newId } from '../core/ids.js';
import { cancelWorkflow } from '../engine/cancel.js';
import type { EngineDeps } from '../engine/deps.js';
import { retryWorkflow } from '../engine/retry.js';
import { agentsView } from '../store/queries/agents.js';
import { correlationTimeline, listWorkflows } from '../store/queries/read-model.js';

/** The /hive: built-in commands, answered from the engine and the read model. */
export function builtinOperations(deps: EngineDeps): BuiltinOperations {
  return {
    async status() {
      const [agents, running] = await Promise.all([
        agentsView(deps),
        listWorkflows(deps.db, { status: 'running', limit: 100 }),
      ]);
      return { agents: agents.agents, running: running.items };
    },
    agents: () => agentsView(deps),
    cancel: (id) => cancelWorkflow(deps, id),
    retry: (id) => retryWorkflow(deps, id, { correlationId: currentContext()?.correlationId ?? newId() }),
    trace: (cid) => correlationTimeline(deps.db, cid),
  };
}
