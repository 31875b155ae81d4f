import { sql } from 'kysely';
import { encode } from '../bus/envelope.js';
import { newSpanId, newTraceId } from '../core/ids.js';
import { formatTraceparent } from '../core/traceparent.js';
import type { EngineDeps } from './deps.js';
import { type HiveEvent, insertEvents } from './events.js';

/** A task attempt to send to its agent's stream. */
export interface DispatchItem {
  workflowId: string;
  taskId: string;
  attempt: number;
  agent: string;
  type: string;
  input: unknown;
  timeoutMs: number;
  correlationId: string;
  traceId: string | null;
}

/**
 * Sends task attempts to agent streams (one pipeline for the batch), then records `dispatched_at`, the stream
 * entry ID and a `task.dispatched` event in one transaction. The order matters for the outbox: a task
 * committed as queued but never sent keeps `dispatched_at` NULL and the recovery sweep sends it again;
 * a crash between the XADD and the marker only causes a duplicate send, which the attempt guard absorbs.
 */
export async function dispatch(deps: EngineDeps, items: readonly DispatchItem[]): Promise<HiveEvent[]> {
  if (items.length === 0) return [];
  const pipeline = deps.redis.pipeline();
  const now = Date.now();
  for (const item of items) {
    const fields = encode({
      kind: 'task',
      cid: item.correlationId,
      tp: formatTraceparent(item.traceId ?? newTraceId(), newSpanId()),
      ts: now,
      wf: item.workflowId,
      task: item.taskId,
      attempt: item.attempt,
      payload: { type: item.type, agent: item.agent, input: item.input, timeoutMs: item.timeoutMs },
    });
    pipeline.xadd(deps.keys.agentTasks(item.agent), '*', ...fields);
  }
  const replies = (await pipeline.exec()) ?? [];
  const sent: { workflow_id: string; id: string; attempt: number; msg_id: string }[] = [];
  const sentItems: DispatchItem[] = [];
  replies.forEach(([err, id], i) => {
    const item = items[i]!;
    if (err || typeof id !== 'string') {
      deps.logger.warn(
        { err, workflowId: item.workflowId, taskId: item.taskId },
        'dispatch failed; the outbox sweep will resend',
      );
      return;
    }
    sent.push({ workflow_id: item.workflowId, id: item.taskId, attempt: item.attempt, msg_id: id });
    sentItems.push(item);
  });
  if (sent.length === 0) return [];
  return deps.db.transaction().execute(async (tx) => {
    await sql`
      UPDATE tasks t SET dispatched_at = now(), msg_id = v.msg_id
      FROM jsonb_to_recordset(${JSON.stringify(sent)}::jsonb) AS v(workflow_id text, id text, attempt int, msg_id text)
      WHERE t.workflow_id = v.workflow_id AND t.id = v.id AND t.attempt = v.attempt`.execute(tx);
    return insertEvents(
      tx,
      sentItems.map((item, i) => ({
        type: 'task.dispatched' as const,
        correlationId: item.correlationId,
        workflowId: item.workflowId,
        taskId: item.taskId,
        agent: item.agent,
        data: { attempt: item.attempt, stream: deps.keys.agentTasks(item.agent), entryId: sent[i]!.msg_id },
        ts: now,
      })),
    );
  });
}
