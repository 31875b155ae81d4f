import { FlowProducer, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';

const N = Number(process.env.N ?? 2000);
const prefix = `bullbench${Date.now()}`;
const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };
const flow = new FlowProducer({ connection, prefix });
let done = 0;
let resolveDone: () => void;
const allDone = new Promise<void>((r) => (resolveDone = r));
const w1 = new Worker('backend', async () => ({ ok: true }), { connection, prefix, concurrency: 50 });
const w2 = new Worker(
  'frontend',
  async () => {
    return { ok: true };
  },
  { connection, prefix, concurrency: 50 },
);
w2.on('completed', () => {
  if (++done === N) resolveDone();
});
await w1.waitUntilReady();
await w2.waitUntilReady();
const t0 = performance.now();
for (let i = 0; i < N; i += 100) {
  await flow.addBulk(
    Array.from({ length: Math.min(100, N - i) }, (_, j) => ({
      name: 'ui_integration',
      queueName: 'frontend',
      data: { i: i + j },
      children: [{ name: 'api_creation', queueName: 'backend', data: {} }],
    })),
  );
}
const tSubmit = performance.now();
await allDone;
const t1 = performance.now();
console.log(
  `bullmq submitted ${N} in ${(tSubmit - t0).toFixed(0)} ms; all completed in ${(t1 - t0).toFixed(0)} ms → ${(N / ((t1 - t0) / 1000)).toFixed(0)} workflows/s`,
);
await w1.close();
await w2.close();
await flow.close();
const r = new Redis();
const keys = await r.keys(`${prefix}:*`);
if (keys.length) await r.del(...keys);
r.disconnect();
process.exit(0);
