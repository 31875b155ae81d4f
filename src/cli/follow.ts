import type { HiveClient } from '../sdk/hive-client.js';
import { followEvents } from './event-stream.js';
import {
  applyEvent,
  isFinal,
  LiveBlock,
  renderSummary,
  renderTasks,
  type TaskView,
  type WorkflowView,
} from './render/progress.js';
import { isLiveTerminal } from './render/style.js';

interface ApiWorkflow extends Omit<WorkflowView, 'tasks'> {
  tasks: Omit<TaskView, 'logs'>[];
}

interface ApiLog {
  id?: string | number;
  ts: string;
  taskId?: string | null;
  level: string;
  message: string;
}

/**
 * Follows one workflow until it ends: a live task list on a TTY (plain lines otherwise), agent log lines under
 * their task, then a summary table. Resolves with the final status.
 */
export async function followWorkflow(
  client: HiveClient,
  id: string,
  opts: { json?: boolean } = {},
): Promise<WorkflowView> {
  const wf = await client.request<ApiWorkflow>('GET', `/api/workflows/${encodeURIComponent(id)}`);
  const view: WorkflowView = { ...wf, tasks: wf.tasks.map((t) => ({ ...t, logs: [] })) };
  const live = isLiveTerminal() && !opts.json;
  const block = new LiveBlock();
  const print = (line: string | undefined) => {
    if (!line || opts.json) return;
    if (!live) console.log(`${new Date().toISOString().slice(11, 23)} ${line}`);
  };
  const redraw = () => live && block.draw(renderTasks(view));
  const stop = new AbortController();
  const seenLogs = new Set<string>();
  const pollLogs = async () => {
    const res = await client
      .request<{ items?: ApiLog[] } | ApiLog[]>(
        'GET',
        `/api/logs?workflowId=${encodeURIComponent(id)}&limit=1000`,
      )
      .catch(() => undefined);
    const items = Array.isArray(res) ? res : (res?.items ?? []);
    for (const l of items) {
      const key = String(l.id ?? `${l.ts}|${l.taskId}|${l.message}`);
      if (seenLogs.has(key)) continue;
      seenLogs.add(key);
      const t = view.tasks.find((x) => x.id === l.taskId);
      t?.logs.push(l.message);
      print(`${l.taskId ?? '-'} │ ${l.message}`);
    }
  };
  redraw();
  if (!isFinal(view.status)) {
    const ticker = setInterval(
      () => {
        redraw();
        void pollLogs();
      },
      live ? 250 : 1_000,
    );
    await new Promise<void>((resolve) => {
      // after: 0 replays this workflow's events from PostgreSQL first, so nothing before the subscription is missed.
      void followEvents(client, {
        filters: { workflowId: id },
        after: 0,
        signal: stop.signal,
        onEvent: (e) => {
          print(applyEvent(view, e));
          redraw();
          if (e.type.startsWith('workflow.') && isFinal(view.status)) {
            stop.abort();
            resolve();
          }
        },
      });
      // A workflow that ended between the GET and the subscription is caught by re-reading it.
      void client.request<ApiWorkflow>('GET', `/api/workflows/${encodeURIComponent(id)}`).then((w) => {
        if (isFinal(w.status)) {
          stop.abort();
          resolve();
        }
      });
    });
    clearInterval(ticker);
  }
  await pollLogs();
  const final = await client.request<ApiWorkflow>('GET', `/api/workflows/${encodeURIComponent(id)}`);
  const result: WorkflowView = {
    ...final,
    tasks: final.tasks.map((t) => ({ ...t, logs: view.tasks.find((v) => v.id === t.id)?.logs ?? [] })),
  };
  if (live) block.draw(renderTasks(result));
  if (opts.json) console.log(JSON.stringify(final, null, 2));
  else console.log(renderSummary(result));
  return result;
}
