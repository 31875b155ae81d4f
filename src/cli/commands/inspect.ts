import type { Command } from 'commander';
import { cliClient } from '../client.js';
import { followEvents } from '../event-stream.js';
import { renderSummary, type WorkflowView } from '../render/progress.js';
import { color, formatDuration, status } from '../render/style.js';
import { table } from '../render/table.js';
import { renderTimeline } from '../render/timeline.js';

const ageOf = (ts: string | null | undefined) => (ts ? formatDuration(Date.now() - Date.parse(ts)) : '—');

/** hive status · show · cancel · trace · logs: readable tables, or --json for scripts. */
export function register(program: Command): void {
  program
    .command('status')
    .description('agents, instances, queue depths and running workflows')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const client = cliClient();
      const agents = await client.request<{ agents?: any[] } | any[]>('GET', '/api/agents');
      const running = await client.request<{ items?: any[]; workflows?: any[] }>(
        'GET',
        '/api/workflows?status=running&limit=50',
      );
      const list = Array.isArray(agents) ? agents : (agents.agents ?? []);
      const wfs = running.items ?? running.workflows ?? [];
      if (opts.json) return void console.log(JSON.stringify({ agents: list, running: wfs }, null, 2));
      console.log(color.bold('Agents'));
      console.log(
        table(
          ['agent', 'capabilities', 'instances', 'running', 'queue', 'pending'],
          list.map((a) => [
            a.name,
            (a.capabilities ?? []).join(', '),
            (a.instances ?? []).filter((i: any) => i.status === 'online').length,
            (a.instances ?? []).reduce((n: number, i: any) => n + (i.running ?? 0), 0),
            a.queueDepth ?? a.queue?.depth,
            a.pending ?? a.queue?.pending,
          ]),
        ),
      );
      const instances = list.flatMap((a) =>
        (a.instances ?? []).map((i: any) => [
          i.id,
          a.name,
          i.host,
          i.pid,
          status(i.status),
          ageOf(i.lastHeartbeat),
          i.running,
        ]),
      );
      if (instances.length) {
        console.log(color.bold('\nInstances'));
        console.log(
          table(['instance', 'agent', 'host', 'pid', 'status', 'heartbeat age', 'running'], instances),
        );
      }
      console.log(color.bold(`\nRunning workflows (${wfs.length})`));
      if (wfs.length)
        console.log(
          table(
            ['workflow', 'name', 'correlation', 'started'],
            wfs.map((w) => [w.id, w.name, w.correlationId, ageOf(w.startedAt)]),
          ),
        );
    });

  program
    .command('show')
    .description('one workflow with its tasks')
    .argument('<workflowId>')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const wf = await cliClient().request<WorkflowView>('GET', `/api/workflows/${encodeURIComponent(id)}`);
      if (opts.json) return void console.log(JSON.stringify(wf, null, 2));
      console.log(`correlation ${wf.correlationId}`);
      console.log(renderSummary({ ...wf, tasks: wf.tasks.map((t) => ({ ...t, logs: [] })) }));
    });

  program
    .command('cancel')
    .description('cancel a workflow: pending tasks stop, running ones are signalled')
    .argument('<workflowId>')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const res = await cliClient().request<{ id: string; status: string }>(
        'POST',
        `/api/workflows/${encodeURIComponent(id)}/cancel`,
      );
      console.log(opts.json ? JSON.stringify(res) : `${res.id}: ${res.status}`);
    });

  program
    .command('trace')
    .description('everything under one correlation ID, as a timeline')
    .argument('<correlationId>')
    .option('--json', 'print JSON')
    .action(async (cid: string, opts: { json?: boolean }) => {
      const data = await cliClient().request<any>('GET', `/api/correlations/${encodeURIComponent(cid)}`);
      if (opts.json) return void console.log(JSON.stringify(data, null, 2));
      console.log(renderTimeline(data, process.stdout.columns ?? 100));
    });

  program
    .command('logs')
    .description('agent log lines')
    .option('--correlation-id <id>', 'only this correlation ID')
    .option('--workflow-id <id>', 'only this workflow')
    .option('--agent <name>', 'only this agent')
    .option('--limit <n>', 'lines to show', '200')
    .option('--follow', 'keep printing new lines')
    .option('--json', 'print JSON lines')
    .action(
      async (opts: {
        correlationId?: string;
        workflowId?: string;
        agent?: string;
        limit: string;
        follow?: boolean;
        json?: boolean;
      }) => {
        const client = cliClient();
        const params = new URLSearchParams();
        if (opts.correlationId) params.set('correlationId', opts.correlationId);
        if (opts.workflowId) params.set('workflowId', opts.workflowId);
        if (opts.agent) params.set('agent', opts.agent);
        params.set('limit', opts.limit);
        const seen = new Set<string>();
        const print = async () => {
          const res = await client.request<{ items?: any[] } | any[]>('GET', `/api/logs?${params}`);
          const items = (Array.isArray(res) ? res : (res.items ?? []))
            .slice()
            .sort((a, b) => String(a.ts).localeCompare(String(b.ts)));
          for (const l of items) {
            const key = String(l.id ?? `${l.ts}|${l.taskId}|${l.message}`);
            if (seen.has(key)) continue;
            seen.add(key);
            if (opts.json) console.log(JSON.stringify(l));
            else
              console.log(
                `${color.dim(String(l.ts))} ${l.level === 'warn' || l.level === 'error' ? color.yellow(l.level) : l.level} ${color.cyan(l.agent)} ${l.workflowId ?? ''}/${l.taskId ?? ''} ${l.message}`,
              );
          }
        };
        await print();
        if (!opts.follow) return;
        // Task events announce new work; the lines themselves come from the logs route.
        const stop = new AbortController();
        process.once('SIGINT', () => stop.abort());
        let pending = false;
        await followEvents(client, {
          filters: { correlationId: opts.correlationId, workflowId: opts.workflowId, agent: opts.agent },
          signal: stop.signal,
          onEvent: () => {
            if (pending) return;
            pending = true;
            setTimeout(() => {
              pending = false;
              void print();
            }, 200);
          },
        });
      },
    );
}
