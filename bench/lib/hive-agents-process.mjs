// Child process of the benchmarks: SDK agents with no-op handlers (CONTRACT §10), concurrency from argv.

import { createLogger } from '../../dist/core/logger.js';
import { runAgent } from '../../dist/sdk/index.js';

const [prefix, concurrency, ...names] = process.argv.slice(2);
const logger = createLogger({ level: 'warn' });
const agents = await Promise.all(
  names.map((name) =>
    runAgent({
      name,
      concurrency: Number(concurrency),
      keyPrefix: prefix,
      logger,
      handle: async () => ({ ok: true }),
    }),
  ),
);
process.send?.('ready');
process.on('message', async (m) => {
  if (m === 'stop') {
    await Promise.all(agents.map((a) => a.close()));
    process.exit(0);
  }
});
