// `node bench/pipeline-scavenges.mjs [seconds]`: what survives each young-generation collection (scavenge) while
// a process sends 3,000 small pipelines a second, with Hive's lean pipelines and with ioredis's own on the same
// connection (test/fixtures/pipeline-churn.mjs; built output, so `npm run build` first).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REDIS_URL = process.env.HIVE_REDIS_URL ?? 'redis://127.0.0.1:6379';
const seconds = process.argv[2] ?? '5';

for (const which of ['lean', 'ioredis']) {
  const fixture = path.join(ROOT, 'test/fixtures/pipeline-churn.mjs');
  const out = execFileSync(
    process.execPath,
    [fixture, REDIS_URL, which, `bench-churn-${process.pid}`, seconds],
    {
      encoding: 'utf8',
    },
  );
  const r = JSON.parse(out);
  const kb = (bytes) => (bytes / 1024).toFixed(0);
  console.log(
    `${which.padEnd(7)} ${r.pipelines} pipelines, ${r.scavenges} scavenges: survived ${kb(r.survivedBytes)} KB,` +
      ` promoted ${kb(r.promotedBytes)} KB, pause mean ${r.pauseMeanMs.toFixed(2)} ms, max ${r.pauseMaxMs.toFixed(1)} ms`,
  );
}
