// Child process of the benchmarks: BullMQ workers for the two queues, no-op processors.
import { Worker } from 'bullmq';

const [prefix, concurrency] = process.argv.slice(2);
const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };
const opts = { connection, prefix, concurrency: Number(concurrency), drainDelay: 1 };
const workers = [
  new Worker('backend', async () => ({ ok: true }), opts),
  new Worker('frontend', async () => ({ ok: true }), opts),
];
await Promise.all(workers.map((w) => w.waitUntilReady()));
process.send?.('ready');
process.on('message', async (m) => {
  if (m === 'stop') {
    await Promise.all(workers.map((w) => w.close()));
    process.exit(0);
  }
});
