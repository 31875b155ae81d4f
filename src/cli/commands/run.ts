import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { HiveError } from '../../core/errors.js';
import { isValidCorrelationId } from '../../core/ids.js';
import { parseSpecText } from '../../engine/spec.js';
import { cliClient } from '../client.js';
import { followWorkflow } from '../follow.js';

export function register(program: Command): void {
  program
    .command('run')
    .description(
      'submit a workflow (YAML or JSON); --follow shows live progress, exit code 0 only if it completed',
    )
    .argument('<file>', 'workflow spec (CONTRACT §5)')
    .option('--follow', 'show live progress until the workflow ends')
    .option('--correlation-id <id>', 'correlation ID to submit under')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { follow?: boolean; correlationId?: string; json?: boolean }) => {
      if (opts.correlationId !== undefined && !isValidCorrelationId(opts.correlationId)) {
        throw new HiveError(
          'HIVE_ERR_CORRELATION_ID_INVALID',
          `--correlation-id must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`,
        );
      }
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new HiveError(
          'HIVE_ERR_SPEC_INVALID',
          `${file}: cannot read (${(err as NodeJS.ErrnoException).code})`,
        );
      }
      const spec = parseSpecText(text, file);
      const client = cliClient();
      const res = await client.submit(spec, opts.correlationId ? { correlationId: opts.correlationId } : {});
      if (!opts.follow) {
        console.log(
          opts.json
            ? JSON.stringify(res)
            : `submitted ${res.id} (correlation ${res.correlationId}): ${res.status}`,
        );
        return;
      }
      if (!opts.json) console.log(`submitted ${res.id} (correlation ${res.correlationId})`);
      const view = await followWorkflow(client, res.id, { json: opts.json ?? false });
      process.exitCode = view.status === 'completed' ? 0 : 1;
    });
}
