// BullMQ under benchmark: the same two-step workload as a flow (parent ui_integration waits for its child
// api_creation), workers in a child process, completion seen through QueueEvents like a client would.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FlowProducer, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };

export async function startBullmqSystem({ concurrency = 50 } = {}) {
  const prefix = `bullbench${randomBytes(4).toString('hex')}`;
  const flow = new FlowProducer({ connection, prefix });
  const events = new QueueEvents('frontend', { connection, prefix });
  await events.waitUntilReady();
  const completedAt = new Map();
  events.on('completed', ({ jobId }) => completedAt.set(jobId, performance.now()));
  const workers = fork(
    path.join(ROOT, 'bench/lib/bullmq-workers-process.mjs'),
    [prefix, String(concurrency)],
    { stdio: 'inherit' },
  );
  await new Promise((resolve) => workers.on('message', (m) => m === 'ready' && resolve()));
  let n = 0;
  return {
    completedAt,
    async submit(count) {
      const jobs = await flow.addBulk(
        Array.from({ length: count }, () => ({
          name: 'ui_integration',
          queueName: 'frontend',
          data: { n: n++ },
          opts: { removeOnComplete: true },
          children: [
            { name: 'api_creation', queueName: 'backend', data: {}, opts: { removeOnComplete: true } },
          ],
        })),
      );
      return jobs.map((j) => j.job.id);
    },
    async waitAll(ids, timeoutMs = 600_000) {
      const deadline = Date.now() + timeoutMs;
      while (ids.some((id) => !completedAt.has(id))) {
        if (Date.now() > deadline) throw new Error('bullmq timed out');
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    async stop() {
      workers.send('stop');
      await new Promise((r) => workers.once('exit', r));
      await events.close();
      await flow.close();
      const r = new Redis();
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await r.del(...keys);
      } while (cursor !== '0');
      r.disconnect();
    },
  };
}
