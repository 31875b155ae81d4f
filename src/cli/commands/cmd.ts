import type { Command } from 'commander';
import { cliClient } from '../client.js';
import { followWorkflow } from '../follow.js';

export function register(program: Command): void {
  program
    .command('cmd')
    .description('run a slash command, e.g. hive cmd "/feature todo" --follow')
    .argument('<command>', 'the command line, starting with /')
    .option('--follow', 'show live progress of the workflow it starts')
    .option('--json', 'print JSON')
    .action(async (line: string, opts: { follow?: boolean; json?: boolean }) => {
      const client = cliClient();
      const res = await client.request<{ workflowId?: string; correlationId: string; result?: unknown }>(
        'POST',
        '/api/commands/run',
        { command: line },
      );
      if (!res.workflowId) {
        console.log(JSON.stringify(res.result ?? res, null, 2));
        return;
      }
      if (!opts.follow) {
        console.log(
          opts.json ? JSON.stringify(res) : `started ${res.workflowId} (correlation ${res.correlationId})`,
        );
        return;
      }
      if (!opts.json) console.log(`started ${res.workflowId} (correlation ${res.correlationId})`);
      const view = await followWorkflow(client, res.workflowId, { json: opts.json ?? false });
      process.exitCode = view.status === 'completed' ? 0 : 1;
    });
}
